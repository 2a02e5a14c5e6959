using System.Globalization;
using System.Text;

namespace Windhover.Flows.Expressions;

/// <summary>Formats and parses dates with java.time.DateTimeFormatter patterns (the subset Kestra flows use).</summary>
internal static class JavaDateFormat
{
    private static readonly string[] MonthsLong = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
    private static readonly string[] DaysLong = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

    internal static readonly Dictionary<string, string> Named = new(StringComparer.Ordinal)
    {
        ["iso"] = "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX",
        ["iso_sec"] = "yyyy-MM-dd'T'HH:mm:ssXXX",
        ["sql"] = "yyyy-MM-dd HH:mm:ss.SSSSSS",
        ["sql_seq"] = "yyyy-MM-dd HH:mm:ss",
        ["sql_seconds"] = "yyyy-MM-dd HH:mm:ss",
        ["iso_date"] = "yyyy-MM-ddXXX",
        ["iso_local_date"] = "yyyy-MM-dd",
        ["iso_local_date_time"] = "yyyy-MM-dd'T'HH:mm:ss",
        ["iso_local_time"] = "HH:mm:ss",
        ["iso_offset_time"] = "HH:mm:ssXXX",
        ["iso_time"] = "HH:mm:ssXXX",
        ["iso_ordinal_date"] = "yyyy-DDDXXX",
        ["iso_week_date"] = "YYYY-'W'ww-eXXX",
        ["rfc_1123_date_time"] = "EEE, d MMM yyyy HH:mm:ss 'GMT'",
    };

    /// <summary>Resolves a Java ZoneId string ("UTC", "Europe/Paris", "+02:00", "Z") to a time zone.</summary>
    public static TimeZoneInfo Zone(string? id)
    {
        if (string.IsNullOrEmpty(id) || id is "UTC" or "Z" or "GMT" or "UT" or "Etc/UTC") return TimeZoneInfo.Utc;
        var s = id;
        if (s.StartsWith("UTC", StringComparison.Ordinal) || s.StartsWith("GMT", StringComparison.Ordinal)) s = s[3..];
        if (s.Length > 0 && (s[0] == '+' || s[0] == '-'))
        {
            var sign = s[0] == '-' ? -1 : 1;
            var body = s[1..].Replace(":", "", StringComparison.Ordinal);
            int h, m = 0;
            if (body.Length <= 2 && int.TryParse(body, NumberStyles.None, CultureInfo.InvariantCulture, out h)) { }
            else if (body.Length == 4 && int.TryParse(body[..2], NumberStyles.None, CultureInfo.InvariantCulture, out h) && int.TryParse(body[2..], NumberStyles.None, CultureInfo.InvariantCulture, out m)) { }
            else throw new ExpressionException($"Invalid time zone '{id}'");
            var offset = new TimeSpan(sign * h, sign * m, 0);
            return TimeZoneInfo.CreateCustomTimeZone(id, offset, id, id);
        }
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(id);
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            throw new ExpressionException($"Unknown time zone '{id}'", e);
        }
    }

    public static DateTimeOffset InZone(DateTimeOffset value, TimeZoneInfo zone) => TimeZoneInfo.ConvertTime(value, zone);

    public static string Format(DateTimeOffset d, string pattern, TimeZoneInfo? zone = null)
    {
        if (Named.TryGetValue(pattern, out var named)) pattern = named;
        else if (pattern == "iso_instant") return InZone(d, TimeZoneInfo.Utc).ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture) + Fraction(d, true) + "Z";
        else if (pattern is "iso_date_time" or "iso_zoned_date_time" or "iso_offset_date_time")
            return Format(d, "yyyy-MM-dd'T'HH:mm:ss", zone) + Fraction(d, true) + Format(d, "XXX", zone) + (pattern != "iso_offset_date_time" && zone != null && zone != TimeZoneInfo.Utc && !zone.Id.StartsWith('+') && !zone.Id.StartsWith('-') ? "[" + zone.Id + "]" : "");
        if (zone != null) d = InZone(d, zone);
        var sb = new StringBuilder(pattern.Length + 8);
        int i = 0;
        while (i < pattern.Length)
        {
            char c = pattern[i];
            if (c == '\'')
            {
                int j = i + 1;
                if (j < pattern.Length && pattern[j] == '\'') { sb.Append('\''); i += 2; continue; }
                while (j < pattern.Length)
                {
                    if (pattern[j] == '\'')
                    {
                        if (j + 1 < pattern.Length && pattern[j + 1] == '\'') { sb.Append('\''); j += 2; continue; }
                        break;
                    }
                    sb.Append(pattern[j]);
                    j++;
                }
                if (j >= pattern.Length) throw new ExpressionException($"Invalid date pattern '{pattern}': unterminated quote");
                i = j + 1;
                continue;
            }
            if (c is '[' or ']') { i++; continue; }
            if (!char.IsAsciiLetter(c)) { sb.Append(c); i++; continue; }
            int n = 1;
            while (i + n < pattern.Length && pattern[i + n] == c) n++;
            i += n;
            AppendField(sb, d, c, n, pattern);
        }
        return sb.ToString();
    }

    private static string Fraction(DateTimeOffset d, bool isoStyle)
    {
        long ticks = d.Ticks % TimeSpan.TicksPerSecond;
        if (ticks == 0) return "";
        var s = (ticks * 100).ToString("D9", CultureInfo.InvariantCulture);
        // ISO_LOCAL_TIME prints 3, 6 or 9 digits
        if (s.EndsWith("000000", StringComparison.Ordinal)) return "." + s[..3];
        if (s.EndsWith("000", StringComparison.Ordinal)) return "." + s[..6];
        return isoStyle ? "." + s : "." + s;
    }

    private static void Pad(StringBuilder sb, long v, int width)
    {
        if (v < 0) { sb.Append('-'); v = -v; }
        var s = v.ToString(CultureInfo.InvariantCulture);
        for (int k = s.Length; k < width; k++) sb.Append('0');
        sb.Append(s);
    }

    private static void AppendField(StringBuilder sb, DateTimeOffset d, char c, int n, string pattern)
    {
        switch (c)
        {
            case 'y' or 'u' or 'Y':
                if (n == 2) Pad(sb, d.Year % 100, 2);
                else Pad(sb, d.Year, n);
                break;
            case 'M' or 'L':
                if (n >= 4) sb.Append(MonthsLong[d.Month - 1]);
                else if (n == 3) sb.Append(MonthsLong[d.Month - 1], 0, 3);
                else Pad(sb, d.Month, n);
                break;
            case 'd': Pad(sb, d.Day, n); break;
            case 'D': Pad(sb, d.DayOfYear, n); break;
            case 'H': Pad(sb, d.Hour, n); break;
            case 'h': Pad(sb, d.Hour % 12 == 0 ? 12 : d.Hour % 12, n); break;
            case 'k': Pad(sb, d.Hour == 0 ? 24 : d.Hour, n); break;
            case 'K': Pad(sb, d.Hour % 12, n); break;
            case 'm': Pad(sb, d.Minute, n); break;
            case 's': Pad(sb, d.Second, n); break;
            case 'S':
                {
                    var frac = (d.Ticks % TimeSpan.TicksPerSecond * 100).ToString("D9", CultureInfo.InvariantCulture);
                    if (n <= 9) sb.Append(frac, 0, n);
                    else { sb.Append(frac); sb.Append('0', n - 9); }
                    break;
                }
            case 'n': Pad(sb, d.Ticks % TimeSpan.TicksPerSecond * 100, n); break;
            case 'A': Pad(sb, (long)d.TimeOfDay.TotalMilliseconds, n); break;
            case 'a': sb.Append(d.Hour < 12 ? "AM" : "PM"); break;
            case 'E':
                if (n >= 4) sb.Append(DaysLong[(int)d.DayOfWeek]);
                else sb.Append(DaysLong[(int)d.DayOfWeek], 0, 3);
                break;
            case 'e' or 'c':
                {
                    int dow = d.DayOfWeek == DayOfWeek.Sunday ? 7 : (int)d.DayOfWeek; // ISO: Monday = 1
                    if (n >= 4) sb.Append(DaysLong[(int)d.DayOfWeek]);
                    else if (n == 3) sb.Append(DaysLong[(int)d.DayOfWeek], 0, 3);
                    else Pad(sb, dow, n);
                    break;
                }
            case 'w': Pad(sb, ISOWeek.GetWeekOfYear(d.DateTime), n); break;
            case 'Q' or 'q':
                if (n >= 3) sb.Append('Q').Append((d.Month - 1) / 3 + 1);
                else Pad(sb, (d.Month - 1) / 3 + 1, n);
                break;
            case 'G': sb.Append(n >= 4 ? "Anno Domini" : "AD"); break;
            case 'X' or 'x':
                {
                    var off = d.Offset;
                    if (c == 'X' && off == TimeSpan.Zero) { sb.Append('Z'); break; }
                    AppendOffset(sb, off, n == 1 ? (off.Minutes == 0 ? 0 : 1) : n == 2 || n == 4 ? 1 : 2, n == 1);
                    break;
                }
            case 'Z':
                {
                    var off = d.Offset;
                    if (n <= 3) AppendOffset(sb, off, 1, false);
                    else if (n == 4) { sb.Append("GMT"); if (off != TimeSpan.Zero) AppendOffset(sb, off, 2, false); }
                    else if (off == TimeSpan.Zero) sb.Append('Z');
                    else AppendOffset(sb, off, 2, false);
                    break;
                }
            case 'O':
                {
                    var off = d.Offset;
                    sb.Append("GMT");
                    if (off != TimeSpan.Zero)
                    {
                        sb.Append(off < TimeSpan.Zero ? '-' : '+');
                        var a = off.Duration();
                        if (n == 4) { Pad(sb, a.Hours, 2); sb.Append(':'); Pad(sb, a.Minutes, 2); }
                        else { sb.Append(a.Hours); if (a.Minutes != 0) { sb.Append(':'); Pad(sb, a.Minutes, 2); } }
                    }
                    break;
                }
            case 'V' or 'z':
                sb.Append(d.Offset == TimeSpan.Zero ? (c == 'V' ? "Z" : "UTC") : Format(d, "XXX"));
                break;
            default:
                throw new ExpressionException($"Unknown pattern letter: {c} in date pattern '{pattern}'");
        }
    }

    // style 0: +HH, 1: +HHMM, 2: +HH:MM
    private static void AppendOffset(StringBuilder sb, TimeSpan off, int style, bool optionalMinutes)
    {
        sb.Append(off < TimeSpan.Zero ? '-' : '+');
        var a = off.Duration();
        Pad(sb, a.Hours, 2);
        if (style == 0) return;
        if (style == 2) sb.Append(':');
        Pad(sb, a.Minutes, 2);
    }

    /// <summary>Parses text with a Java pattern (existingFormat). Values without zone use <paramref name="zone"/>.</summary>
    public static DateTimeOffset Parse(string text, string pattern, TimeZoneInfo zone)
    {
        if (Named.TryGetValue(pattern, out var named)) pattern = named;
        var net = ToNetPattern(pattern, out bool hasOffset, out bool hasDate, out bool hasTime);
        if (hasOffset)
        {
            if (DateTimeOffset.TryParseExact(text, net, CultureInfo.InvariantCulture, DateTimeStyles.AllowWhiteSpaces, out var dto)) return dto;
        }
        else if (DateTime.TryParseExact(text, net, CultureInfo.InvariantCulture, DateTimeStyles.AllowWhiteSpaces, out var dt))
        {
            if (!hasTime) dt = dt.Date;
            return Localize(dt, zone);
        }
        throw new ExpressionException($"Text '{text}' could not be parsed with format '{pattern}'");
    }

    private static DateTimeOffset Localize(DateTime dt, TimeZoneInfo zone)
    {
        dt = DateTime.SpecifyKind(dt, DateTimeKind.Unspecified);
        return new DateTimeOffset(dt, zone.GetUtcOffset(dt));
    }

    private static string ToNetPattern(string pattern, out bool hasOffset, out bool hasDate, out bool hasTime)
    {
        hasOffset = false; hasDate = false; hasTime = false;
        var sb = new StringBuilder();
        int i = 0;
        while (i < pattern.Length)
        {
            char c = pattern[i];
            if (c == '\'')
            {
                int j = pattern.IndexOf('\'', i + 1);
                if (j < 0) j = pattern.Length;
                var lit = pattern[(i + 1)..j];
                sb.Append('\'').Append(lit.Length == 0 ? "\\'" : lit).Append('\'');
                i = j + 1;
                continue;
            }
            if (!char.IsAsciiLetter(c))
            {
                if (c is '[' or ']') { i++; continue; }
                sb.Append('\'').Append(c).Append('\'');
                i++;
                continue;
            }
            int n = 1;
            while (i + n < pattern.Length && pattern[i + n] == c) n++;
            i += n;
            switch (c)
            {
                case 'y' or 'u' or 'Y': sb.Append(n == 2 ? "yy" : "yyyy"); hasDate = true; break;
                case 'M' or 'L': sb.Append(new string('M', Math.Min(n, 4))); hasDate = true; break;
                case 'd': sb.Append(n >= 2 ? "dd" : "d"); hasDate = true; break;
                case 'H' or 'k': sb.Append(n >= 2 ? "HH" : "H"); hasTime = true; break;
                case 'h' or 'K': sb.Append(n >= 2 ? "hh" : "h"); hasTime = true; break;
                case 'm': sb.Append(n >= 2 ? "mm" : "m"); hasTime = true; break;
                case 's': sb.Append(n >= 2 ? "ss" : "s"); hasTime = true; break;
                case 'S': sb.Append(new string('f', Math.Min(n, 7))); break;
                case 'a': sb.Append("tt"); break;
                case 'E': sb.Append(n >= 4 ? "dddd" : "ddd"); break;
                case 'X' or 'x' or 'Z': sb.Append('K'); hasOffset = true; break;
                default: throw new ExpressionException($"Unsupported pattern letter '{c}' in existingFormat '{pattern}'");
            }
        }
        return sb.ToString();
    }

    /// <summary>Java's ZonedDateTime.parse / LocalDateTime.parse / LocalDate.parse chain for ISO text.</summary>
    public static DateTimeOffset ParseIso(string text, TimeZoneInfo zone)
    {
        var s = text.Trim();
        int bracket = s.IndexOf('[');
        TimeZoneInfo? named = null;
        if (bracket > 0 && s.EndsWith(']'))
        {
            named = Zone(s[(bracket + 1)..^1]);
            s = s[..bracket];
        }
        int tIndex = s.IndexOf('T');
        bool hasOffset = tIndex > 0 && (s.EndsWith('Z') || s.EndsWith('z') || s.IndexOf('+', tIndex) > 0 || s.IndexOf('-', tIndex) > 0);
        if (hasOffset && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AllowWhiteSpaces, out var dto))
            return named != null ? TimeZoneInfo.ConvertTime(dto, named) : dto;
        if (tIndex > 0 && DateTime.TryParseExact(s, ["yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var ldt))
            return Localize(ldt, named ?? zone);
        if (tIndex < 0 && DateTime.TryParseExact(s, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var ld))
            return Localize(ld, named ?? zone);
        throw new ExpressionException($"Text '{text}' could not be parsed as a date");
    }
}

using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Windhover.Flows.Expressions;

/// <summary>
/// Helpers for the engine's value model: null, bool, long, double, string, DateTimeOffset,
/// lists (<see cref="IReadOnlyList{T}"/> of object?) and insertion-ordered maps
/// (<see cref="IReadOnlyDictionary{TKey,TValue}"/> of string to object?).
/// </summary>
public static class ExpressionValues
{
    /// <summary>Converts any supported CLR value (ints, decimals, JSON elements/nodes, dictionaries, enumerables) to the value model.</summary>
    public static object? Normalize(object? value)
    {
        switch (value)
        {
            case null: return null;
            case string or long or bool or double or DateTimeOffset: return value;
            case int i: return (long)i;
            case short s: return (long)s;
            case byte b: return (long)b;
            case sbyte sb: return (long)sb;
            case uint ui: return (long)ui;
            case ushort us: return (long)us;
            case ulong ul: return ul <= long.MaxValue ? (long)ul : (double)ul;
            case float f: return double.Parse(f.ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
            case decimal m: return m.Scale == 0 && m >= long.MinValue && m <= long.MaxValue ? (object)(long)m : (double)m;
            case char c: return c.ToString();
            case DateTime dt: return dt.Kind == DateTimeKind.Unspecified ? new DateTimeOffset(dt, TimeSpan.Zero) : new DateTimeOffset(dt);
            case DateOnly d: return d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            case TimeSpan ts: return JavaDuration(ts);
            case Guid g: return g.ToString();
            case Uri u: return u.ToString();
            case Enum e: return e.ToString();
            case JsonElement je: return FromJsonElement(je);
            case JsonNode jn: return FromJsonNode(jn);
            case IReadOnlyDictionary<string, object?> map0: return NormalizeMap(map0);
            case IDictionary dict:
                {
                    var result = new OrderedDictionary<string, object?>();
                    foreach (DictionaryEntry e in dict) result[Convert.ToString(e.Key, CultureInfo.InvariantCulture) ?? ""] = Normalize(e.Value);
                    return result;
                }
            case IEnumerable<KeyValuePair<string, object?>> pairs:
                {
                    var result = new OrderedDictionary<string, object?>();
                    foreach (var kv in pairs) result[kv.Key] = Normalize(kv.Value);
                    return result;
                }
            case IEnumerable en:
                {
                    var list = new List<object?>();
                    foreach (var item in en) list.Add(Normalize(item));
                    return list;
                }
            default: return value;
        }
    }

    private static OrderedDictionary<string, object?> NormalizeMap(IReadOnlyDictionary<string, object?> map)
    {
        var result = new OrderedDictionary<string, object?>();
        foreach (var kv in map) result[kv.Key] = Normalize(kv.Value);
        return result;
    }

    /// <summary>Cheap normalisation for values read from variables: leaves value-model values alone (no allocation).</summary>
    internal static object? Light(object? value)
    {
        switch (value)
        {
            case null or string or long or bool or double or DateTimeOffset: return value;
            case IReadOnlyDictionary<string, object?> or IReadOnlyList<object?>: return value;
            default: return Normalize(value);
        }
    }

    private static string JavaDuration(TimeSpan ts)
    {
        // ISO-8601 like java.time.Duration.toString()
        if (ts == TimeSpan.Zero) return "PT0S";
        var sb = new StringBuilder("PT");
        long totalSeconds = (long)Math.Floor(ts.TotalSeconds);
        long hours = totalSeconds / 3600, minutes = totalSeconds % 3600 / 60, seconds = totalSeconds % 60;
        if (hours != 0) sb.Append(hours).Append('H');
        if (minutes != 0) sb.Append(minutes).Append('M');
        var frac = ts.Ticks % TimeSpan.TicksPerSecond;
        if (seconds != 0 || frac != 0)
        {
            sb.Append(seconds);
            if (frac != 0) sb.Append('.').Append((frac * 100).ToString("D9", CultureInfo.InvariantCulture).TrimEnd('0'));
            sb.Append('S');
        }
        return sb.ToString();
    }

    /// <summary>Converts a JSON element to the value model.</summary>
    public static object? FromJsonElement(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                {
                    var map = new OrderedDictionary<string, object?>();
                    foreach (var p in element.EnumerateObject()) map[p.Name] = FromJsonElement(p.Value);
                    return map;
                }
            case JsonValueKind.Array:
                {
                    var list = new List<object?>(element.GetArrayLength());
                    foreach (var item in element.EnumerateArray()) list.Add(FromJsonElement(item));
                    return list;
                }
            case JsonValueKind.String: return element.GetString();
            case JsonValueKind.Number:
                {
                    var raw = element.GetRawText();
                    if (raw.IndexOfAny(['.', 'e', 'E']) < 0 && element.TryGetInt64(out var l)) return l;
                    return element.GetDouble();
                }
            case JsonValueKind.True: return true;
            case JsonValueKind.False: return false;
            default: return null;
        }
    }

    /// <summary>Converts a JSON node to the value model.</summary>
    public static object? FromJsonNode(JsonNode? node)
    {
        if (node is null) return null;
        return FromJsonElement(JsonSerializer.SerializeToElement(node));
    }

    /// <summary>Parses JSON text into the value model.</summary>
    public static object? FromJson(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Skip });
            return FromJsonElement(doc.RootElement);
        }
        catch (JsonException e)
        {
            throw new ExpressionException($"Invalid JSON: {e.Message}", e);
        }
    }

    /// <summary>Writes a value as compact JSON, the way Kestra's Jackson mapper prints it.</summary>
    public static string ToJson(object? value)
    {
        var sb = new StringBuilder();
        WriteJson(sb, value);
        return sb.ToString();
    }

    internal static void WriteJson(StringBuilder sb, object? value)
    {
        value = Light(value);
        switch (value)
        {
            case null: sb.Append("null"); break;
            case bool b: sb.Append(b ? "true" : "false"); break;
            case long l: sb.Append(l.ToString(CultureInfo.InvariantCulture)); break;
            case double d:
                if (double.IsNaN(d) || double.IsInfinity(d)) { sb.Append('"').Append(JavaDouble(d)).Append('"'); }
                else sb.Append(JavaDouble(d));
                break;
            case string s: WriteJsonString(sb, s); break;
            case DateTimeOffset dto: WriteJsonString(sb, FormatDate(dto)); break;
            case IReadOnlyDictionary<string, object?> map:
                {
                    sb.Append('{');
                    bool first = true;
                    foreach (var kv in map)
                    {
                        if (!first) sb.Append(',');
                        first = false;
                        WriteJsonString(sb, kv.Key);
                        sb.Append(':');
                        WriteJson(sb, kv.Value);
                    }
                    sb.Append('}');
                    break;
                }
            case IReadOnlyList<object?> list:
                {
                    sb.Append('[');
                    for (int i = 0; i < list.Count; i++)
                    {
                        if (i > 0) sb.Append(',');
                        WriteJson(sb, list[i]);
                    }
                    sb.Append(']');
                    break;
                }
            default: WriteJsonString(sb, Convert.ToString(value, CultureInfo.InvariantCulture) ?? ""); break;
        }
    }

    internal static void WriteJsonString(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20) sb.Append("\\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }

    /// <summary>Pebble-style truthiness used by the <c>if</c> tag for booleans, numbers and strings; null is false.</summary>
    /// <remarks>Kestra conditions (If task, runIf): strings "false", "0", "-0" and "" are false too (TruthUtils).</remarks>
    public static bool IsTruthy(object? value)
    {
        value = Light(value);
        return value switch
        {
            null => false,
            bool b => b,
            long l => l != 0,
            double d => !double.IsNaN(d) && d != 0.0,
            string s => !(s.Length == 0 || s.Trim() is "false" or "0" or "-0" or ""),
            IReadOnlyList<object?> list => list.Count > 0,
            IReadOnlyDictionary<string, object?> map => map.Count > 0,
            _ => true,
        };
    }

    /// <summary>Converts a value to text as Pebble prints it: null → "", maps/lists → JSON, doubles like Java.</summary>
    public static string ToText(object? value)
    {
        switch (value)
        {
            case null: return "";
            case string s: return s;
            case bool b: return b ? "true" : "false";
            case long l: return l.ToString(CultureInfo.InvariantCulture);
            case double d: return JavaDouble(d);
            case DateTimeOffset dto: return FormatDate(dto);
            case IReadOnlyDictionary<string, object?> or IReadOnlyList<object?>: return ToJson(value);
            default:
                var n = Normalize(value);
                return ReferenceEquals(n, value) ? Convert.ToString(value, CultureInfo.InvariantCulture) ?? "" : ToText(n);
        }
    }

    /// <summary>Default date printing (Kestra's "iso" format: yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX).</summary>
    internal static string FormatDate(DateTimeOffset dto) => JavaDateFormat.Format(dto, "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX");

    /// <summary>Formats a double the way Java's Double.toString does (1.0, 2.5, 1.0E10, 1.0E-5).</summary>
    public static string JavaDouble(double d)
    {
        if (double.IsNaN(d)) return "NaN";
        if (double.IsPositiveInfinity(d)) return "Infinity";
        if (double.IsNegativeInfinity(d)) return "-Infinity";
        if (d == 0) return double.IsNegative(d) ? "-0.0" : "0.0";
        var abs = Math.Abs(d);
        var r = d.ToString("R", CultureInfo.InvariantCulture);
        if (abs >= 1e-3 && abs < 1e7)
        {
            if (r.Contains('E'))
            {
                r = ((decimal)d).ToString(CultureInfo.InvariantCulture);
            }
            return r.Contains('.') ? r : r + ".0";
        }
        // scientific: extract digits and exponent
        bool neg = d < 0;
        var s = abs.ToString("R", CultureInfo.InvariantCulture);
        string mantissa = s;
        int exp = 0;
        int ei = s.IndexOf('E');
        if (ei >= 0)
        {
            mantissa = s[..ei];
            exp = int.Parse(s[(ei + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        }
        int dot = mantissa.IndexOf('.');
        string intPart = dot < 0 ? mantissa : mantissa[..dot];
        string fracPart = dot < 0 ? "" : mantissa[(dot + 1)..];
        string digits = (intPart + fracPart).TrimStart('0');
        int leadingZeros = (intPart + fracPart).Length - digits.Length;
        // position of decimal point relative to start of digits
        int pointPos = intPart.Length - leadingZeros + exp;
        digits = digits.TrimEnd('0');
        if (digits.Length == 0) digits = "0";
        int javaExp = pointPos - 1;
        var rest = digits.Length > 1 ? digits[1..] : "0";
        return (neg ? "-" : "") + digits[0] + "." + rest + "E" + javaExp.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>A short type name used in error messages.</summary>
    internal static string TypeName(object? value) => value switch
    {
        null => "null",
        string => "String",
        long => "Long",
        double => "Double",
        bool => "Boolean",
        DateTimeOffset => "Date",
        IReadOnlyDictionary<string, object?> => "Map",
        IReadOnlyList<object?> => "List",
        _ => value.GetType().Name,
    };
}

using System.Globalization;
using System.Text.RegularExpressions;

namespace Windhover.Flows.Validation;

/// <summary>ISO-8601 durations as java.time.Duration accepts them: <c>PnDTnHnMn.nS</c>, case-insensitive.</summary>
public static partial class IsoDuration
{
    [GeneratedRegex(@"^([-+]?)P(?:([-+]?[0-9]+)D)?(T(?:([-+]?[0-9]+)H)?(?:([-+]?[0-9]+)M)?(?:([-+]?[0-9]+)(?:[.,]([0-9]{0,9}))?S)?)?$",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    public static bool TryParse(string text, out TimeSpan value)
    {
        value = default;
        var m = Pattern().Match(text);
        if (!m.Success || (m.Groups[3].Success && m.Groups[3].Value.Equals("T", StringComparison.OrdinalIgnoreCase)) ||
            !(m.Groups[2].Success || m.Groups[4].Success || m.Groups[5].Success || m.Groups[6].Success))
        {
            return false;
        }

        try
        {
            long ticks = 0;
            ticks = checked(ticks + Part(m.Groups[2]) * TimeSpan.TicksPerDay);
            ticks = checked(ticks + Part(m.Groups[4]) * TimeSpan.TicksPerHour);
            ticks = checked(ticks + Part(m.Groups[5]) * TimeSpan.TicksPerMinute);
            var seconds = Part(m.Groups[6]);
            long fraction = 0;
            if (m.Groups[7].Success && m.Groups[7].Value.Length > 0)
            {
                var f = m.Groups[7].Value.PadRight(7, '0')[..7];
                fraction = long.Parse(f, CultureInfo.InvariantCulture);
                if (m.Groups[6].Value.StartsWith('-'))
                {
                    fraction = -fraction;
                }
            }

            ticks = checked(ticks + seconds * TimeSpan.TicksPerSecond + fraction);
            value = TimeSpan.FromTicks(m.Groups[1].Value == "-" ? -ticks : ticks);
            return true;
        }
        catch (OverflowException)
        {
            return false;
        }
    }

    private static long Part(Group g) => g.Success ? long.Parse(g.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture) : 0;
}

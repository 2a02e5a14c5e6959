namespace Windhover.Ui;

/// <summary>A line diff (longest common subsequence) between two flow sources, as a unified list of kept, removed and added lines.</summary>
internal static class LineDiff
{
    public enum Kind { Same, Removed, Added }

    /// <summary>One line of the diff with its line numbers on the left (old) and right (new) side.</summary>
    public sealed record Line(Kind Kind, int? Left, int? Right, string Text);

    /// <summary>Above this many line pairs the common prefix and suffix are kept and the middle is shown as replaced.</summary>
    private const long MaxCells = 4_000_000;

    public static IReadOnlyList<Line> Of(string left, string right)
    {
        var a = Split(left);
        var b = Split(right);
        var prefix = 0;
        while (prefix < a.Length && prefix < b.Length && a[prefix] == b[prefix])
        {
            prefix++;
        }

        var suffix = 0;
        while (suffix < a.Length - prefix && suffix < b.Length - prefix && a[^(suffix + 1)] == b[^(suffix + 1)])
        {
            suffix++;
        }

        var result = new List<Line>(a.Length + b.Length);
        for (var i = 0; i < prefix; i++)
        {
            result.Add(new Line(Kind.Same, i + 1, i + 1, a[i]));
        }

        var n = a.Length - prefix - suffix;
        var m = b.Length - prefix - suffix;
        if ((long)n * m > MaxCells)
        {
            for (var i = 0; i < n; i++)
            {
                result.Add(new Line(Kind.Removed, prefix + i + 1, null, a[prefix + i]));
            }

            for (var j = 0; j < m; j++)
            {
                result.Add(new Line(Kind.Added, null, prefix + j + 1, b[prefix + j]));
            }
        }
        else
        {
            // lcs[i, j]: length of the LCS of a[prefix+i..] and b[prefix+j..] (middle part only).
            var lcs = new int[n + 1, m + 1];
            for (var i = n - 1; i >= 0; i--)
            {
                for (var j = m - 1; j >= 0; j--)
                {
                    lcs[i, j] = a[prefix + i] == b[prefix + j] ? lcs[i + 1, j + 1] + 1 : Math.Max(lcs[i + 1, j], lcs[i, j + 1]);
                }
            }

            int x = 0, y = 0;
            while (x < n || y < m)
            {
                if (x < n && y < m && a[prefix + x] == b[prefix + y])
                {
                    result.Add(new Line(Kind.Same, prefix + x + 1, prefix + y + 1, a[prefix + x]));
                    x++;
                    y++;
                }
                else if (x < n && (y == m || lcs[x + 1, y] >= lcs[x, y + 1]))
                {
                    result.Add(new Line(Kind.Removed, prefix + x + 1, null, a[prefix + x]));
                    x++;
                }
                else
                {
                    result.Add(new Line(Kind.Added, null, prefix + y + 1, b[prefix + y]));
                    y++;
                }
            }
        }

        for (var i = suffix; i > 0; i--)
        {
            result.Add(new Line(Kind.Same, a.Length - i + 1, b.Length - i + 1, a[^i]));
        }

        return result;
    }

    private static string[] Split(string text) => text.Replace("\r\n", "\n", StringComparison.Ordinal).TrimEnd('\n').Split('\n');
}

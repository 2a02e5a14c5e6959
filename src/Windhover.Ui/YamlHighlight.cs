using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace Windhover.Ui;

/// <summary>
/// A small line-based YAML highlighter for flows: keys, list dashes, strings, <c>{{ expressions }}</c>, literals
/// (numbers, booleans, null) and comments, as HTML spans. The editor's inline script applies the same rules
/// (<see cref="Script"/>) while typing; this one renders read-only sources (revisions, diffs) and the editor's first paint.
/// </summary>
internal static partial class YamlHighlight
{
    [GeneratedRegex(@"^(\s*)(-\s+)?([A-Za-z0-9_.\-]+|""[^""]*""|'[^']*')(\s*:)(?=\s|$)")]
    private static partial Regex KeyRegex();

    [GeneratedRegex(@"^(\s*)(-)(?=\s|$)")]
    private static partial Regex DashRegex();

    // Same alternation as the script: expression, double-quoted string, single-quoted string, comment.
    [GeneratedRegex(@"(\{\{.*?\}\})|(""(?:[^""\\]|\\.)*""?)|('(?:[^']|'')*'?)|((?:^|(?<=\s))#.*$)")]
    private static partial Regex TokenRegex();

    [GeneratedRegex(@"^\s*(-?\d+(\.\d+)?|true|false|null|~|[|>][-+]?)\s*$")]
    private static partial Regex LiteralRegex();

    [GeneratedRegex(@"\{\{.*?\}\}")]
    private static partial Regex ExpressionRegex();

    public static string Line(string line)
    {
        var html = new StringBuilder();
        var rest = line;
        if (KeyRegex().Match(line) is { Success: true } key)
        {
            html.Append(Encode(key.Groups[1].Value));
            if (key.Groups[2].Success)
            {
                html.Append("<span class=\"y-p\">").Append(Encode(key.Groups[2].Value)).Append("</span>");
            }

            html.Append("<span class=\"y-k\">").Append(Encode(key.Groups[3].Value)).Append("</span>")
                .Append("<span class=\"y-p\">").Append(Encode(key.Groups[4].Value)).Append("</span>");
            rest = line[key.Length..];
        }
        else if (DashRegex().Match(line) is { Success: true } dash)
        {
            html.Append(Encode(dash.Groups[1].Value)).Append("<span class=\"y-p\">-</span>");
            rest = line[dash.Length..];
        }

        if (LiteralRegex().IsMatch(rest))
        {
            return html.Append("<span class=\"y-l\">").Append(Encode(rest)).Append("</span>").ToString();
        }

        var at = 0;
        foreach (Match token in TokenRegex().Matches(rest))
        {
            html.Append(Encode(rest[at..token.Index]));
            if (token.Groups[1].Success)
            {
                html.Append("<span class=\"y-e\">").Append(Encode(token.Value)).Append("</span>");
            }
            else if (token.Groups[4].Success)
            {
                html.Append("<span class=\"y-c\">").Append(Encode(token.Value)).Append("</span>");
            }
            else
            {
                html.Append("<span class=\"y-s\">").Append(ExpressionRegex().Replace(Encode(token.Value), m => $"<span class=\"y-e\">{m.Value}</span>")).Append("</span>");
            }

            at = token.Index + token.Length;
        }

        return html.Append(Encode(rest[at..])).ToString();
    }

    /// <summary>The whole source, one line per <c>\n</c> (the overlay of the editor).</summary>
    public static string Source(string source) => string.Join("\n", source.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n').Select(Line));

    private static string Encode(string text) => WebUtility.HtmlEncode(text);

    /// <summary>The same rules in JavaScript: <c>hl(line)</c> returns the line's HTML.</summary>
    public const string Script = """
        const hlEnc = s => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
        const hlSpan = (c, s) => '<span class="' + c + '">' + s + '</span>';
        const hl = line => {
          let html = '', rest = line, m;
          if ((m = /^(\s*)(-\s+)?([A-Za-z0-9_.\-]+|"[^"]*"|'[^']*')(\s*:)(?=\s|$)/.exec(line))) {
            html = hlEnc(m[1]) + (m[2] ? hlSpan('y-p', hlEnc(m[2])) : '') + hlSpan('y-k', hlEnc(m[3])) + hlSpan('y-p', hlEnc(m[4]));
            rest = line.slice(m[0].length);
          } else if ((m = /^(\s*)(-)(?=\s|$)/.exec(line))) {
            html = hlEnc(m[1]) + hlSpan('y-p', '-');
            rest = line.slice(m[0].length);
          }
          if (/^\s*(-?\d+(\.\d+)?|true|false|null|~|[|>][-+]?)\s*$/.test(rest)) return html + hlSpan('y-l', hlEnc(rest));
          const re = /(\{\{.*?\}\})|("(?:[^"\\]|\\.)*"?)|('(?:[^']|'')*'?)|((?:^|(?<=\s))#.*$)/g;
          let at = 0;
          while ((m = re.exec(rest))) {
            if (m[0].length === 0) { re.lastIndex++; continue; }
            html += hlEnc(rest.slice(at, m.index));
            if (m[1]) html += hlSpan('y-e', hlEnc(m[0]));
            else if (m[4]) html += hlSpan('y-c', hlEnc(m[0]));
            else html += hlSpan('y-s', hlEnc(m[0]).replace(/\{\{.*?\}\}/g, e => hlSpan('y-e', e)));
            at = m.index + m[0].length;
          }
          return html + hlEnc(rest.slice(at));
        };
        """;
}

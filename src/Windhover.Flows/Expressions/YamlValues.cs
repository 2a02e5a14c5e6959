using System.Globalization;
using System.Text;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Windhover.Flows.Expressions;

/// <summary>YAML parsing (to the value model) and emitting (Jackson YAML style, minimal quotes).</summary>
internal static class YamlValues
{
    public static object? Parse(string text)
    {
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            if (stream.Documents.Count == 0) return null;
            return Convert(stream.Documents[0].RootNode);
        }
        catch (YamlException e)
        {
            throw new ExpressionException($"Invalid YAML: {e.Message}", e);
        }
    }

    private static object? Convert(YamlNode node)
    {
        switch (node)
        {
            case YamlMappingNode map:
                {
                    var result = new OrderedDictionary<string, object?>();
                    foreach (var kv in map.Children) result[((kv.Key as YamlScalarNode)?.Value) ?? ExpressionValues.ToText(Convert(kv.Key))] = Convert(kv.Value);
                    return result;
                }
            case YamlSequenceNode seq:
                return seq.Children.Select(Convert).ToList();
            case YamlScalarNode scalar:
                {
                    var v = scalar.Value ?? "";
                    if (scalar.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted or ScalarStyle.Literal or ScalarStyle.Folded) return v;
                    if (!scalar.Tag.IsEmpty && !scalar.Tag.IsNonSpecific && scalar.Tag.Value == "tag:yaml.org,2002:str") return v;
                    return PlainScalar(v);
                }
            default: return null;
        }
    }

    private static object? PlainScalar(string v)
    {
        switch (v)
        {
            case "" or "~" or "null" or "Null" or "NULL": return null;
            case "true" or "True" or "TRUE": return true;
            case "false" or "False" or "FALSE": return false;
        }
        if (long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)) return l;
        if (v.StartsWith("0x", StringComparison.Ordinal) && long.TryParse(v[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var hx)) return hx;
        if ((char.IsAsciiDigit(v[0]) || v[0] is '-' or '+' or '.') && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) return d;
        if (v is ".inf" or ".Inf" or "+.inf") return double.PositiveInfinity;
        if (v is "-.inf" or "-.Inf") return double.NegativeInfinity;
        if (v is ".nan" or ".NaN") return double.NaN;
        return v;
    }

    public static string Emit(object? value)
    {
        var sb = new StringBuilder();
        value = ExpressionValues.Light(value);
        switch (value)
        {
            case IReadOnlyDictionary<string, object?> m when m.Count > 0: EmitMap(sb, m, 0); break;
            case IReadOnlyList<object?> l when l.Count > 0: EmitList(sb, l, 0); break;
            default: sb.Append(Scalar(value)).Append('\n'); break;
        }
        return sb.ToString();
    }

    private static void EmitMap(StringBuilder sb, IReadOnlyDictionary<string, object?> map, int indent)
    {
        bool first = true;
        foreach (var kv in map)
        {
            if (!first || indent >= 0) sb.Append(' ', Math.Max(indent, 0));
            first = false;
            sb.Append(Quote(kv.Key)).Append(':');
            EmitValue(sb, ExpressionValues.Light(kv.Value), indent);
        }
    }

    private static void EmitValue(StringBuilder sb, object? v, int indent)
    {
        switch (v)
        {
            case IReadOnlyDictionary<string, object?> m when m.Count > 0:
                sb.Append('\n');
                EmitMap(sb, m, indent + 2);
                break;
            case IReadOnlyList<object?> l when l.Count > 0:
                sb.Append('\n');
                EmitList(sb, l, indent);
                break;
            default:
                sb.Append(' ').Append(Scalar(v)).Append('\n');
                break;
        }
    }

    private static void EmitList(StringBuilder sb, IReadOnlyList<object?> list, int indent)
    {
        foreach (var raw in list)
        {
            var item = ExpressionValues.Light(raw);
            sb.Append(' ', indent).Append('-');
            switch (item)
            {
                case IReadOnlyDictionary<string, object?> m when m.Count > 0:
                    {
                        bool first = true;
                        foreach (var kv in m)
                        {
                            if (first) sb.Append(' ');
                            else sb.Append(' ', indent + 2);
                            first = false;
                            sb.Append(Quote(kv.Key)).Append(':');
                            EmitValue(sb, ExpressionValues.Light(kv.Value), indent + 2);
                        }
                        break;
                    }
                case IReadOnlyList<object?> l when l.Count > 0:
                    sb.Append('\n');
                    EmitList(sb, l, indent + 2);
                    break;
                default:
                    sb.Append(' ').Append(Scalar(item)).Append('\n');
                    break;
            }
        }
    }

    private static string Scalar(object? v) => v switch
    {
        null => "null",
        bool b => b ? "true" : "false",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => ExpressionValues.JavaDouble(d),
        IReadOnlyDictionary<string, object?> => "{}",
        IReadOnlyList<object?> => "[]",
        string s => Quote(s),
        _ => Quote(ExpressionValues.ToText(v)),
    };

    private static string Quote(string s)
    {
        if (NeedsQuotes(s))
        {
            var sb = new StringBuilder();
            ExpressionValues.WriteJsonString(sb, s);
            return sb.ToString();
        }
        return s;
    }

    private static bool NeedsQuotes(string s)
    {
        if (s.Length == 0) return true;
        if (PlainScalar(s) is not string) return true;
        if (s is "y" or "n" or "yes" or "no" or "on" or "off" or "Y" or "N" or "Yes" or "No" or "On" or "Off" or "YES" or "NO" or "ON" or "OFF") return true;
        if ("-?:,[]{}#&*!|>'\"%@`".Contains(s[0]) || char.IsWhiteSpace(s[0]) || char.IsWhiteSpace(s[^1])) return true;
        if (s.Contains(": ", StringComparison.Ordinal) || s.Contains(" #", StringComparison.Ordinal) || s.EndsWith(':')) return true;
        foreach (var ch in s) if (ch < 0x20) return true;
        return false;
    }
}

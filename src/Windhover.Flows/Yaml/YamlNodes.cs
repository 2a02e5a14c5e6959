using System.Globalization;
using System.Text.RegularExpressions;
using Windhover.Flows.Model;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Windhover.Flows.Yaml;

/// <summary>A position-carrying YAML node, built from YamlDotNet parser events.</summary>
internal abstract class YNode
{
    public SourcePosition Position { get; init; }
}

internal sealed class YScalar : YNode
{
    public required string Text { get; init; }
    public ScalarStyle Style { get; init; }
    public string? Tag { get; init; }
    public bool IsPlain => Style is ScalarStyle.Plain or ScalarStyle.Any;
}

internal sealed class YSeq : YNode
{
    public List<YNode> Items { get; } = [];
}

internal sealed class YMap : YNode
{
    public List<KeyValuePair<YScalar, YNode>> Entries { get; } = [];

    public YNode? Get(string key)
    {
        foreach (var e in Entries)
        {
            if (e.Key.Text == key)
            {
                return e.Value;
            }
        }

        return null;
    }
}

internal sealed record YDocument(YNode? Root, int StartIndex, int EndIndex, SourcePosition Position, List<(string Message, SourcePosition Position, string? PropertyPath)> Errors);

/// <summary>Loads YAML text into <see cref="YNode"/> trees, one per document, reporting duplicate keys.</summary>
internal static class YamlLoader
{
    public static List<YDocument> Load(string text)
    {
        var documents = new List<YDocument>();
        var parser = new Parser(new StringReader(text));
        var anchors = new Dictionary<string, YNode>(StringComparer.Ordinal);
        List<(string, SourcePosition, string?)>? errors = null;
        int docStart = 0;
        SourcePosition docPos = default;
        YNode? root = null;
        bool inDocument = false;
        try
        {
            parser.MoveNext();
            while (parser.Current is not null)
            {
                switch (parser.Current)
                {
                    case DocumentStart ds:
                        inDocument = true;
                        errors = [];
                        anchors.Clear();
                        docStart = ds.IsImplicit && documents.Count == 0 ? 0 : SkipMarkerLine(text, (int)ds.Start.Index, ds.IsImplicit);
                        docPos = Pos(ds.End);
                        root = null;
                        parser.MoveNext();
                        break;
                    case DocumentEnd de:
                        documents.Add(new YDocument(root, docStart, (int)de.End.Index, root?.Position ?? docPos, errors!));
                        inDocument = false;
                        parser.MoveNext();
                        break;
                    case StreamStart or StreamEnd:
                        if (!parser.MoveNext())
                        {
                            return Finish(documents, text);
                        }

                        break;
                    default:
                        root = ReadNode(parser, anchors, errors!, []);
                        break;
                }
            }
        }
        catch (YamlException ex)
        {
            var err = new List<(string, SourcePosition, string?)>(errors ?? []) { (ex.Message is { Length: > 0 } m ? CleanMessage(ex) : "Invalid YAML", Pos(ex.Start), null) };
            documents.Add(new YDocument(inDocument ? root : null, inDocument ? docStart : 0, text.Length, Pos(ex.Start), err));
        }

        return Finish(documents, text);
    }

    private static List<YDocument> Finish(List<YDocument> documents, string text)
    {

        // Make document ranges contiguous: a document ends where the next one's text starts.
        for (int i = 0; i < documents.Count - 1; i++)
        {
            var next = documents[i + 1];
            var end = Math.Max(documents[i].StartIndex, FindMarkerStart(text, next.StartIndex));
            documents[i] = documents[i] with { EndIndex = end };
        }

        if (documents.Count > 0)
        {
            documents[^1] = documents[^1] with { EndIndex = text.Length };
        }

        return documents;
    }

    private static string CleanMessage(YamlException ex)
    {
        // YamlDotNet prefixes messages with "(Line: x, Col: y, Idx: z) - (Line..): "
        var m = ex.Message;
        var i = m.LastIndexOf("): ", StringComparison.Ordinal);
        return "YAML syntax error: " + (i >= 0 ? m[(i + 3)..] : m);
    }

    private static int SkipMarkerLine(string text, int index, bool isImplicit)
    {
        if (isImplicit || index >= text.Length || !text.AsSpan(index).StartsWith("---"))
        {
            return index;
        }

        var nl = text.IndexOf('\n', index);
        return nl < 0 ? text.Length : nl + 1;
    }

    private static int FindMarkerStart(string text, int nextStart)
    {
        // nextStart is just after a '---' line: walk back to the start of that line.
        if (nextStart <= 0)
        {
            return 0;
        }

        var lineEnd = nextStart - 1;
        var lineStart = lineEnd > 0 ? text.LastIndexOf('\n', lineEnd - 1) + 1 : 0;
        return text.AsSpan(lineStart).StartsWith("---") ? lineStart : nextStart;
    }

    internal static SourcePosition Pos(Mark mark) => new((int)mark.Line, (int)mark.Column);

    private static string PathOf(List<string> segments)
    {
        var sb = new System.Text.StringBuilder();
        foreach (var s in segments)
        {
            if (sb.Length > 0 && s[0] != '[')
            {
                sb.Append('.');
            }

            sb.Append(s);
        }

        return sb.ToString();
    }

    /// <summary>Reads one node; <paramref name="path"/> holds the segments leading to it (joined only for errors).</summary>
    private static YNode ReadNode(IParser parser, Dictionary<string, YNode> anchors, List<(string, SourcePosition, string?)> errors, List<string> path)
    {
        var ev = parser.Current!;
        YNode node;
        switch (ev)
        {
            case Scalar s:
                node = new YScalar
                {
                    Text = s.Value,
                    Style = s.Style,
                    Tag = s.Tag.IsEmpty || s.Tag.IsNonSpecific ? null : s.Tag.Value,
                    Position = Pos(s.Start),
                };
                parser.MoveNext();
                Anchor(s.Anchor, node, anchors);
                return node;
            case AnchorAlias a:
                parser.MoveNext();
                if (anchors.TryGetValue(a.Value.Value, out var target))
                {
                    return target;
                }

                errors.Add(($"Unknown alias '{a.Value.Value}'", Pos(a.Start), PathOf(path)));
                return new YScalar { Text = "", Position = Pos(a.Start) };
            case SequenceStart ss:
            {
                var seq = new YSeq { Position = Pos(ss.Start) };
                Anchor(ss.Anchor, seq, anchors);
                parser.MoveNext();
                int i = 0;
                while (parser.Current is not SequenceEnd)
                {
                    path.Add(IndexSegment(i++));
                    seq.Items.Add(ReadNode(parser, anchors, errors, path));
                    path.RemoveAt(path.Count - 1);
                }

                parser.MoveNext();
                return seq;
            }
            case MappingStart ms:
            {
                var map = new YMap { Position = Pos(ms.Start) };
                Anchor(ms.Anchor, map, anchors);
                parser.MoveNext();
                HashSet<string>? seen = null;
                bool hasMerged = false;
                while (parser.Current is not MappingEnd)
                {
                    var keyNode = ReadNode(parser, anchors, errors, path);
                    var key = keyNode as YScalar;
                    var keyText = key?.Text ?? "";
                    path.Add(keyText.Length == 0 ? "\"\"" : keyText);
                    var value = ReadNode(parser, anchors, errors, path);
                    if (key is null)
                    {
                        path.RemoveAt(path.Count - 1);
                        errors.Add(("Complex (non-scalar) mapping keys are not supported", keyNode.Position, PathOf(path)));
                        continue;
                    }

                    path.RemoveAt(path.Count - 1);
                    if (keyText == "<<" && key.IsPlain)
                    {
                        hasMerged = true;
                        Merge(map, value);
                        continue;
                    }

                    seen ??= new HashSet<string>(StringComparer.Ordinal);
                    if (!seen.Add(keyText))
                    {
                        errors.Add(($"Duplicate field '{keyText}'", key.Position, PathOf([.. path, keyText])));
                        continue;
                    }

                    // A key that came from a merge (<<) is overridden by an explicit one.
                    var idx = hasMerged ? map.Entries.FindIndex(e => e.Key.Text == keyText) : -1;
                    if (idx >= 0)
                    {
                        map.Entries[idx] = new(key, value);
                    }
                    else
                    {
                        map.Entries.Add(new(key, value));
                    }
                }

                parser.MoveNext();
                return map;
            }
            default:
                throw new YamlException(ev.Start, ev.End, $"Unexpected YAML event {ev.GetType().Name}");
        }
    }

    private static void Merge(YMap map, YNode source)
    {
        var sources = source is YSeq seq ? seq.Items : [source];
        foreach (var s in sources)
        {
            if (s is not YMap m)
            {
                continue;
            }

            foreach (var e in m.Entries)
            {
                if (!map.Entries.Exists(x => x.Key.Text == e.Key.Text))
                {
                    map.Entries.Add(e);
                }
            }
        }
    }

    private static readonly string[] Indexes = [.. Enumerable.Range(0, 64).Select(i => $"[{i}]")];

    private static string IndexSegment(int i) => i < Indexes.Length ? Indexes[i] : $"[{i}]";

    private static void Anchor(AnchorName anchor, YNode node, Dictionary<string, YNode> anchors)
    {
        if (!anchor.IsEmpty)
        {
            anchors[anchor.Value] = node;
        }
    }
}

/// <summary>YAML 1.2 core schema resolution of scalars into the value model.</summary>
internal static partial class ScalarResolver
{
    [GeneratedRegex("^[-+]?[0-9]+$", RegexOptions.CultureInvariant)]
    private static partial Regex IntRegex();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex FloatRegex();

    public static object? Resolve(YScalar s)
    {
        if (s.Tag is { } tag)
        {
            switch (tag)
            {
                case "tag:yaml.org,2002:str": return s.Text;
                case "tag:yaml.org,2002:null": return null;
                case "tag:yaml.org,2002:bool": return ResolvePlain(s.Text) as bool? ?? (object)s.Text;
                case "tag:yaml.org,2002:int": return ResolvePlain(s.Text) is long l ? l : s.Text;
                case "tag:yaml.org,2002:float": return ResolvePlain(s.Text) switch { long n => (double)n, double d => d, _ => s.Text };
            }
        }

        return s.IsPlain ? ResolvePlain(s.Text) : s.Text;
    }

    public static object? ResolvePlain(string t)
    {
        if (t.Length == 0)
        {
            return null;
        }

        switch (t)
        {
            case "~" or "null" or "Null" or "NULL": return null;
            case "true" or "True" or "TRUE": return true;
            case "false" or "False" or "FALSE": return false;
            case ".inf" or ".Inf" or ".INF" or "+.inf" or "+.Inf" or "+.INF": return double.PositiveInfinity;
            case "-.inf" or "-.Inf" or "-.INF": return double.NegativeInfinity;
            case ".nan" or ".NaN" or ".NAN": return double.NaN;
        }

        var c = t[0];
        if (!(char.IsAsciiDigit(c) || c is '-' or '+' or '.'))
        {
            return t;
        }

        if (IntRegex().IsMatch(t))
        {
            return long.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)
                ? (object)l
                : double.Parse(t, CultureInfo.InvariantCulture);
        }

        if (t.StartsWith("0x", StringComparison.Ordinal) && t.Length > 2 &&
            long.TryParse(t.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hex))
        {
            return hex;
        }

        if (t.StartsWith("0o", StringComparison.Ordinal) && t.Length > 2 && t.AsSpan(2).IndexOfAnyExceptInRange('0', '7') < 0)
        {
            try
            {
                return Convert.ToInt64(t[2..], 8);
            }
            catch (OverflowException)
            {
                return t;
            }
        }

        if (FloatRegex().IsMatch(t))
        {
            return double.Parse(t, NumberStyles.Float, CultureInfo.InvariantCulture);
        }

        return t;
    }
}

using System.Globalization;
using System.Text.Json.Nodes;
using Windhover.Engine.Serialization;
using Windhover.Engine.Stores;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Windhover.Server.Json;

/// <summary>The JSON form of a flow as Kestra returns it: the YAML document as JSON plus revision, flags and source.</summary>
public static class FlowJson
{
    public static JsonObject ToJson(FlowRecord flow, bool includeSource = true, bool deleted = false)
    {
        var json = YamlToJson(flow.Source) as JsonObject ?? [];
        json["id"] = flow.Id;
        json["namespace"] = flow.Namespace;
        json["revision"] = flow.Revision;
        json["disabled"] = flow.Flow.Disabled;
        json["deleted"] = deleted;
        json["updated"] = KestraJson.FormatDate(flow.Updated);
        if (json["labels"] is JsonObject labelMap)
        {
            // Kestra serialises labels as a list of {key, value}.
            json["labels"] = new JsonArray([.. labelMap.Select(kv => (JsonNode)new JsonObject { ["key"] = kv.Key, ["value"] = kv.Value?.DeepClone() })]);
        }

        if (includeSource)
        {
            json["source"] = flow.Source;
        }
        else
        {
            json.Remove("source");
        }

        return json;
    }

    public static JsonNode? YamlToJson(string yaml)
    {
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(yaml));
            return stream.Documents.Count == 0 ? null : Convert(stream.Documents[0].RootNode);
        }
        catch (YamlException)
        {
            return null;
        }
    }

    private static JsonNode? Convert(YamlNode node)
    {
        switch (node)
        {
            case YamlMappingNode map:
                var obj = new JsonObject();
                foreach (var (key, value) in map.Children)
                {
                    obj[(key as YamlScalarNode)?.Value ?? key.ToString()] = Convert(value);
                }

                return obj;
            case YamlSequenceNode sequence:
                return new JsonArray([.. sequence.Children.Select(Convert)]);
            case YamlScalarNode scalar:
                var text = scalar.Value ?? "";
                if (scalar.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted or ScalarStyle.Literal or ScalarStyle.Folded)
                {
                    return JsonValue.Create(text);
                }

                return Plain(text);
            default:
                return null;
        }
    }

    private static JsonNode? Plain(string text)
    {
        switch (text)
        {
            case "" or "~" or "null" or "Null" or "NULL": return null;
            case "true" or "True" or "TRUE": return JsonValue.Create(true);
            case "false" or "False" or "FALSE": return JsonValue.Create(false);
        }

        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
        {
            return JsonValue.Create(l);
        }

        if ((char.IsAsciiDigit(text[0]) || text[0] is '-' or '+' or '.') && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d))
        {
            return JsonValue.Create(d);
        }

        return JsonValue.Create(text);
    }
}

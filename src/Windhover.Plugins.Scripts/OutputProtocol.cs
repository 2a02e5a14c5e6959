using System.Text.Json;

namespace Windhover.Plugins.Scripts;

/// <summary>
/// Kestra's script output protocol: a line <c>::{json}::</c> whose object may hold <c>outputs</c> (merged into
/// vars), <c>logs</c> (list of <c>{level, message}</c>) and <c>metrics</c> (list of <c>{name, type, value, tags}</c>).
/// </summary>
internal static class OutputProtocol
{
    internal sealed record Parsed(JsonElement? Outputs, IReadOnlyList<(ScriptLogLevel Level, string Message)> Logs, IReadOnlyList<ScriptMetric> Metrics);

    /// <summary>Null when the line is not a protocol line (or its JSON is invalid: it is then logged raw).</summary>
    public static Parsed? TryParse(string line)
    {
        var span = line.AsSpan().Trim();
        if (span.Length < 6 || !span.StartsWith("::{") || !span.EndsWith("}::"))
        {
            return null;
        }
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(span[2..^2].ToString());
        }
        catch (JsonException)
        {
            return null;
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }
            JsonElement? outputs = null;
            var logs = new List<(ScriptLogLevel, string)>();
            var metrics = new List<ScriptMetric>();
            if (root.TryGetProperty("outputs", out var o) && o.ValueKind == JsonValueKind.Object)
            {
                outputs = o.Clone();
            }
            if (root.TryGetProperty("logs", out var l))
            {
                foreach (var entry in l.ValueKind == JsonValueKind.Array ? l.EnumerateArray() : Enumerable.Repeat(l, 1))
                {
                    if (entry.ValueKind != JsonValueKind.Object)
                    {
                        continue;
                    }
                    var level = entry.TryGetProperty("level", out var lv) && lv.ValueKind == JsonValueKind.String
                        ? ParseLevel(lv.GetString()!) : ScriptLogLevel.Info;
                    var message = entry.TryGetProperty("message", out var m)
                        ? (m.ValueKind == JsonValueKind.String ? m.GetString()! : m.GetRawText()) : "";
                    logs.Add((level, message));
                }
            }
            if (root.TryGetProperty("metrics", out var ms) && ms.ValueKind == JsonValueKind.Array)
            {
                foreach (var metric in ms.EnumerateArray())
                {
                    if (metric.ValueKind == JsonValueKind.Object
                        && metric.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String
                        && metric.TryGetProperty("value", out var v) && v.ValueKind == JsonValueKind.Number)
                    {
                        var type = metric.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "counter";
                        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
                        if (metric.TryGetProperty("tags", out var tg) && tg.ValueKind == JsonValueKind.Object)
                        {
                            foreach (var p in tg.EnumerateObject())
                            {
                                tags[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
                            }
                        }
                        metrics.Add(new ScriptMetric(n.GetString()!, type, v.GetDouble(), tags));
                    }
                }
            }
            return new Parsed(outputs, logs, metrics);
        }
    }

    public static ScriptLogLevel ParseLevel(string level) => level.Trim().ToUpperInvariant() switch
    {
        "TRACE" => ScriptLogLevel.Trace,
        "DEBUG" => ScriptLogLevel.Debug,
        "WARN" or "WARNING" => ScriptLogLevel.Warn,
        "ERROR" => ScriptLogLevel.Error,
        _ => ScriptLogLevel.Info,
    };

    /// <summary>Deep-merges <paramref name="source"/> (a JSON object) into <paramref name="target"/>: objects merge, other values replace.</summary>
    public static void Merge(Dictionary<string, JsonElement> target, JsonElement source)
    {
        foreach (var property in source.EnumerateObject())
        {
            if (target.TryGetValue(property.Name, out var existing)
                && existing.ValueKind == JsonValueKind.Object && property.Value.ValueKind == JsonValueKind.Object)
            {
                var nested = existing.EnumerateObject().ToDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal);
                Merge(nested, property.Value);
                target[property.Name] = JsonSerializer.SerializeToElement(nested);
            }
            else
            {
                target[property.Name] = property.Value.Clone();
            }
        }
    }
}

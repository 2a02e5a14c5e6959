using System.Globalization;
using System.Text.Json;

namespace Windhover.Blueprints.DevOpsCommander.Telemetry;

/// <summary>Reads instant values from a Prometheus server's HTTP query API (<c>GET /api/v1/query?query=...</c>).</summary>
public sealed class PrometheusClient(HttpClient http)
{
    /// <summary>Runs every configured query and builds a snapshot; metrics whose query returns nothing stay null.</summary>
    public async Task<(MetricsSnapshot Metrics, int Answered)> ReadAsync(PrometheusSourceOptions source, DeploymentInfo d, CancellationToken ct)
    {
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (metric, template) in source.Queries)
        {
            var query = template.Replace("$deployment", d.Id, StringComparison.Ordinal)
                .Replace("$service", d.Service, StringComparison.Ordinal)
                .Replace("$version", d.Version, StringComparison.Ordinal);
            if (await QueryAsync(source.BaseUrl, query, ct).ConfigureAwait(false) is { } v)
            {
                values[metric] = v;
            }
        }

        return (MetricAggregation.FromNamedValues(values), values.Count);
    }

    /// <summary>The first sample's value of an instant query (vector or scalar), or null for an empty result or NaN.</summary>
    public async Task<double?> QueryAsync(string baseUrl, string query, CancellationToken ct)
    {
        var url = $"{baseUrl.TrimEnd('/')}/api/v1/query?query={Uri.EscapeDataString(query)}";
        using var response = await http.GetAsync(url, ct).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new PrometheusException($"Prometheus at {baseUrl} answered {(int)response.StatusCode} to '{query}': {Truncate(text)}");
        }

        try
        {
            using var doc = JsonDocument.Parse(text);
            var root = doc.RootElement;
            if (root.GetProperty("status").GetString() != "success")
            {
                throw new PrometheusException($"Prometheus at {baseUrl} failed '{query}': {Truncate(text)}");
            }

            var data = root.GetProperty("data");
            var result = data.GetProperty("result");
            JsonElement pair;
            switch (data.GetProperty("resultType").GetString())
            {
                case "vector" when result.GetArrayLength() > 0:
                    pair = result[0].GetProperty("value");
                    break;
                case "scalar":
                    pair = result;
                    break;
                default:
                    return null;
            }

            var raw = pair[1].GetString();
            return double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) ? v : null;
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new PrometheusException($"Prometheus at {baseUrl} returned an unreadable answer to '{query}': {ex.Message}");
        }
    }

    private static string Truncate(string s) => s.Length > 300 ? s[..300] + "..." : s;
}

public sealed class PrometheusException(string message) : Exception(message);

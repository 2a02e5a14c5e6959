namespace Windhover.Blueprints.DevOpsCommander.Telemetry;

/// <summary>
/// Builds a <see cref="MetricsSnapshot"/> from pushed samples: per metric, the mean of the samples in the 5 minutes up to
/// that metric's latest sample. <c>response_time_ms</c> samples are single request latencies and give min/avg/p95/p99/max
/// (nearest-rank percentiles); <c>p95_ms</c>, <c>p99_ms</c>, <c>avg_ms</c>, <c>min_ms</c>, <c>max_ms</c> may be pushed directly.
/// </summary>
public static class MetricAggregation
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(5);

    public static readonly IReadOnlySet<string> KnownNames = new HashSet<string>(StringComparer.Ordinal)
    {
        "error_rate_percent", "requests_per_second", "cpu_usage_percent", "memory_usage_percent", "memory_usage_mb",
        "network_io_mbps", "active_connections", "database_query_time_ms", "cache_hit_rate_percent",
        "response_time_ms", "min_ms", "avg_ms", "p95_ms", "p99_ms", "max_ms",
    };

    public static MetricsSnapshot FromSamples(IReadOnlyList<MetricSample> samples)
    {
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        ResponseTimes? latency = null;
        foreach (var group in samples.GroupBy(s => s.Name, StringComparer.Ordinal))
        {
            var last = group.Max(s => s.Time);
            var window = group.Where(s => s.Time >= last - Window).Select(s => s.Value).ToList();
            if (group.Key == "response_time_ms")
            {
                window.Sort();
                latency = new ResponseTimes(window[0], Math.Round(window.Average(), 1), Rank(window, 0.95), Rank(window, 0.99), window[^1]);
            }
            else
            {
                values[group.Key] = Math.Round(window.Average(), 2);
            }
        }

        var snapshot = FromNamedValues(values);
        return latency is null ? snapshot : snapshot with { ResponseTimeMs = Merge(latency, snapshot.ResponseTimeMs) };
    }

    private static ResponseTimes Merge(ResponseTimes measured, ResponseTimes? direct) => direct is null ? measured : new(
        direct.Min ?? measured.Min, direct.Avg ?? measured.Avg, direct.P95 ?? measured.P95, direct.P99 ?? measured.P99, direct.Max ?? measured.Max);

    private static double Rank(List<double> sorted, double q) => sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Count) - 1, 0, sorted.Count - 1)];

    public static MetricsSnapshot FromNamedValues(IReadOnlyDictionary<string, double> v)
    {
        double? Get(string name) => v.TryGetValue(name, out var x) ? x : null;
        ResponseTimes? latency = null;
        if (Get("p99_ms") is not null || Get("p95_ms") is not null || Get("avg_ms") is not null)
        {
            latency = new ResponseTimes(Get("min_ms"), Get("avg_ms"), Get("p95_ms"), Get("p99_ms"), Get("max_ms"));
        }

        return new MetricsSnapshot
        {
            ResponseTimeMs = latency,
            ErrorRatePercent = Get("error_rate_percent"),
            RequestsPerSecond = Get("requests_per_second"),
            CpuUsagePercent = Get("cpu_usage_percent"),
            MemoryUsagePercent = Get("memory_usage_percent"),
            MemoryUsageMb = Get("memory_usage_mb"),
            NetworkIoMbps = Get("network_io_mbps"),
            ActiveConnections = Get("active_connections"),
            DatabaseQueryTimeMs = Get("database_query_time_ms"),
            CacheHitRatePercent = Get("cache_hit_rate_percent"),
        };
    }

    /// <summary>Figures of <paramref name="over"/> replace those of <paramref name="under"/> where present.</summary>
    public static MetricsSnapshot Overlay(MetricsSnapshot under, MetricsSnapshot over) => new()
    {
        ResponseTimeMs = over.ResponseTimeMs is null ? under.ResponseTimeMs : under.ResponseTimeMs is null ? over.ResponseTimeMs : Merge(under.ResponseTimeMs, over.ResponseTimeMs),
        ErrorRatePercent = over.ErrorRatePercent ?? under.ErrorRatePercent,
        RequestsPerSecond = over.RequestsPerSecond ?? under.RequestsPerSecond,
        CpuUsagePercent = over.CpuUsagePercent ?? under.CpuUsagePercent,
        MemoryUsagePercent = over.MemoryUsagePercent ?? under.MemoryUsagePercent,
        MemoryUsageMb = over.MemoryUsageMb ?? under.MemoryUsageMb,
        NetworkIoMbps = over.NetworkIoMbps ?? under.NetworkIoMbps,
        ActiveConnections = over.ActiveConnections ?? under.ActiveConnections,
        DatabaseQueryTimeMs = over.DatabaseQueryTimeMs ?? under.DatabaseQueryTimeMs,
        CacheHitRatePercent = over.CacheHitRatePercent ?? under.CacheHitRatePercent,
    };
}

using System.Globalization;
using Windhover.Blueprints.DevOpsCommander.Telemetry;

namespace Windhover.Blueprints.DevOpsCommander.Analysis;

/// <summary>
/// Turns collected logs and metrics into a <see cref="TelemetrySummary"/>. All limits are documented here and in the README.
/// </summary>
public static class TelemetryAnalyzer
{
    /// <summary>Log levels that count as errors.</summary>
    private static readonly HashSet<string> ErrorLevels = new(StringComparer.OrdinalIgnoreCase) { "ERROR", "FATAL", "CRITICAL", "SEVERE" };

    private static readonly HashSet<string> WarnLevels = new(StringComparer.OrdinalIgnoreCase) { "WARN", "WARNING" };

    /// <summary>Failure signals looked for in error lines: (signal, fatal, keywords).</summary>
    internal static readonly (string Signal, bool Fatal, string[] Keywords)[] SignalPatterns =
    [
        ("out-of-memory", true, ["outofmemory", "out of memory", "oom", "heap space"]),
        ("crash", true, ["panic", "segfault", "segmentation fault", "crashloop", "fatal"]),
        ("timeout", false, ["timeout", "timed out"]),
        ("connection-pool", false, ["connection pool", "pool exhausted"]),
        ("database", false, ["database", "query", "sql"]),
        ("authentication", false, ["authenticat", "unauthori"]),
    ];

    /// <summary>Signals that on their own justify a rollback.</summary>
    public static bool IsFatalSignal(string signal) => SignalPatterns.Any(p => p.Signal == signal && p.Fatal);

    public static LogAnalysis AnalyseLogs(IReadOnlyList<LogLine> logs)
    {
        var byLevel = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var errors = new List<string>();
        var signals = new List<string>();
        int errorCount = 0, warnCount = 0;
        foreach (var line in logs)
        {
            var level = NormaliseLevel(line.Level);
            byLevel[level] = byLevel.GetValueOrDefault(level) + 1;
            if (ErrorLevels.Contains(level))
            {
                errorCount++;
                errors.Add(line.Message);
                var lower = line.Message.ToLowerInvariant();
                foreach (var (signal, _, keywords) in SignalPatterns)
                {
                    if (!signals.Contains(signal) && keywords.Any(k => lower.Contains(k, StringComparison.Ordinal)))
                    {
                        signals.Add(signal);
                    }
                }
            }
            else if (WarnLevels.Contains(level))
            {
                warnCount++;
            }
        }

        var rate = logs.Count == 0 ? 0 : Math.Round(100.0 * errorCount / logs.Count, 1);
        return new LogAnalysis(logs.Count, byLevel, errorCount, warnCount, rate, errors.Take(5).ToList(), signals);
    }

    public static string NormaliseLevel(string level)
    {
        var upper = level.Trim().ToUpperInvariant();
        return upper switch
        {
            "WARNING" => "WARN",
            "ERR" => "ERROR",
            "CRIT" or "CRITICAL" => "FATAL",
            "" => "INFO",
            _ => upper,
        };
    }

    /// <summary>
    /// Anomalies: warning / critical limits per metric. error rate &gt; 5 / 25 %, memory &gt; 85 / 90 %, CPU &gt; 85 / 95 %,
    /// p99 latency &gt; 2000 / 5000 ms, database query time &gt; 1000 / 2000 ms, cache hit rate &lt; 60 / 40 %,
    /// log error rate &gt; 20 / 40 % (with at least 2 error lines).
    /// </summary>
    public static IReadOnlyList<Anomaly> FindAnomalies(MetricsSnapshot m, LogAnalysis logs)
    {
        var list = new List<Anomaly>();
        Above(list, "error_rate_percent", m.ErrorRatePercent, 5, 25, "Error rate {0}% is above {1}%");
        Above(list, "memory_usage_percent", m.MemoryUsagePercent, 85, 90, "Memory at {0}% is above {1}%");
        Above(list, "cpu_usage_percent", m.CpuUsagePercent, 85, 95, "CPU at {0}% is above {1}%");
        Above(list, "response_time_p99_ms", m.ResponseTimeMs?.P99, 2000, 5000, "p99 latency {0} ms is above {1} ms");
        Above(list, "database_query_time_ms", m.DatabaseQueryTimeMs, 1000, 2000, "Database queries take {0} ms, above {1} ms");
        if (m.CacheHitRatePercent is { } cache && cache < 60)
        {
            var critical = cache < 40;
            var limit = critical ? 40 : 60;
            list.Add(new Anomaly("cache_hit_rate_percent", cache, limit, critical ? "critical" : "warning",
                string.Create(CultureInfo.InvariantCulture, $"Cache hit rate {cache}% is below {limit}%")));
        }

        if (logs.ErrorCount >= 2)
        {
            Above(list, "log_error_rate_percent", logs.ErrorRatePercent, 20, 40, "{0}% of log lines are errors, above {1}%");
        }

        return list;
    }

    private static void Above(List<Anomaly> list, string metric, double? value, double warn, double critical, string format)
    {
        if (value is not { } v || v <= warn)
        {
            return;
        }

        var isCritical = v > critical;
        var limit = isCritical ? critical : warn;
        list.Add(new Anomaly(metric, v, limit, isCritical ? "critical" : "warning", string.Format(CultureInfo.InvariantCulture, format, v, limit)));
    }

    /// <summary>
    /// Health score 0-100: 100 minus penalties. error rate: min(40, rate); memory: min(20, 1.2 x (mem - 75));
    /// CPU: min(10, 0.6 x (cpu - 75)); p99: min(10, (p99 - 1000) / 800); database: min(10, (db - 500) / 200);
    /// cache: min(10, (75 - hit) / 4). Missing figures cost nothing.
    /// </summary>
    public static double ComputeHealthScore(MetricsSnapshot m)
    {
        static double Pen(double? value, Func<double, double> f, double cap) => value is { } v ? Math.Clamp(f(v), 0, cap) : 0;
        var score = 100
            - Pen(m.ErrorRatePercent, v => v, 40)
            - Pen(m.MemoryUsagePercent, v => 1.2 * (v - 75), 20)
            - Pen(m.CpuUsagePercent, v => 0.6 * (v - 75), 10)
            - Pen(m.ResponseTimeMs?.P99, v => (v - 1000) / 800, 10)
            - Pen(m.DatabaseQueryTimeMs, v => (v - 500) / 200, 10)
            - Pen(m.CacheHitRatePercent, v => (75 - v) / 4, 10);
        return Math.Round(Math.Clamp(score, 0, 100), 1);
    }

    public static TelemetrySummary Summarise(
        string deploymentId, string service, string version, string logSource, string metricSource,
        IReadOnlyList<LogLine> logs, MetricsSnapshot metrics, double? reportedHealthScore, DateTimeOffset now)
    {
        var logAnalysis = AnalyseLogs(logs);
        var computed = ComputeHealthScore(metrics);
        return new TelemetrySummary
        {
            DeploymentId = deploymentId,
            Service = service,
            Version = version,
            LogSource = logSource,
            MetricSource = metricSource,
            LogAnalysis = logAnalysis,
            Metrics = metrics,
            Anomalies = FindAnomalies(metrics, logAnalysis),
            HealthScore = reportedHealthScore ?? computed,
            HealthScoreSource = reportedHealthScore is null ? "computed" : "reported",
            ComputedHealthScore = computed,
            AnalysedAt = now,
        };
    }
}

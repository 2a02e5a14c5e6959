using Windhover.Blueprints.DevOpsCommander.Analysis;

namespace Windhover.Blueprints.DevOpsCommander.Policy;

/// <summary>
/// The policy's view of a summary. Missing figures take healthy defaults (error 1 %, memory 50 %, CPU 50 %,
/// p99 300 ms, database 100 ms, cache 85 %).
/// </summary>
public static class Features
{
    public static readonly string[] Names =
    [
        "log1p_error_rate", "memory", "cpu", "log10_p99_ms", "log10_db_ms", "cache_hit", "log_error_rate",
        "health_score", "critical_anomalies", "warning_anomalies", "fatal_log_signal",
    ];

    public static double[] From(TelemetrySummary s)
    {
        var m = s.Metrics;
        return
        [
            Math.Log(1 + (m.ErrorRatePercent ?? 1)),
            (m.MemoryUsagePercent ?? 50) / 100,
            (m.CpuUsagePercent ?? 50) / 100,
            Math.Log10(Math.Max(1, m.ResponseTimeMs?.P99 ?? 300)),
            Math.Log10(Math.Max(1, m.DatabaseQueryTimeMs ?? 100)),
            (m.CacheHitRatePercent ?? 85) / 100,
            s.LogAnalysis.ErrorRatePercent / 100,
            s.HealthScore / 100,
            s.Anomalies.Count(a => a.Severity == "critical"),
            s.Anomalies.Count(a => a.Severity != "critical"),
            s.LogAnalysis.Signals.Any(TelemetryAnalyzer.IsFatalSignal) ? 1 : 0,
        ];
    }
}

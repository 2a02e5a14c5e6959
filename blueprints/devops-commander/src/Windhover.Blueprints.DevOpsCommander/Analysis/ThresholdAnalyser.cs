using System.Globalization;

namespace Windhover.Blueprints.DevOpsCommander.Analysis;

/// <summary>
/// The offline analyser used when no LLM provider is configured. Rules are tried in order; the first that matches decides,
/// and the verdict names it (<see cref="Verdict.Rule"/>). Confidence grows with the distance past the limit:
/// rollback rules give 70 + 29 x min(1, margin), where margin is how far past the limit the value is relative to it.
/// <list type="number">
/// <item>R0 no-telemetry: no metric and no log line → DEGRADED, CONTINUE, confidence 20.</item>
/// <item>R1 error-rate-critical: error rate ≥ 25 % → CRITICAL, ROLLBACK.</item>
/// <item>R2 memory-exhaustion: memory ≥ 90 % → CRITICAL, ROLLBACK.</item>
/// <item>R3 fatal-log-signal: an error line shows out-of-memory or a crash → CRITICAL, ROLLBACK.</item>
/// <item>R4 health-critical: health score &lt; 40 → CRITICAL, ROLLBACK.</item>
/// <item>R5 critical-anomalies: two or more critical anomalies → CRITICAL, ROLLBACK.</item>
/// <item>R6 error-rate-high: error rate ≥ 5 % → DEGRADED, ROLLBACK.</item>
/// <item>R7 latency-breach: p99 ≥ 5000 ms or database query time ≥ 2000 ms → DEGRADED, ROLLBACK.</item>
/// <item>R8 health-degraded: health score &lt; 70 → DEGRADED, ROLLBACK.</item>
/// <item>R9 watch: any warning anomaly → DEGRADED, CONTINUE with closer monitoring, confidence 60.</item>
/// <item>R10 healthy: nothing above → HEALTHY, CONTINUE, confidence 60 + 39 x (health - 70) / 30.</item>
/// </list>
/// </summary>
public static class ThresholdAnalyser
{
    public const string DecidedBy = "threshold-analyser";

    public static Verdict Decide(TelemetrySummary s)
    {
        var m = s.Metrics;
        var err = m.ErrorRatePercent;
        var impactWho = $"{s.Service} {s.Version}";
        string Figures() => Describe(s);

        if (err is null && m.MemoryUsagePercent is null && m.CpuUsagePercent is null && m.ResponseTimeMs is null && s.LogAnalysis.TotalLogs == 0)
        {
            return new(Decisions.Degraded, "No telemetry available for this deployment", "Unknown: nothing to judge the deployment on",
                Decisions.Continue, 20, "R0 no-telemetry: no metrics and no log lines were collected, so there is no evidence for a rollback; keep monitoring.", DecidedBy, "R0 no-telemetry");
        }

        if (err is { } e1 && e1 >= 25)
        {
            return Rollback(Decisions.Critical, "R1 error-rate-critical", $"Error rate at {F(e1)}%", Margin(e1, 25), s,
                $"error rate {F(e1)}% ≥ 25%", impactWho);
        }

        if (m.MemoryUsagePercent is { } mem && mem >= 90)
        {
            return Rollback(Decisions.Critical, "R2 memory-exhaustion", $"Memory exhausted at {F(mem)}%", Margin(mem, 90) * 5, s,
                $"memory {F(mem)}% ≥ 90%", impactWho);
        }

        if (s.LogAnalysis.Signals.FirstOrDefault(TelemetryAnalyzer.IsFatalSignal) is { } fatal)
        {
            return Rollback(Decisions.Critical, "R3 fatal-log-signal", $"Logs show a {fatal} failure", 0.5, s,
                $"error lines show '{fatal}'", impactWho);
        }

        if (s.HealthScore < 40)
        {
            return Rollback(Decisions.Critical, "R4 health-critical", $"Health score {F(s.HealthScore)}/100", (40 - s.HealthScore) / 40, s,
                $"health score {F(s.HealthScore)} < 40", impactWho);
        }

        var criticals = s.Anomalies.Where(a => a.Severity == "critical").ToList();
        if (criticals.Count >= 2)
        {
            return Rollback(Decisions.Critical, "R5 critical-anomalies", string.Join("; ", criticals.Select(a => a.Message)), criticals.Count / 4.0, s,
                $"{criticals.Count} critical anomalies", impactWho);
        }

        if (err is { } e2 && e2 >= 5)
        {
            return Rollback(Decisions.Degraded, "R6 error-rate-high", $"Error rate at {F(e2)}%", Margin(e2, 5) / 4, s,
                $"error rate {F(e2)}% ≥ 5%", impactWho);
        }

        if (m.ResponseTimeMs?.P99 is { } p99 && p99 >= 5000)
        {
            return Rollback(Decisions.Degraded, "R7 latency-breach", $"p99 latency {F(p99)} ms", Margin(p99, 5000), s,
                $"p99 {F(p99)} ms ≥ 5000 ms", impactWho);
        }

        if (m.DatabaseQueryTimeMs is { } db && db >= 2000)
        {
            return Rollback(Decisions.Degraded, "R7 latency-breach", $"Database queries take {F(db)} ms", Margin(db, 2000), s,
                $"database query time {F(db)} ms ≥ 2000 ms", impactWho);
        }

        if (s.HealthScore < 70)
        {
            return Rollback(Decisions.Degraded, "R8 health-degraded", $"Health score {F(s.HealthScore)}/100", (70 - s.HealthScore) / 70, s,
                $"health score {F(s.HealthScore)} < 70", impactWho);
        }

        if (s.Anomalies.Count > 0)
        {
            var what = string.Join("; ", s.Anomalies.Select(a => a.Message));
            return new(Decisions.Degraded, what, $"{impactWho} runs with reduced headroom", Decisions.Continue, 60,
                $"R9 watch: only warning-level anomalies ({what}); no rollback rule matched. {Figures()}", DecidedBy, "R9 watch");
        }

        var confidence = (int)Math.Round(60 + 39 * Math.Clamp((s.HealthScore - 70) / 30, 0, 1));
        return new(Decisions.Healthy, "No issue found", $"{impactWho} serves traffic normally", Decisions.Continue, confidence,
            $"R10 healthy: no rule matched and no anomaly was found. {Figures()}", DecidedBy, "R10 healthy");
    }

    private static Verdict Rollback(string status, string rule, string issue, double margin, TelemetrySummary s, string because, string who)
    {
        var confidence = (int)Math.Round(70 + 29 * Math.Clamp(margin, 0, 1));
        var anomalies = s.Anomalies.Count == 0 ? "" : $" Anomalies: {string.Join("; ", s.Anomalies.Select(a => a.Message))}.";
        return new(status, issue, $"{who}: {F(s.Metrics.ErrorRatePercent ?? s.LogAnalysis.ErrorRatePercent)}% of requests failing",
            Decisions.Rollback, confidence, $"{rule}: {because}. {Describe(s)}{anomalies}", DecidedBy, rule);
    }

    private static double Margin(double value, double limit) => (value - limit) / limit;

    internal static string Describe(TelemetrySummary s)
    {
        var m = s.Metrics;
        var parts = new List<string> { $"Health score {F(s.HealthScore)}/100 ({s.HealthScoreSource})" };
        if (m.ErrorRatePercent is { } e) parts.Add($"error rate {F(e)}%");
        if (m.MemoryUsagePercent is { } mem) parts.Add($"memory {F(mem)}%");
        if (m.CpuUsagePercent is { } cpu) parts.Add($"CPU {F(cpu)}%");
        if (m.ResponseTimeMs?.P99 is { } p99) parts.Add($"p99 {F(p99)} ms");
        parts.Add($"{s.LogAnalysis.ErrorCount} error lines of {s.LogAnalysis.TotalLogs}");
        return string.Join(", ", parts) + ".";
    }

    internal static string F(double v) => v.ToString("0.#", CultureInfo.InvariantCulture);
}

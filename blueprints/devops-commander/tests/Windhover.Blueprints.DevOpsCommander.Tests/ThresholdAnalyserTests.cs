using Windhover.Blueprints.DevOpsCommander.Analysis;
using Windhover.Blueprints.DevOpsCommander.Telemetry;

namespace Windhover.Blueprints.DevOpsCommander.Tests;

public sealed class ThresholdAnalyserTests
{
    private static readonly DemoScenarios Demo = DemoScenarios.Load();

    private static TelemetrySummary Summary(MetricsSnapshot metrics, params (string Level, string Message)[] logs) =>
        TelemetryAnalyzer.Summarise("d", "svc", "v2", "test", "test",
            logs.Select((l, i) => new LogLine(DateTimeOffset.UnixEpoch.AddSeconds(i), l.Level, l.Message)).ToList(), metrics, null, DateTimeOffset.UnixEpoch);

    private static readonly MetricsSnapshot Healthy = new()
    {
        ErrorRatePercent = 0.5, MemoryUsagePercent = 50, CpuUsagePercent = 40, ResponseTimeMs = new(50, 100, 200, 300, 400),
        DatabaseQueryTimeMs = 80, CacheHitRatePercent = 90,
    };

    [Theory]
    [InlineData("deploy-001", "ROLLBACK", "CRITICAL", "R1 error-rate-critical")]
    [InlineData("deploy-002", "CONTINUE", "HEALTHY", "R10 healthy")]
    [InlineData("deploy-003", "ROLLBACK", "CRITICAL", "R1 error-rate-critical")]
    public void Demo_scenarios_get_the_seed_s_decisions(string id, string decision, string status, string rule)
    {
        var s = Demo.Find(id)!;
        var summary = TelemetryAnalyzer.Summarise(id, s.Deployment.Service, s.Deployment.Version, "demo", "demo", s.Logs, s.Metrics, s.ReportedHealthScore, DateTimeOffset.UnixEpoch);
        var verdict = ThresholdAnalyser.Decide(summary);
        Assert.Equal(decision, verdict.Recommendation);
        Assert.Equal(status, verdict.Status);
        Assert.Equal(rule, verdict.Rule);
        Assert.StartsWith(rule, verdict.Reasoning, StringComparison.Ordinal);
        Assert.InRange(verdict.Confidence, 0, 100);
    }

    [Fact]
    public void Demo_summaries_carry_the_seed_s_figures()
    {
        var s = Demo.Find("deploy-001")!;
        var summary = TelemetryAnalyzer.Summarise("deploy-001", "payment-service", "v1.2.3", "demo", "demo", s.Logs, s.Metrics, s.ReportedHealthScore, DateTimeOffset.UnixEpoch);
        Assert.Equal(7, summary.LogAnalysis.TotalLogs);
        Assert.Equal(3, summary.LogAnalysis.ErrorCount);
        Assert.Equal(1, summary.LogAnalysis.WarningCount);
        Assert.Equal(42.9, summary.LogAnalysis.ErrorRatePercent);
        Assert.Contains("out-of-memory", summary.LogAnalysis.Signals);
        Assert.Equal(28, summary.HealthScore);
        Assert.Equal("reported", summary.HealthScoreSource);
        Assert.Contains(summary.Anomalies, a => a.Metric == "memory_usage_percent" && a.Severity == "critical");
        Assert.Contains(summary.Anomalies, a => a.Metric == "error_rate_percent");
        Assert.Contains(summary.Anomalies, a => a.Metric == "response_time_p99_ms");

        var healthy = Demo.Find("deploy-002")!;
        var ok = TelemetryAnalyzer.Summarise("deploy-002", "payment-service", "v1.2.4-hotfix", "demo", "demo", healthy.Logs, healthy.Metrics, healthy.ReportedHealthScore, DateTimeOffset.UnixEpoch);
        Assert.Empty(ok.Anomalies);
        Assert.Equal(0, ok.LogAnalysis.ErrorCount);
    }

    [Fact]
    public void Each_rule_is_reachable_and_named()
    {
        Assert.Equal("R0 no-telemetry", ThresholdAnalyser.Decide(Summary(new MetricsSnapshot())).Rule);
        Assert.Equal("R2 memory-exhaustion", ThresholdAnalyser.Decide(Summary(Healthy with { MemoryUsagePercent = 93 })).Rule);
        Assert.Equal("R3 fatal-log-signal", ThresholdAnalyser.Decide(Summary(Healthy, ("ERROR", "java.lang.OutOfMemoryError: Java heap space"))).Rule);
        Assert.Equal("R6 error-rate-high", ThresholdAnalyser.Decide(Summary(Healthy with { ErrorRatePercent = 7 })).Rule);
        Assert.Equal("R7 latency-breach", ThresholdAnalyser.Decide(Summary(Healthy with { ResponseTimeMs = new(50, 900, 4000, 6000, 7000) })).Rule);
        Assert.Equal("R7 latency-breach", ThresholdAnalyser.Decide(Summary(Healthy with { DatabaseQueryTimeMs = 2500 })).Rule);
        Assert.Equal("R9 watch", ThresholdAnalyser.Decide(Summary(Healthy with { CpuUsagePercent = 88 })).Rule);
        var healthy = ThresholdAnalyser.Decide(Summary(Healthy));
        Assert.Equal(("R10 healthy", "CONTINUE", "HEALTHY"), (healthy.Rule, healthy.Recommendation, healthy.Status));
        Assert.Equal(ThresholdAnalyser.DecidedBy, healthy.DecidedBy);
    }

    [Fact]
    public void Computed_health_score_follows_the_documented_formula()
    {
        Assert.Equal(100, TelemetryAnalyzer.ComputeHealthScore(new MetricsSnapshot()));
        // 100 - 35.4 (errors) - 20 (memory 92: 1.2 x 17 capped) - 1.8 (cpu 78) - 8.5 (p99 7800) - 0 (db 340) - 3.25 (cache 62)
        Assert.InRange(TelemetryAnalyzer.ComputeHealthScore(Demo.Find("deploy-001")!.Metrics), 30.9, 31.2);
        Assert.Equal(99.2, TelemetryAnalyzer.ComputeHealthScore(Demo.Find("deploy-002")!.Metrics));
    }
}

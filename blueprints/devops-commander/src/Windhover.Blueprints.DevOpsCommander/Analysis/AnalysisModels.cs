using Windhover.Blueprints.DevOpsCommander.Telemetry;

namespace Windhover.Blueprints.DevOpsCommander.Analysis;

/// <summary>What the logs say: counts by level, error rate, the error messages and the failure signals found in them.</summary>
public sealed record LogAnalysis(
    int TotalLogs,
    IReadOnlyDictionary<string, int> CountsByLevel,
    int ErrorCount,
    int WarningCount,
    double ErrorRatePercent,
    IReadOnlyList<string> CriticalErrors,
    IReadOnlyList<string> Signals);

/// <summary>A metric outside its documented limit.</summary>
public sealed record Anomaly(string Metric, double Value, double Limit, string Severity, string Message);

/// <summary>The structured summary of a deployment that the decision is made on.</summary>
public sealed record TelemetrySummary
{
    public required string DeploymentId { get; init; }
    public required string Service { get; init; }
    public required string Version { get; init; }
    public required string LogSource { get; init; }
    public required string MetricSource { get; init; }
    public required LogAnalysis LogAnalysis { get; init; }
    public required MetricsSnapshot Metrics { get; init; }
    public required IReadOnlyList<Anomaly> Anomalies { get; init; }
    /// <summary>The score decisions use: the source's reported one when it has one, else <see cref="ComputedHealthScore"/>.</summary>
    public required double HealthScore { get; init; }
    /// <summary>reported or computed.</summary>
    public required string HealthScoreSource { get; init; }
    public required double ComputedHealthScore { get; init; }
    /// <summary>The learned policy's opinion on the same summary (null when no policy is trained).</summary>
    public PolicyOpinion? Policy { get; init; }
    public DateTimeOffset AnalysedAt { get; init; }
}

/// <summary>The learned policy's recommendation for one summary.</summary>
public sealed record PolicyOpinion(string Recommendation, int Confidence, double ProbabilityUnhealthy, string Model, double HeldOutAccuracy);

/// <summary>
/// The <c>ai_summarize</c> answer, from the model or from the threshold analyser:
/// status HEALTHY|DEGRADED|CRITICAL, recommendation ROLLBACK|CONTINUE, confidence 0-100.
/// </summary>
public sealed record Verdict(
    string Status,
    string Issue,
    string Impact,
    string Recommendation,
    int Confidence,
    string Reasoning,
    string DecidedBy,
    string? Rule);

public static class Decisions
{
    public const string Rollback = "ROLLBACK";
    public const string Continue = "CONTINUE";
    public const string Healthy = "HEALTHY";
    public const string Degraded = "DEGRADED";
    public const string Critical = "CRITICAL";
}

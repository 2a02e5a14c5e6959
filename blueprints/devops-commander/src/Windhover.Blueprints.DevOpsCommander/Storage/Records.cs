using Windhover.Blueprints.DevOpsCommander.Analysis;

namespace Windhover.Blueprints.DevOpsCommander.Storage;

/// <summary>An action taken on a deployment: a rollback (version restored) or continued monitoring.</summary>
public sealed record DeploymentAction
{
    public long Id { get; init; }
    public required string DeploymentId { get; init; }
    /// <summary>rollback or continue.</summary>
    public required string Kind { get; init; }
    public required string Service { get; init; }
    public required string FromVersion { get; init; }
    public string? ToVersion { get; init; }
    public required DateTimeOffset At { get; init; }
    public string? ExecutionId { get; init; }
    public string? Reason { get; init; }
    /// <summary>none, url or command.</summary>
    public string Hook { get; init; } = "none";
    public string? HookResult { get; init; }
}

/// <summary>One decision of the loop and, once known, what the deployment really was.</summary>
public sealed record OutcomeRecord
{
    public long Id { get; init; }
    public required string ExecutionId { get; init; }
    public required string DeploymentId { get; init; }
    public required string Service { get; init; }
    public required string Version { get; init; }
    public required string Decision { get; init; }
    public required int Confidence { get; init; }
    public required string Status { get; init; }
    public string? Issue { get; init; }
    public string? Impact { get; init; }
    public required string Reasoning { get; init; }
    /// <summary>threshold-analyser or ai-agent:&lt;model&gt;.</summary>
    public required string DecidedBy { get; init; }
    public string? Rule { get; init; }
    public double? HealthScore { get; init; }
    /// <summary>What was done: rollback or continue.</summary>
    public required string Action { get; init; }
    public required DateTimeOffset RecordedAt { get; init; }
    public DateTimeOffset? ExecutionStartedAt { get; init; }
    public TelemetrySummary? Analysis { get; init; }
    public PolicyOpinion? Policy { get; init; }
    /// <summary>healthy or unhealthy once known (ground truth), else null.</summary>
    public string? ActualOutcome { get; init; }
    public DateTimeOffset? VerifiedAt { get; init; }

    /// <summary>True/false once the actual outcome is known.</summary>
    public bool? Correct => ActualOutcome is null ? null : (Decision == Decisions.Rollback) == (ActualOutcome == "unhealthy");
}

/// <summary>An event shown on the dashboard (and pushed to its SSE subscribers).</summary>
public sealed record DashboardEvent(long Id, DateTimeOffset At, string Kind, string? DeploymentId, System.Text.Json.Nodes.JsonObject Payload);

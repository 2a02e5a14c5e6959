using System.Text.Json;

namespace Windhover.Blueprints.DevOpsCommander.Api;

public sealed record RegisterDeploymentRequest(
    string? DeploymentId, string? Id, string? Service, string? Version, string? PreviousVersion, DateTimeOffset? StartedAt, string? GroundTruth);

public sealed record PushedLogLine(DateTimeOffset? Time, string? Level, string? Message);

public sealed record PushedMetricSample(string? Name, double? Value, DateTimeOffset? Time);

public sealed record TelemetryPushRequest(
    string? Service, string? Version, string? PreviousVersion, string? GroundTruth,
    List<PushedLogLine>? Logs, List<PushedMetricSample>? Metrics);

public sealed record ActionRequest(string? ExecutionId, string? Reason, double? Confidence);

/// <summary>Logs and metrics as collected by the flow: objects, or JSON text (what Kestra's http.Request returns as body).</summary>
public sealed record AnalysisRequest(string? DeploymentId, JsonElement? Logs, JsonElement? Metrics);

public sealed record OutcomeRequest(
    string? ExecutionId, string? DeploymentId, string? Service, string? Version,
    string? Decision, double? Confidence, string? Status, string? Issue, string? Impact, string? Reasoning,
    string? DecidedBy, string? Rule, double? HealthScore, string? Action, string? ExecutionStartedAt,
    JsonElement? Analysis, string? ActualOutcome);

public sealed record VerifyRequest(string? ActualOutcome);

namespace Windhover.Blueprints.DevOpsCommander.Telemetry;

/// <summary>One log line of a deployment.</summary>
public sealed record LogLine(DateTimeOffset Time, string Level, string Message);

/// <summary>One metric sample of a deployment (pushed telemetry).</summary>
public sealed record MetricSample(string Name, double Value, DateTimeOffset Time);

/// <summary>Response time distribution in milliseconds.</summary>
public sealed record ResponseTimes(double? Min, double? Avg, double? P95, double? P99, double? Max);

/// <summary>A deployment's current performance figures; a null figure is one the source does not have.</summary>
public sealed record MetricsSnapshot
{
    public ResponseTimes? ResponseTimeMs { get; init; }
    public double? ErrorRatePercent { get; init; }
    public double? RequestsPerSecond { get; init; }
    public double? CpuUsagePercent { get; init; }
    public double? MemoryUsagePercent { get; init; }
    public double? MemoryUsageMb { get; init; }
    public double? NetworkIoMbps { get; init; }
    public double? ActiveConnections { get; init; }
    public double? DatabaseQueryTimeMs { get; init; }
    public double? CacheHitRatePercent { get; init; }
}

/// <summary>Where a deployment's telemetry comes from.</summary>
public static class TelemetrySources
{
    public const string Demo = "demo";
    public const string Pushed = "pushed";
    public const string Prometheus = "prometheus";
    public const string None = "none";
}

/// <summary>A deployment the commander knows: a demo scenario, a registered one, or one that pushed telemetry.</summary>
public sealed record DeploymentInfo
{
    public required string Id { get; init; }
    public required string Service { get; init; }
    public required string Version { get; init; }
    public string? PreviousVersion { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    /// <summary>demo or registered.</summary>
    public required string Origin { get; init; }
    /// <summary>healthy / unhealthy when known (demo scenarios, or declared when pushing); scores decisions and trains the policy.</summary>
    public string? GroundTruth { get; init; }
}

/// <summary>The answer of <c>GET /api/logs/{id}</c>.</summary>
public sealed record LogsResponse(string DeploymentId, string Service, string Version, string Source, IReadOnlyList<LogLine> Logs);

/// <summary>The answer of <c>GET /api/metrics/{id}</c>.</summary>
public sealed record MetricsResponse(
    string DeploymentId,
    string Service,
    string Version,
    string Source,
    MetricsSnapshot Metrics,
    double? ReportedHealthScore,
    int Samples,
    IReadOnlyList<MetricSample> Series);

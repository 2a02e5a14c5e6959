using Windhover.Blueprints.DevOpsCommander.Storage;

namespace Windhover.Blueprints.DevOpsCommander.Telemetry;

/// <summary>Finds deployments and their telemetry across the demo scenarios, pushed telemetry and Prometheus.</summary>
public sealed class TelemetryService(CommanderStore store, DemoScenarios demo, DevOpsCommanderOptions options, PrometheusClient prometheus)
{
    /// <summary>A demo scenario, else a registered deployment (by registration or pushed telemetry), else null.</summary>
    public DeploymentInfo? Find(string deploymentId)
    {
        var stored = store.GetDeployment(deploymentId);
        if (demo.Find(deploymentId) is { } scenario)
        {
            return stored is null ? scenario.Deployment : scenario.Deployment with { GroundTruth = stored.GroundTruth ?? scenario.Deployment.GroundTruth };
        }

        return stored;
    }

    public IReadOnlyList<DeploymentInfo> All()
    {
        var list = demo.All.Select(s => s.Deployment).ToList();
        list.AddRange(store.ListDeployments().Where(d => demo.Find(d.Id) is null));
        return list;
    }

    public static string UnknownMessage(string deploymentId) =>
        $"Unknown deployment '{deploymentId}': it is not a demo scenario, was never registered and has no pushed telemetry. " +
        $"Push telemetry with POST /api/deployments/{deploymentId}/telemetry or register it with POST /api/deployments.";

    public LogsResponse? GetLogs(string deploymentId)
    {
        if (Find(deploymentId) is not { } d)
        {
            return null;
        }

        var sources = new List<string>();
        var logs = new List<LogLine>();
        if (demo.Find(deploymentId) is { } scenario)
        {
            logs.AddRange(scenario.Logs);
            sources.Add(TelemetrySources.Demo);
        }

        var pushed = store.GetLogs(deploymentId);
        if (pushed.Count > 0)
        {
            logs.AddRange(pushed);
            sources.Add(TelemetrySources.Pushed);
        }

        return new LogsResponse(d.Id, d.Service, d.Version, Source(sources), logs.OrderBy(l => l.Time).ToList());
    }

    public async Task<MetricsResponse?> GetMetricsAsync(string deploymentId, CancellationToken ct)
    {
        if (Find(deploymentId) is not { } d)
        {
            return null;
        }

        var sources = new List<string>();
        var snapshot = new MetricsSnapshot();
        double? reported = null;
        if (demo.Find(deploymentId) is { } scenario)
        {
            snapshot = scenario.Metrics;
            reported = scenario.ReportedHealthScore;
            sources.Add(TelemetrySources.Demo);
        }

        if (options.Prometheus.TryGetValue(d.Service, out var prom))
        {
            var (fromProm, answered) = await prometheus.ReadAsync(prom, d, ct).ConfigureAwait(false);
            if (answered > 0)
            {
                snapshot = MetricAggregation.Overlay(snapshot, fromProm);
                sources.Add(TelemetrySources.Prometheus);
                reported = null;
            }
        }

        var samples = store.GetMetricSamples(deploymentId);
        if (samples.Count > 0)
        {
            snapshot = MetricAggregation.Overlay(snapshot, MetricAggregation.FromSamples(samples));
            sources.Add(TelemetrySources.Pushed);
            reported = null;   // a reported score no longer describes the figures once others replace them
        }

        var series = samples.Count > 500 ? samples.Skip(samples.Count - 500).ToList() : samples;
        return new MetricsResponse(d.Id, d.Service, d.Version, Source(sources), snapshot, reported, samples.Count, series);
    }

    private static string Source(List<string> sources) => sources.Count == 0 ? TelemetrySources.None : string.Join("+", sources);
}

using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Windhover.Blueprints.DevOpsCommander.Telemetry;

/// <summary>The built-in demo deployments (deploy-001..003), read from the embedded <c>demo-scenarios.json</c>.</summary>
public sealed class DemoScenarios
{
    private readonly FrozenDictionary<string, Scenario> _byId;

    private DemoScenarios(IEnumerable<Scenario> scenarios) => _byId = scenarios.ToFrozenDictionary(s => s.Id, StringComparer.Ordinal);

    public static DemoScenarios Empty { get; } = new([]);

    public IReadOnlyCollection<Scenario> All => _byId.Values;

    public Scenario? Find(string id) => _byId.GetValueOrDefault(id);

    public static DemoScenarios Load()
    {
        using var stream = typeof(DemoScenarios).Assembly.GetManifestResourceStream("demo-scenarios.json")
            ?? throw new InvalidOperationException("The embedded demo-scenarios.json is missing.");
        using var doc = JsonDocument.Parse(stream);
        var list = new List<Scenario>();
        foreach (var s in doc.RootElement.GetProperty("scenarios").EnumerateArray())
        {
            var startedAt = s.GetProperty("startedAt").GetDateTimeOffset();
            var logs = s.GetProperty("logs").EnumerateArray()
                .Select(l => new LogLine(startedAt.AddSeconds(l[0].GetDouble()), l[1].GetString()!, l[2].GetString()!))
                .ToList();
            var metrics = s.GetProperty("metrics").Deserialize<MetricsSnapshot>(Json)!;
            list.Add(new Scenario(
                new DeploymentInfo
                {
                    Id = s.GetProperty("id").GetString()!,
                    Service = s.GetProperty("service").GetString()!,
                    Version = s.GetProperty("version").GetString()!,
                    PreviousVersion = s.GetProperty("previousVersion").GetString(),
                    StartedAt = startedAt,
                    Origin = TelemetrySources.Demo,
                    GroundTruth = s.GetProperty("groundTruth").GetString(),
                },
                logs,
                metrics,
                s.GetProperty("reportedHealthScore").GetDouble()));
        }

        return new DemoScenarios(list);
    }

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, NumberHandling = JsonNumberHandling.AllowReadingFromString };

    public sealed record Scenario(DeploymentInfo Deployment, IReadOnlyList<LogLine> Logs, MetricsSnapshot Metrics, double ReportedHealthScore)
    {
        public string Id => Deployment.Id;
    }
}

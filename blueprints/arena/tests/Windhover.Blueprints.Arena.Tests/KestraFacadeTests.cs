using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Windhover.Client;
using Windhover.Engine.Executor;
using Windhover.Engine.Runtime;
using Windhover.Engine.Stores;
using Windhover.Flows.Expressions;
using Windhover.Server.Hosting;

namespace Windhover.Blueprints.Arena.Tests;

/// <summary>
/// The real Windhover server (in-memory stores, the arena's flows loaded, an API token required) next to the arena
/// service, whose facade reaches it through Windhover.Client with <c>KESTRA_API_KEY</c>.
/// </summary>
public sealed class WindhoverStack : IAsyncDisposable
{
    public const string ApiToken = "secret-key";

    private WindhoverStack(WebApplication windhover, string url, ArenaHost arena)
    {
        Windhover = windhover;
        Url = url;
        Arena = arena;
        Client = WindhoverClient.Create(new Uri(url), apiToken: ApiToken, timeout: TimeSpan.FromSeconds(30));
    }

    public WebApplication Windhover { get; }
    public string Url { get; }
    public ArenaHost Arena { get; }

    /// <summary>Windhover's API, as the test's own client (with the token).</summary>
    public WindhoverClient Client { get; }

    public static async Task<WindhoverStack> StartAsync(string? arenaApiKey = ApiToken)
    {
        var flows = Path.Combine(Path.GetTempPath(), "arena-facade", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(flows);
        foreach (var file in Directory.GetFiles(EndToEndTests.FlowsFolder(), "*.yml"))
        {
            File.Copy(file, Path.Combine(flows, Path.GetFileName(file)));
        }

        var envs = new Dictionary<string, object?>();
        var windhover = WindhoverServer.Build(new ServerOptions { Port = 0, FlowPath = flows, DataPath = flows, ApiToken = ApiToken }, services =>
            services.AddSingleton(sp => new LocalRuntime(sp.GetRequiredService<StoreSet>(), new RuntimeOptions
            {
                Expressions = sp.GetRequiredService<ExpressionEngine>(),
                Executor = new ExecutorOptions { Envs = envs },
                WorkingDirectoryRoot = Path.Combine(flows, "work"),
            })), _ => { });
        await windhover.StartAsync();
        var url = windhover.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var arena = await ArenaHost.StartAsync(o => o with { KestraUrl = url, KestraApiKey = arenaApiKey });
        envs["arena_api_url"] = arena.Client.BaseAddress!.ToString().TrimEnd('/');
        return new WindhoverStack(windhover, url, arena);
    }

    public async ValueTask DisposeAsync()
    {
        Client.HttpClient.Dispose();
        await Arena.DisposeAsync();
        await Windhover.StopAsync();
        await Windhover.DisposeAsync();
    }
}

public sealed class KestraFacadeTests
{
    public static TheoryData<string, string, string, string> SeedTriggers => new()
    {
        { "match", """{"redAgentId":"default-red","blueAgentId":"default-blue","targetAgentId":"default-target","mode":"standard"}""", "match-orchestration",
          "red_agent_id=default-red;blue_agent_id=default-blue;target_agent_id=default-target;match_mode=standard" },
        { "scheduled", """{"cronExpression":"0 */6 * * *"}""", "scheduled-matches", "schedule_cron=0 */6 * * *" },
        { "scheduled", "{}", "scheduled-matches", "" },
        { "monitoring", """{"targetAgentId":"default-target","intervalMinutes":60}""", "continuous-monitoring", "target_agent_id=default-target;monitoring_interval_minutes=60" },
        { "dataset", """{"matchIds":[],"minSeverity":5.0}""", "dataset-generation", "match_ids=[];min_severity=5" },
        { "dataset", """{"minSeverity":5.0}""", "dataset-generation", "min_severity=5" },
        { "fine-tune", """{"agentId":"default-red","agentType":"red","trainingMatchesCount":50}""", "agent-fine-tuning", "agent_id=default-red;agent_type=red;training_matches_count=50" },
        { "batch-evaluation", """{"agentCombinations":[{"redAgentId":"default-red","blueAgentId":"default-blue","targetAgentId":"default-target"}],"matchesPerCombination":3}""", "batch-evaluation",
          """agent_combinations=[{"red_agent_id":"default-red","blue_agent_id":"default-blue","target_agent_id":"default-target"}];matches_per_combination=3""" },
    };

    [Theory]
    [MemberData(nameof(SeedTriggers))]
    public async Task Seed_trigger_bodies_create_executions_with_flow_inputs(string kind, string body, string flowId, string expectedInputs)
    {
        await using var stack = await WindhoverStack.StartAsync();
        var (status, result) = await stack.Arena.Post($"/api/kestra/trigger/{kind}", body);
        Assert.True(status == 200, $"{status} {result}");
        var id = result!["executionId"]!.GetValue<string>();
        Assert.Equal(flowId, result["flowId"]!.GetValue<string>());
        Assert.Equal(id, result["execution"]!["id"]!.GetValue<string>());
        var expected = expectedInputs.Length == 0 ? [] : expectedInputs.Split(';').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        // what the facade sent (its echo) ...
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), result["inputs"]!.AsObject().Select(kv => kv.Key).Order(StringComparer.Ordinal));

        // ... is what Windhover's execution holds, typed by the flow's input declarations
        var execution = await stack.Client.GetExecutionAsync(id);
        Assert.NotNull(execution);
        Assert.Equal(("ai-arena", flowId), (execution.Namespace, execution.FlowId));
        foreach (var (key, value) in expected)
        {
            Assert.True(execution.Inputs!.TryGetPropertyValue(key, out var actual), $"input {key} missing: {execution.Inputs.ToJsonString()}");
            Assert.Equal(value, actual is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : actual!.ToJsonString());
        }

        var viaFacade = await stack.Arena.GetJson($"/api/kestra/executions/{id}");
        Assert.Equal(id, viaFacade["id"]!.GetValue<string>());
        Assert.Equal(flowId, viaFacade["flowId"]!.GetValue<string>());
        Assert.NotNull(viaFacade["state"]!["current"]);

        // Once it has ended, the facade's JSON is Windhover's, field for field (histories, attempts, variables...).
        await stack.Client.WaitForTerminalAsync(id, TimeSpan.FromMinutes(1));
        var direct = await stack.Client.GetExecutionJsonAsync(id);
        viaFacade = await stack.Arena.GetJson($"/api/kestra/executions/{id}");
        Assert.True(JsonNode.DeepEquals(direct, viaFacade), $"{direct}\n---\n{viaFacade}");
        Assert.NotNull(viaFacade["state"]!["histories"]);
    }

    [Theory]
    [InlineData("match", """{"blueAgentId":"default-blue","targetAgentId":"default-target","mode":"standard"}""", "redAgentId")]
    [InlineData("match", """{"redAgentId":"default-red","blueAgentId":"default-blue","targetAgentId":"nope","mode":"standard"}""", "targetAgentId")]
    [InlineData("match", """{"redAgentId":"default-red","blueAgentId":"default-blue","targetAgentId":"default-target","mode":"forever"}""", "mode")]
    [InlineData("scheduled", """{"cronExpression":"every tuesday"}""", "cronExpression")]
    [InlineData("monitoring", """{"intervalMinutes":60}""", "targetAgentId")]
    [InlineData("monitoring", """{"targetAgentId":"default-target","intervalMinutes":"hourly"}""", "intervalMinutes")]
    [InlineData("dataset", """{"matchIds":"m1","minSeverity":5.0}""", "matchIds")]
    [InlineData("dataset", """{"minSeverity":50}""", "minSeverity")]
    [InlineData("fine-tune", """{"agentType":"red","trainingMatchesCount":50}""", "agentId")]
    [InlineData("fine-tune", """{"agentId":"default-red","agentType":"blue"}""", "agentType")]
    [InlineData("batch-evaluation", """{"matchesPerCombination":3}""", "agentCombinations")]
    [InlineData("batch-evaluation", """{"agentCombinations":[{"redAgentId":"default-red","blueAgentId":"default-blue"}]}""", "agentCombinations[0].targetAgentId")]
    [InlineData("batch-evaluation", """{"agentCombinations":[{"redAgentId":"default-red","blueAgentId":"default-blue","targetAgentId":"default-target"}],"matchesPerCombination":0}""", "matchesPerCombination")]
    public async Task Invalid_trigger_bodies_get_400_naming_the_field(string kind, string body, string field)
    {
        await using var stack = await WindhoverStack.StartAsync();
        var (status, error) = await stack.Arena.Post($"/api/kestra/trigger/{kind}", body);
        Assert.Equal(400, status);
        Assert.Equal(field, error!["field"]!.GetValue<string>());
        Assert.Equal(0, (await stack.Client.SearchExecutionsAsync("ai-arena")).Total);
    }

    [Fact]
    public async Task Webhook_list_and_unknown_ids()
    {
        await using var stack = await WindhoverStack.StartAsync();
        var (status, result) = await stack.Arena.Post("/api/kestra/webhook/dataset-generation", new { min_severity = 7.5, export_format = "jsonl" });
        Assert.True(status == 200, $"{status} {result}");
        var execution = await stack.Client.GetExecutionAsync(result!["executionId"]!.GetValue<string>());
        Assert.Equal(("dataset-generation", "7.5", "jsonl"), (execution!.FlowId, execution.Inputs!["min_severity"]!.ToJsonString(), execution.Inputs["export_format"]!.GetValue<string>()));
        Assert.Equal("flowId", (await stack.Arena.Post("/api/kestra/webhook/nope", new { })).Body!["field"]!.GetValue<string>());

        var list = await stack.Arena.GetJson("/api/kestra/executions?namespace=ai-arena&flowId=dataset-generation&limit=100");
        Assert.Equal(1, list["total"]!.GetValue<int>());
        Assert.Equal(execution.Id, list["results"]![0]!["id"]!.GetValue<string>());
        Assert.Equal(0, (await stack.Arena.GetJson("/api/kestra/executions?namespace=ai-arena&flowId=batch-evaluation")) ["total"]!.GetValue<int>());
        var missing = await stack.Arena.Client.GetAsync("/api/kestra/executions/missing");
        Assert.Equal(404, (int)missing.StatusCode);
    }

    [Fact]
    public async Task Without_the_API_key_Windhover_s_401_reaches_the_caller()
    {
        await using var stack = await WindhoverStack.StartAsync(arenaApiKey: null);
        var (status, error) = await stack.Arena.Post("/api/kestra/trigger/scheduled", "{}");
        Assert.Equal(401, status);
        Assert.StartsWith("Windhover answered 401", error!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(0, (await stack.Client.SearchExecutionsAsync("ai-arena")).Total);
    }

    [Fact]
    public async Task Unreachable_windhover_is_a_502_with_a_message()
    {
        await using var host = await ArenaHost.StartAsync(o => o with { KestraUrl = "http://127.0.0.1:9" });
        var (status, error) = await host.Post("/api/kestra/trigger/scheduled", "{}");
        Assert.Equal(502, status);
        Assert.Contains("not reachable", error!["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }
}

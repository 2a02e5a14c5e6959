using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Windhover.Blueprints.Arena.Tests;

/// <summary>A stand-in for Windhover's REST API v1 that records the executions the facade creates.</summary>
public sealed class FakeWindhover : IAsyncDisposable
{
    public ConcurrentDictionary<string, (string Namespace, string FlowId, Dictionary<string, string> Inputs, string? Auth)> Executions { get; } = new();
    private WebApplication _app = null!;
    public string Url { get; private set; } = "";

    public static async Task<FakeWindhover> StartAsync()
    {
        var fake = new FakeWindhover();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapPost("/api/v1/executions/{ns}/{flowId}", async (string ns, string flowId, HttpRequest r) =>
        {
            var form = r.HasFormContentType ? await r.ReadFormAsync() : FormCollection.Empty;
            var id = "ex" + fake.Executions.Count.ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(4, '0');
            fake.Executions[id] = (ns, flowId, form.ToDictionary(kv => kv.Key, kv => kv.Value.ToString()), r.Headers.Authorization.ToString());
            return Results.Content(new JsonObject { ["id"] = id, ["namespace"] = ns, ["flowId"] = flowId, ["state"] = new JsonObject { ["current"] = "CREATED" } }.ToJsonString(), "application/json");
        });
        app.MapGet("/api/v1/executions/search", (HttpRequest r) =>
        {
            var flowId = r.Query["flowId"].ToString();
            var results = new JsonArray([.. fake.Executions.Where(e => flowId.Length == 0 || e.Value.FlowId == flowId)
                .Select(e => (JsonNode)new JsonObject { ["id"] = e.Key, ["flowId"] = e.Value.FlowId, ["state"] = new JsonObject { ["current"] = "SUCCESS" } })]);
            return Results.Content(new JsonObject { ["results"] = results, ["total"] = results.Count, ["size"] = r.Query["size"].ToString() }.ToJsonString(), "application/json");
        });
        app.MapGet("/api/v1/executions/{id}", (string id) => fake.Executions.TryGetValue(id, out var e)
            ? Results.Content(new JsonObject { ["id"] = id, ["flowId"] = e.FlowId, ["state"] = new JsonObject { ["current"] = "SUCCESS" } }.ToJsonString(), "application/json")
            : Results.Content("""{"message":"Execution not found"}""", "application/json", null, 404));
        await app.StartAsync();
        fake._app = app;
        fake.Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return fake;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

public sealed class KestraFacadeTests
{
    private static async Task<(FakeWindhover Fake, ArenaHost Host)> Start()
    {
        var fake = await FakeWindhover.StartAsync();
        var host = await ArenaHost.StartAsync(o => o with { KestraUrl = fake.Url, KestraApiKey = "secret-key" });
        return (fake, host);
    }

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
        var (fake, host) = await Start();
        await using (fake)
        await using (host)
        {
            var (status, result) = await host.Post($"/api/kestra/trigger/{kind}", body);
            Assert.True(status == 200, $"{status} {result}");
            var id = result!["executionId"]!.GetValue<string>();
            Assert.Equal(flowId, result["flowId"]!.GetValue<string>());
            var recorded = fake.Executions[id];
            Assert.Equal(("ai-arena", flowId, "Bearer secret-key"), (recorded.Namespace, recorded.FlowId, recorded.Auth));
            var expected = expectedInputs.Length == 0 ? [] : expectedInputs.Split(';').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
            Assert.Equal(expected.OrderBy(kv => kv.Key), recorded.Inputs.OrderBy(kv => kv.Key));

            var execution = await host.GetJson($"/api/kestra/executions/{id}");
            Assert.Equal("SUCCESS", execution["state"]!["current"]!.GetValue<string>());
        }
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
        var (fake, host) = await Start();
        await using (fake)
        await using (host)
        {
            var (status, error) = await host.Post($"/api/kestra/trigger/{kind}", body);
            Assert.Equal(400, status);
            Assert.Equal(field, error!["field"]!.GetValue<string>());
            Assert.Empty(fake.Executions);
        }
    }

    [Fact]
    public async Task Webhook_list_and_unknown_ids()
    {
        var (fake, host) = await Start();
        await using (fake)
        await using (host)
        {
            var (status, result) = await host.Post("/api/kestra/webhook/dataset-generation", new { min_severity = 7.5, export_format = "jsonl" });
            Assert.Equal(200, status);
            var recorded = fake.Executions[result!["executionId"]!.GetValue<string>()];
            Assert.Equal(("dataset-generation", "7.5", "jsonl"), (recorded.FlowId, recorded.Inputs["min_severity"], recorded.Inputs["export_format"]));
            Assert.Equal("flowId", (await host.Post("/api/kestra/webhook/nope", new { })).Body!["field"]!.GetValue<string>());

            var list = await host.GetJson("/api/kestra/executions?namespace=ai-arena&flowId=dataset-generation&limit=100");
            Assert.Equal(1, list["total"]!.GetValue<int>());
            Assert.Equal("100", list["size"]!.GetValue<string>());
            Assert.Equal(404, (int)(await host.Client.GetAsync("/api/kestra/executions/missing")).StatusCode);
        }
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

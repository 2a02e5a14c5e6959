using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Windhover.Engine.Executor;
using Windhover.Engine.Runtime;
using Windhover.Engine.Stores;
using Windhover.Flows.Expressions;
using Windhover.Server.Hosting;
using Xunit.Abstractions;

namespace Windhover.Blueprints.Arena.Tests;

/// <summary>The arena's flows on a real Windhover server (in-memory stores), triggered through the arena's facade.</summary>
public sealed class EndToEndTests(ITestOutputHelper output)
{
    private sealed class Stack : IAsyncDisposable
    {
        public required WebApplication Windhover { get; init; }
        public required ArenaHost Arena { get; init; }

        public async ValueTask DisposeAsync()
        {
            await Arena.DisposeAsync();
            await Windhover.StopAsync();
            await Windhover.DisposeAsync();
        }
    }

    private static async Task<Stack> StartAsync()
    {
        var flows = Path.Combine(Path.GetTempPath(), "arena-e2e", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(flows);
        var source = FlowsFolder();
        foreach (var file in Directory.GetFiles(source, "*.yml"))
        {
            File.Copy(file, Path.Combine(flows, Path.GetFileName(file)));
        }

        var envs = new Dictionary<string, object?>();
        var windhover = WindhoverServer.Build(new ServerOptions { Port = 0, FlowPath = flows, DataPath = flows }, services =>
            services.AddSingleton(sp => new LocalRuntime(sp.GetRequiredService<StoreSet>(), new RuntimeOptions
            {
                Expressions = sp.GetRequiredService<ExpressionEngine>(),
                Executor = new ExecutorOptions { Envs = envs },
                WorkingDirectoryRoot = Path.Combine(flows, "work"),
            })), _ => { });
        await windhover.StartAsync();
        var windhoverUrl = windhover.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var arena = await ArenaHost.StartAsync(o => o with { KestraUrl = windhoverUrl });
        envs["arena_api_url"] = arena.Client.BaseAddress!.ToString().TrimEnd('/');
        return new Stack { Windhover = windhover, Arena = arena };
    }

    private string? WindhoverUrl { get; set; }

    private static async Task<List<string>> ExecutionsOf(HttpClient http, string url)
    {
        var search = JsonNode.Parse(await http.GetStringAsync($"{url}/api/v1/executions/search?size=100"))!;
        return [.. search["results"]!.AsArray().Where(r => r!["state"]!["current"]!.GetValue<string>() == "FAILED").Select(r => r!["id"]!.GetValue<string>())];
    }

    /// <summary>blueprints/arena/flows of the repository the tests run from.</summary>
    public static string FlowsFolder() => Path.Combine(FlowTestsPath(), "blueprints", "arena", "flows");

    private static string FlowTestsPath()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !Directory.Exists(Path.Combine(dir.FullName, "blueprints", "arena", "flows")))
        {
            dir = dir.Parent;
        }

        return dir!.FullName;
    }

    private async Task<JsonNode> WaitExecution(ArenaHost arena, string id, int seconds = 120)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var e = await arena.GetJson($"/api/kestra/executions/{id}");
            var state = e["state"]?["current"]?.GetValue<string>();
            if (state is "SUCCESS" or "FAILED" or "KILLED" or "WARNING" or "CANCELLED")
            {
                if (state != "SUCCESS" && WindhoverUrl is { } url)
                {
                    using var http = new HttpClient();
                    foreach (var child in await ExecutionsOf(http, url))
                    {
                        output.WriteLine("LOGS " + child + ": " + await http.GetStringAsync($"{url}/api/v1/logs/{child}"));
                    }
                }

                output.WriteLine(e.ToJsonString());
                return e;
            }

            Assert.True(DateTime.UtcNow < deadline, $"execution {id} still {state}: {e.ToJsonString()}");
            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task Match_trigger_runs_match_orchestration_to_success()
    {
        await using var stack = await StartAsync();
        var (status, result) = await stack.Arena.Post("/api/kestra/trigger/match",
            """{"redAgentId":"default-red","blueAgentId":"default-blue","targetAgentId":"default-target","mode":"standard"}""");
        Assert.True(status == 200, $"{status} {result}");
        var execution = await WaitExecution(stack.Arena, result!["executionId"]!.GetValue<string>());
        Assert.Equal("SUCCESS", execution["state"]!["current"]!.GetValue<string>());
        Assert.Equal("completed", execution["outputs"]!["match_status"]!.GetValue<string>());
    }

    public static TheoryData<string, string> OtherTriggers => new()
    {
        { "scheduled", """{"cronExpression":"0 */6 * * *"}""" },
        { "monitoring", """{"targetAgentId":"default-target","intervalMinutes":60}""" },
        { "dataset", """{"minSeverity":5.0}""" },
        { "fine-tune", """{"agentId":"default-blue","agentType":"blue","trainingMatchesCount":50}""" },
        { "fine-tune", """{"agentId":"default-red","agentType":"red","trainingMatchesCount":50}""" },
        { "batch-evaluation", """{"agentCombinations":[{"redAgentId":"default-red","blueAgentId":"blue-monitor-only","targetAgentId":"default-target"},{"redAgentId":"red-novice","blueAgentId":"default-blue","targetAgentId":"target-hardened"}],"matchesPerCombination":3}""" },
    };

    [Theory]
    [MemberData(nameof(OtherTriggers))]
    public async Task Seed_trigger_runs_its_flow_to_success(string kind, string body)
    {
        await using var stack = await StartAsync();
        WindhoverUrl = stack.Windhover.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var seeded = await stack.Arena.StartMatch("default-red", "default-blue", "default-target", "quick", seed: 4);
        await stack.Arena.WaitMatch(seeded["id"]!.GetValue<string>());
        var (status, result) = await stack.Arena.Post($"/api/kestra/trigger/{kind}", body);
        Assert.True(status == 200, $"{status} {result}");
        var execution = await WaitExecution(stack.Arena, result!["executionId"]!.GetValue<string>(), 180);
        Assert.Equal("SUCCESS", execution["state"]!["current"]!.GetValue<string>());
        if (kind == "batch-evaluation")
        {
            Assert.Equal(6, int.Parse(execution["outputs"]!["total_matches"]!.ToString(), System.Globalization.CultureInfo.InvariantCulture));
        }
    }
}

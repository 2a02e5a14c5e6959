using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace Windhover.Blueprints.Arena.Tests;

public sealed class TrainingApiTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Export_dataset_as_json_and_jsonl_with_metadata()
    {
        await using var host = await ArenaHost.StartAsync();
        var id = (await host.StartMatch("default-red", "blue-rules-only", "default-target", "standard", seed: 2))["id"]!.GetValue<string>();
        await host.WaitMatch(id);
        var (status, ds) = await host.Post("/api/oumi/export-dataset", new { matchIds = new[] { id }, format = "jsonl", minSeverity = 5.0 });
        Assert.Equal(201, status);
        var count = ds!["count"]!.GetValue<int>();
        Assert.True(count > 0);
        var records = ds["dataset"]!.AsArray();
        Assert.All(records, r =>
        {
            Assert.True(r!["metadata"]!["severityScore"]!.GetValue<double>() >= 5.0);
            Assert.Equal(id, r["metadata"]!["matchId"]!.GetValue<string>());
            var roles = r["messages"]!.AsArray().Select(m => m!["role"]!.GetValue<string>()).ToList();
            Assert.Equal(["system", "user", "assistant"], roles);
            Assert.NotNull(r["metadata"]!["defense"]);
            Assert.NotNull(r["metadata"]!["outcome"]);
            Assert.NotNull(r["metadata"]!["attackType"]);
        });
        var text = await host.Client.GetStringAsync($"/api/oumi/datasets/{ds["id"]}");
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(count, lines.Length);
        Assert.All(lines, l => JsonNode.Parse(l));
        Assert.Equal("format", (await host.Post("/api/oumi/export-dataset", new { format = "parquet" })).Body!["field"]!.GetValue<string>());
        Assert.Equal("matchIds", (await host.Post("/api/oumi/export-dataset", new { matchIds = new[] { "nope" } })).Body!["field"]!.GetValue<string>());
    }

    [Fact]
    public async Task Offline_fine_tuning_of_the_blue_agent_raises_held_out_defense()
    {
        await using var host = await ArenaHost.StartAsync();
        var ids = new List<string>();
        foreach (var seed in new long[] { 101, 102, 103 })
        {
            ids.Add((await host.StartMatch("default-red", "default-blue", "default-target", "standard", seed: seed))["id"]!.GetValue<string>());
        }

        foreach (var id in ids)
        {
            await host.WaitMatch(id);
        }

        var before = await host.Post("/api/evaluate/defense", new { blueAgentId = "default-blue" });
        var (_, ds) = await host.Post("/api/oumi/export-dataset", new { matchIds = ids, format = "json", minSeverity = 0 });
        var (status, job) = await host.Post("/api/oumi/fine-tune", new { agentId = "default-blue", datasetId = ds!["id"]!.GetValue<string>(), config = new { epochs = 3 } });
        Assert.Equal(201, status);
        var jobId = job!["jobId"]!.GetValue<string>();
        JsonNode state;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        do
        {
            await Task.Delay(50);
            state = await host.GetJson($"/api/oumi/fine-tune/{jobId}");
        }
        while (state["status"]!.GetValue<string>() is "queued" or "running" && DateTime.UtcNow < deadline);

        Assert.Equal("completed", state["status"]!.GetValue<string>());
        Assert.Equal(100, state["progress"]!.GetValue<double>());
        var metrics = state["metrics"]!;
        var b = metrics["defenseSuccessRateBefore"]!.GetValue<double>();
        var a = metrics["defenseSuccessRateAfter"]!.GetValue<double>();
        output.WriteLine($"held-out defense success rate: before {b}% -> after {a}% ({metrics.ToJsonString()})");
        Assert.True(a >= b + 10, $"{b} -> {a}");
        Assert.True(metrics["falsePositiveRateAfter"]!.GetValue<double>() <= 10);

        var agent = await host.GetJson("/api/agents/default-blue");
        Assert.Equal(2, agent["version"]!.GetValue<int>());
        Assert.Equal(state["modelId"]!.GetValue<string>(), agent["model"]!.GetValue<string>());
        var after = await host.Post("/api/evaluate/defense", new { blueAgentId = "default-blue" });
        Assert.Equal(b, before.Body!["defenseSuccessRate"]!.GetValue<double>());
        Assert.Equal(a, after.Body!["defenseSuccessRate"]!.GetValue<double>());

        // The trained model is stored: a restart keeps it.
        var dir = host.DataDirectory;
        await host.DisposeAsync();
        await using var again = await ArenaHost.StartAsync(dataDirectory: dir);
        Assert.Equal(a, (await again.Post("/api/evaluate/defense", new { blueAgentId = "default-blue" })).Body!["defenseSuccessRate"]!.GetValue<double>());
    }

    [Fact]
    public async Task Fine_tune_validates_its_body()
    {
        await using var host = await ArenaHost.StartAsync();
        Assert.Equal("agentId", (await host.Post("/api/oumi/fine-tune", new { datasetId = "x" })).Body!["field"]!.GetValue<string>());
        Assert.Equal("datasetId", (await host.Post("/api/oumi/fine-tune", new { agentId = "default-blue", datasetId = "nope" })).Body!["field"]!.GetValue<string>());
    }

    [Fact]
    public async Task Batch_of_two_combinations_times_three_runs_in_parallel_and_aggregates()
    {
        await using var host = await ArenaHost.StartAsync(o => o with { RoundDelay = TimeSpan.FromMilliseconds(30) });
        var combos = new object[]
        {
            new { redAgentId = "default-red", blueAgentId = "blue-monitor-only", targetAgentId = "default-target" },
            new { redAgentId = "red-novice", blueAgentId = "default-blue", targetAgentId = "target-hardened" },
        };
        var (_, plan) = await host.Post("/api/batches/plan", new { combinations = combos, matchesPerCombination = 3 });
        var runs = plan!["runs"]!.AsArray();
        Assert.Equal(6, runs.Count);
        var ids = new List<string>();
        foreach (var run in runs)
        {
            var (_, m) = await host.Post("/api/matches", new { redAgentId = run!["red_agent_id"]!.ToString(), blueAgentId = run["blue_agent_id"]!.ToString(), targetAgentId = run["target_agent_id"]!.ToString(), mode = "quick", batchId = "b1" });
            ids.Add(m!["id"]!.GetValue<string>());
        }

        // All six run at once: each quick match takes ~5 x 30 ms, so overlapping start/end times show parallelism.
        var matches = new List<JsonNode>();
        foreach (var id in ids)
        {
            matches.Add(await host.WaitMatch(id));
        }

        var lastStart = matches.Max(m => DateTimeOffset.Parse(m["startedAt"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture));
        var firstEnd = matches.Min(m => DateTimeOffset.Parse(m["completedAt"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(lastStart < firstEnd, "the six matches did not overlap");

        var aggregate = await host.GetJson("/api/batches/b1");
        Assert.Equal(6, aggregate["totalMatches"]!.GetValue<int>());
        var rows = aggregate["combinations"]!.AsArray();
        Assert.Equal(2, rows.Count);
        Assert.All(rows, r => Assert.Equal(3, r!["totalMatches"]!.GetValue<int>()));
        Assert.Equal(100, rows.Single(r => r!["redAgentId"]!.ToString() == "red-novice")!["blueWinRate"]!.GetValue<double>());
        Assert.Equal(100, rows.Single(r => r!["redAgentId"]!.ToString() == "default-red")!["redWinRate"]!.GetValue<double>());
    }
}

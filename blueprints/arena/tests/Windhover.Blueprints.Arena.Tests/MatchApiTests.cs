using System.Net;
using System.Text.Json.Nodes;

namespace Windhover.Blueprints.Arena.Tests;

public sealed class MatchApiTests
{
    [Fact]
    public async Task Seeded_agents_are_listed_and_filterable()
    {
        await using var host = await ArenaHost.StartAsync();
        var all = (await host.GetJson("/api/agents")).AsArray();
        Assert.Contains(all, a => a!["id"]!.GetValue<string>() == "default-red");
        Assert.Contains(all, a => a!["id"]!.GetValue<string>() == "default-blue");
        Assert.Contains(all, a => a!["id"]!.GetValue<string>() == "default-target");
        var reds = (await host.GetJson("/api/agents?type=red")).AsArray();
        Assert.All(reds, a => Assert.Equal("red", a!["type"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Agents_crud_versions_on_patch()
    {
        await using var host = await ArenaHost.StartAsync();
        var (status, created) = await host.Post("/api/agents", new { id = "my-blue", name = "Mine", type = "blue", permissions = new[] { "flag" } });
        Assert.Equal(201, status);
        Assert.Equal(1, created!["version"]!.GetValue<int>());
        var patch = new HttpRequestMessage(HttpMethod.Patch, "/api/agents/my-blue") { Content = new StringContent("""{"systemPrompt":"be strict","metadata":{"flagThreshold":0.3}}""", System.Text.Encoding.UTF8, "application/json") };
        var patched = JsonNode.Parse(await (await host.Client.SendAsync(patch)).Content.ReadAsStringAsync())!;
        Assert.Equal(2, patched["version"]!.GetValue<int>());
        Assert.Equal(0.3, patched["metadata"]!["flagThreshold"]!.GetValue<double>());
        Assert.Equal(2, (await host.GetJson("/api/agents/my-blue/versions")).AsArray().Count);
        Assert.Equal(HttpStatusCode.NoContent, (await host.Client.DeleteAsync("/api/agents/my-blue")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await host.Client.GetAsync("/api/agents/my-blue")).StatusCode);
    }

    [Theory]
    [InlineData("""{"blueAgentId":"default-blue","targetAgentId":"default-target"}""", "redAgentId")]
    [InlineData("""{"redAgentId":"default-blue","blueAgentId":"default-blue","targetAgentId":"default-target"}""", "redAgentId")]
    [InlineData("""{"redAgentId":"default-red","blueAgentId":"nope","targetAgentId":"default-target"}""", "blueAgentId")]
    [InlineData("""{"redAgentId":"default-red","blueAgentId":"default-blue","targetAgentId":"default-target","mode":"epic"}""", "mode")]
    [InlineData("""{"redAgentId":"default-red","blueAgentId":"default-blue","targetAgentId":"default-target","maxRounds":"x"}""", "maxRounds")]
    [InlineData("""not json""", "body")]
    public async Task Invalid_match_bodies_get_400_naming_the_field(string body, string field)
    {
        await using var host = await ArenaHost.StartAsync();
        var (status, error) = await host.Post("/api/matches", body);
        Assert.Equal(400, status);
        Assert.Equal(field, error!["field"]!.GetValue<string>());
    }

    [Fact]
    public async Task Different_agents_produce_different_winners_and_severities()
    {
        await using var host = await ArenaHost.StartAsync();
        var strongRed = await host.StartMatch("default-red", "blue-monitor-only", "default-target", "standard", seed: 7);
        var weakRed = await host.StartMatch("red-novice", "default-blue", "target-hardened", "standard", seed: 7);
        var a = await host.WaitMatch(strongRed["id"]!.GetValue<string>());
        var b = await host.WaitMatch(weakRed["id"]!.GetValue<string>());
        Assert.Equal("red", a["winner"]!.GetValue<string>());
        Assert.Equal("blue", b["winner"]!.GetValue<string>());
        Assert.True(a["score"]!["severity"]!.GetValue<double>() > b["score"]!["severity"]!.GetValue<double>());
        Assert.Equal(20, a["score"]!["rounds"]!.GetValue<int>());

        var metrics = await host.GetJson($"/api/matches/{a["id"]}/metrics");
        Assert.Equal(20, metrics["total_rounds"]!.GetValue<int>());
        var transcript = await host.GetJson($"/api/matches/{a["id"]}/transcript?outcome=success");
        Assert.All(transcript["entries"]!.AsArray(), e => Assert.Equal("success", e!["outcome"]!.GetValue<string>()));
        Assert.NotEmpty(transcript["entries"]!.AsArray());
        var events = (await host.GetJson($"/api/matches/{a["id"]}/events")).AsArray();
        Assert.Equal(20, events.Count(e => e!["type"]!.GetValue<string>() == "attack"));
        Assert.Equal("match_completed", events.Last()!["type"]!.GetValue<string>());
        var list = await host.Client.GetAsync("/api/matches?limit=1&page=2");
        Assert.Equal("2", list.Headers.GetValues("X-Total-Count").Single());
        Assert.Single(JsonNode.Parse(await list.Content.ReadAsStringAsync())!.AsArray());
    }

    [Fact]
    public async Task Pause_resume_and_stop_a_running_match()
    {
        await using var host = await ArenaHost.StartAsync(o => o with { RoundDelay = TimeSpan.FromMilliseconds(40) });
        var m = await host.StartMatch("default-red", "default-blue", "default-target", "deep", seed: 3);
        var id = m["id"]!.GetValue<string>();
        await Task.Delay(150);
        Assert.Equal(200, (await host.Post($"/api/matches/{id}/pause", null)).Status);
        JsonNode paused;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        do
        {
            await Task.Delay(50);
            paused = await host.GetJson($"/api/matches/{id}");
        }
        while (paused["status"]!.GetValue<string>() != "paused" && DateTime.UtcNow < deadline);
        Assert.Equal("paused", paused["status"]!.GetValue<string>());
        var round = paused["currentRound"]!.GetValue<int>();
        await Task.Delay(200);
        Assert.Equal(round, (await host.GetJson($"/api/matches/{id}"))["currentRound"]!.GetValue<int>());
        Assert.Equal(200, (await host.Post($"/api/matches/{id}/resume", null)).Status);
        await Task.Delay(200);
        Assert.True((await host.GetJson($"/api/matches/{id}"))["currentRound"]!.GetValue<int>() > round);
        Assert.Equal(200, (await host.Post($"/api/matches/{id}/stop", null)).Status);
        var final = await host.WaitMatch(id);
        Assert.Equal("cancelled", final["status"]!.GetValue<string>());
        Assert.Equal(409, (await host.Post($"/api/matches/{id}/resume", null)).Status);
    }

    [Fact]
    public async Task Events_stream_live_over_sse()
    {
        await using var host = await ArenaHost.StartAsync(o => o with { RoundDelay = TimeSpan.FromMilliseconds(20) });
        var m = await host.StartMatch("default-red", "default-blue", "default-target", "quick", seed: 5);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/matches/{m["id"]}/events");
        request.Headers.Accept.ParseAdd("text/event-stream");
        using var response = await host.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var types = new List<string>();
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                types.Add(line[7..]);
            }
        }

        Assert.Equal("match_created", types[0]);
        Assert.Equal(5, types.Count(t => t == "judgement"));
        Assert.Equal("match_completed", types[^1]);
    }

    [Fact]
    public async Task A_match_survives_a_restart_and_finishes()
    {
        var dir = Path.Combine(Path.GetTempPath(), "arena-tests", Guid.NewGuid().ToString("N"));
        string id;
        await using (var first = await ArenaHost.StartAsync(o => o with { RoundDelay = TimeSpan.FromMilliseconds(60) }, dir))
        {
            id = (await first.StartMatch("default-red", "default-blue", "default-target", "standard", seed: 9))["id"]!.GetValue<string>();
            await Task.Delay(300);
        }

        await using var second = await ArenaHost.StartAsync(dataDirectory: dir);
        var done = await second.WaitMatch(id);
        Assert.Equal("completed", done["status"]!.GetValue<string>());
        var rounds = (await second.GetJson($"/api/matches/{id}/rounds")).AsArray();
        Assert.Equal(Enumerable.Range(1, 20), rounds.Select(r => r!["number"]!.GetValue<int>()));
    }

    [Fact]
    public async Task Alerts_accept_the_flow_body_and_are_listed()
    {
        await using var host = await ArenaHost.StartAsync();
        var (status, alert) = await host.Post("/api/alerts", new { match_id = "m_1", severity = "8.75", critical_vulnerabilities = "3" });
        Assert.Equal(201, status);
        Assert.Equal(8.75, alert!["severity"]!.GetValue<double>());
        Assert.Equal(3, alert["criticalVulnerabilities"]!.GetValue<int>());
        Assert.Single((await host.GetJson("/api/alerts")).AsArray());
        Assert.Equal("severity", (await host.Post("/api/alerts", new { severity = "high" })).Body!["field"]!.GetValue<string>());
    }

    [Fact]
    public async Task Dashboard_is_served_without_external_assets()
    {
        await using var host = await ArenaHost.StartAsync();
        var html = await host.Client.GetStringAsync("/");
        Assert.Contains("<script src=\"/app.js\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);
        var js = await host.Client.GetStringAsync("/app.js");
        Assert.Contains("EventSource", js, StringComparison.Ordinal);
    }
}

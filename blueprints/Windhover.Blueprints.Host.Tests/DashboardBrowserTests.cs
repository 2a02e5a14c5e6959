using System.Text;
using System.Text.Json;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Windhover.Blueprints.Host.Tests;

/// <summary>Both blueprints' dashboards in headless Chromium, against the README's launcher and the real Windhover server.</summary>
public sealed class DashboardBrowserTests
{
    private const string WebhookPath = "api/v1/executions/webhook/ai.devops.commander/devops-autonomous-loop/devops-deploy-webhook";

    // The seed's three scenarios (../shared/seeds/devops-commander-kestra-workflows.md, "Demo Scenarios"): each a
    // `curl -X POST <webhook> -H "Content-Type: application/json" -d '<body>'`, the bodies verbatim.
    private static readonly (string Body, string Deployment, string Decision)[] SeedScenarios =
    [
        ("""{"deployment_id": "deploy-001", "service_name": "payment-service", "version": "v1.2.3"}""", "deploy-001", "ROLLBACK"),
        ("""{"deployment_id": "deploy-002", "service_name": "payment-service", "version": "v1.2.4-hotfix"}""", "deploy-002", "CONTINUE"),
        ("""{"deployment_id": "deploy-003", "service_name": "user-service", "version": "v1.3.0"}""", "deploy-003", "ROLLBACK"),
    ];

    [ChromiumFact]
    public async Task DevOps_dashboard_shows_the_decisions_of_the_seed_s_three_scenarios()
    {
        await using var h = await LauncherHarness.StartAsync();
        var page = h.Page;

        // Opened before anything ran: empty, and subscribed to live updates.
        await page.GotoAsync(h.DevOpsUrl + "/");
        await Expect(page.Locator("#live")).ToHaveTextAsync("live updates: on");
        await Expect(page.Locator("#empty")).ToBeVisibleAsync();

        var executions = new List<string>();
        foreach (var (body, _, _) in SeedScenarios)
        {
            using var content = new StringContent(body, Encoding.UTF8, "application/json");
            using var response = await h.Http.PostAsync(WebhookPath, content);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, $"webhook → {(int)response.StatusCode}: {text}");
            executions.Add(JsonDocument.Parse(text).RootElement.GetProperty("id").GetString()!);
        }

        foreach (var id in executions)
        {
            var execution = await h.WaitForTerminalAsync(id, TimeSpan.FromSeconds(90));
            Assert.Equal("SUCCESS", execution.GetProperty("state").GetProperty("current").GetString());
        }

        // The open page took the three decisions from its live stream, without a reload.
        foreach (var (_, deployment, decision) in SeedScenarios)
        {
            await Expect(page.Locator($"#timeline tr[data-deployment='{deployment}']")).ToHaveAttributeAsync("data-decision", decision);
        }

        // A fresh load shows the same: per deployment its AI decision, action and the timeline row.
        await page.ReloadAsync();
        await Expect(page.Locator("#timeline tr[data-deployment]")).ToHaveCountAsync(3);
        foreach (var (_, deployment, decision) in SeedScenarios)
        {
            var card = page.Locator($"#deployment-{deployment}");
            await Expect(card).ToHaveAttributeAsync("data-decision", decision);
            await Expect(card.Locator(".row > div").First).ToContainTextAsync("AI decision" + decision);
            await Expect(page.Locator($"#timeline tr[data-deployment='{deployment}'] .badge").First).ToHaveTextAsync(decision);
        }

        await Expect(page.Locator("#deployment-deploy-001")).ToContainTextAsync("threshold-analyser");
        await Expect(page.Locator("#stat-total-deployments .v")).ToHaveTextAsync("3");
        await h.ScreenshotAsync("devops-commander-dashboard");
    }

    [ChromiumFact]
    public async Task Arena_dashboard_shows_a_running_match_s_events_as_they_happen()
    {
        await using var h = await LauncherHarness.StartAsync();
        using var arena = new HttpClient { BaseAddress = new Uri(h.ArenaUrl + "/"), Timeout = TimeSpan.FromSeconds(30) };
        var page = h.Page;

        await page.GotoAsync(h.ArenaUrl + "/");
        await Expect(page.Locator("#conn")).ToHaveTextAsync("live");
        await Expect(page.Locator("select[name=redAgentId] option[value='default-red']")).ToHaveCountAsync(1);

        // A continuous match runs until stopped (a round every 500 ms at least), so it is surely running while we look.
        await page.Locator("select[name=mode]").SelectOptionAsync("continuous");
        await page.Locator("#match-form button[type=submit]").ClickAsync();
        await Expect(page.Locator("#live-id")).Not.ToBeEmptyAsync();
        var matchId = (await page.Locator("#live-id").TextContentAsync())!.Trim();

        const string Judgements = "#feed li[data-type='judgement']";
        await Expect(page.Locator(Judgements).First).ToBeVisibleAsync();
        var first = await page.Locator(Judgements).CountAsync();
        Assert.Equal("running", await StatusAsync(arena, matchId));

        // More rounds arrive on the open page (server-sent events; the page is not reloaded), each with attack,
        // target answer, defense and judgement, while the match is still running.
        await page.WaitForFunctionAsync(
            "n => document.querySelectorAll(\"#feed li[data-type='judgement']\").length >= n", first + 3, new() { Timeout = 30_000 });
        Assert.Equal("running", await StatusAsync(arena, matchId));
        foreach (var type in new[] { "attack", "target", "defense" })
        {
            Assert.True(await page.Locator($"#feed li[data-type='{type}']").CountAsync() >= first + 3, $"{type} events in the feed");
        }

        await Expect(page.Locator("#feed li[data-type='attack']").First).ToContainTextAsync("RED [");
        await Expect(page.Locator("#scoreboard")).ToContainTextAsync("Red ");
        await Expect(page.Locator($"#matches tr[data-id='{matchId}']")).ToContainTextAsync("running");
        await h.ScreenshotAsync("arena-live-match");

        // Stop ends it; the history shows it.
        await page.Locator("#stop").ClickAsync();
        await Expect(page.Locator($"#matches tr[data-id='{matchId}']")).ToContainTextAsync("cancelled", new() { Timeout = 30_000 });
        Assert.Equal("cancelled", await StatusAsync(arena, matchId));
    }

    private static async Task<string?> StatusAsync(HttpClient arena, string matchId)
    {
        using var doc = JsonDocument.Parse(await arena.GetStringAsync($"api/matches/{matchId}"));
        return doc.RootElement.GetProperty("status").GetString();
    }
}

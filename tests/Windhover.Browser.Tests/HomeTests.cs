using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Windhover.Browser.Tests;

/// <summary>Home: executions by state over time, running now, recent failures with their error.</summary>
public sealed class HomeTests
{
    private const string Flows = """
        id: ok
        namespace: company.home
        tasks:
          - id: hello
            type: io.kestra.plugin.core.log.Log
            message: fine
        ---
        id: failing
        namespace: company.home
        tasks:
          - id: boom
            type: io.kestra.plugin.core.execution.Fail
            errorMessage: broken on purpose
        ---
        id: sleepy
        namespace: company.home
        tasks:
          - id: nap
            type: io.kestra.plugin.core.flow.Sleep
            duration: PT60S
        """;

    [ChromiumFact]
    public async Task Chart_running_now_and_recent_failures()
    {
        await using var h = await BrowserHarness.StartAsync();
        var page = h.Page;
        foreach (var flow in Flows.Split("---\n"))
        {
            await h.CreateFlowAsync(flow);
        }

        // Empty store: an empty chart, nothing running, no failures.
        await page.GotoAsync("/ui");
        await Expect(page.Locator("#state-chart rect")).ToHaveCountAsync(0);
        await Expect(page.Locator("#failures")).ToContainTextAsync("No failed executions");

        async Task RunAsync(string flowId, string state)
        {
            await page.GotoAsync($"/ui/flows/company.home/{flowId}/execute");
            await page.Locator("#run").ClickAsync();
            await Expect(page.Locator("#execution-state")).ToHaveTextAsync(state, new() { Timeout = 30_000 });
        }

        await RunAsync("ok", "SUCCESS");
        await RunAsync("ok", "SUCCESS");
        await RunAsync("failing", "FAILED");
        await RunAsync("sleepy", "RUNNING");

        await page.GotoAsync("/ui");
        // The current hour's bar stacks 2 SUCCESS, 1 FAILED, 1 RUNNING (legend totals: robust to an hour turning during the test).
        await Expect(page.Locator("#chart-legend li[data-series=SUCCESS] strong")).ToHaveTextAsync("2");
        await Expect(page.Locator("#chart-legend li[data-series=FAILED] strong")).ToHaveTextAsync("1");
        await Expect(page.Locator("#chart-legend li[data-series=RUNNING] strong")).ToHaveTextAsync("1");
        await Expect(page.Locator("#chart-legend li[data-series=WARNING] strong")).ToHaveTextAsync("0");
        var counts = await page.Locator("#state-chart rect").EvaluateAllAsync<int[]>("rects => rects.map(r => +r.dataset.count)");
        Assert.Equal(4, counts.Sum());
        // Heights are proportional to the counts: 40 px per execution when one bar holds all four.
        var heights = await page.Locator("#state-chart rect").EvaluateAllAsync<double[]>("rects => rects.map(r => r.height.baseVal.value)");
        if (counts.Length == 3)
        {
            Assert.Equal(counts.Select(c => c * 40.0), heights);
        }

        // Running now lists the sleeping execution; recent failures show the failed task and its error.
        await Expect(page.Locator("#running-count")).ToHaveTextAsync("1");
        await Expect(page.Locator("#running tbody tr")).ToHaveCountAsync(1);
        await Expect(page.Locator("#running")).ToContainTextAsync("company.home.sleepy");
        await Expect(page.Locator("#failures tbody tr")).ToHaveCountAsync(1);
        await Expect(page.Locator("#failures")).ToContainTextAsync("boom");
        await Expect(page.Locator("#failures")).ToContainTextAsync("broken on purpose");
        await h.ScreenshotAsync("19-home");

        // Live: killing the running execution elsewhere updates the page in place (no reload), then polling stops.
        await page.EvaluateAsync("() => window.stillHere = true");
        var runningId = await page.Locator("#running tbody tr td.mono a").TextContentAsync();
        var kill = await page.APIRequest.DeleteAsync($"/api/v1/executions/{runningId}/kill");
        Assert.True(kill.Ok, $"kill: {kill.Status}");
        await Expect(page.Locator("#running-count")).ToHaveTextAsync("0", new() { Timeout = 20_000 });
        await Expect(page.Locator("#chart-legend li[data-series=KILLED] strong")).ToHaveTextAsync("1");
        await Expect(page.Locator("#live-home")).ToHaveAttributeAsync("data-active", "false");
        Assert.True(await page.EvaluateAsync<bool>("() => window.stillHere === true"));

        // Other ranges keep the counts (same executions, bigger buckets).
        await page.GetByRole(AriaRole.Link, new() { Name = "7 days" }).ClickAsync();
        await Expect(page.Locator("#state-chart")).ToHaveAttributeAsync("aria-label", "Executions by state over the last 7 days");
        await Expect(page.Locator("#chart-legend li[data-series=SUCCESS] strong")).ToHaveTextAsync("2");
        await Expect(page.Locator("#chart-legend li[data-series=FAILED] strong")).ToHaveTextAsync("1");
    }
}

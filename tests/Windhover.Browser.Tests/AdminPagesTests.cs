using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Windhover.Browser.Tests;

/// <summary>Triggers (last and next fire, disable and enable), the KV store per namespace, and namespaces.</summary>
public sealed class AdminPagesTests
{
    private const string TickingFlow = """
        id: ticking
        namespace: company.ops
        tasks:
          - id: log
            type: io.kestra.plugin.core.log.Log
            message: "tick {{ trigger.date }}"
        triggers:
          - id: every_second
            type: io.kestra.plugin.core.trigger.Schedule
            cron: "* * * * * *"
            withSeconds: true
          - id: yearly
            type: io.kestra.plugin.core.trigger.Schedule
            cron: "0 0 1 1 *"
            disabled: true
        """;

    [ChromiumFact]
    public async Task Triggers_fire_and_toggle_kv_set_and_delete_namespaces_list()
    {
        await using var h = await BrowserHarness.StartAsync();
        var page = h.Page;
        await h.CreateFlowAsync(TickingFlow);

        // The per-second schedule fires: its last fire links the execution it created, its next fire is set.
        var ticking = page.Locator("tr[data-trigger='company.ops/ticking/every_second']");
        var yearly = page.Locator("tr[data-trigger='company.ops/ticking/yearly']");
        await page.GotoAsync("/ui/triggers");
        for (var i = 0; i < 20 && await ticking.Locator("td:nth-child(4) a").CountAsync() == 0; i++)
        {
            await page.WaitForTimeoutAsync(500);
            await page.ReloadAsync();
        }

        await Expect(ticking.Locator("td:nth-child(4) a")).ToHaveAttributeAsync("href", new Regex("^/ui/executions/[A-Za-z0-9]+$"));
        await Expect(ticking.Locator("td:nth-child(5)")).ToHaveTextAsync(new Regex(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$"));
        await Expect(ticking).ToContainTextAsync("ENABLED");
        await Expect(yearly).ToContainTextAsync("DISABLED");
        await h.ScreenshotAsync("14-triggers");

        // Disable the ticking one: no next fire any more; enable the yearly one: it gets a next fire.
        await page.GetByRole(AriaRole.Button, new() { Name = "Disable every_second of ticking" }).ClickAsync();
        await Expect(ticking).ToContainTextAsync("DISABLED");
        await Expect(ticking.Locator("td:nth-child(5)")).ToHaveTextAsync("");
        await page.GetByRole(AriaRole.Button, new() { Name = "Enable yearly of ticking" }).ClickAsync();
        await Expect(yearly).ToContainTextAsync("ENABLED");
        await Expect(yearly.Locator("td:nth-child(5)")).ToHaveTextAsync(new Regex(@"^\d{4}-01-01 00:00:00Z$"));

        // The namespace filter.
        await page.GotoAsync("/ui/triggers?namespace=company.other");
        await Expect(page.Locator("#triggers")).ToHaveCountAsync(0);

        // KV store: set a string and a JSON value in a namespace, see them, delete one.
        await page.GotoAsync("/ui/kv?namespace=company.ops");
        await Expect(page.Locator("main")).ToContainTextAsync("No keys in company.ops");
        await page.Locator("#kv-key").FillAsync("greeting");
        await page.Locator("#kv-value").FillAsync("hello");
        await page.Locator("#kv-save").ClickAsync();
        await page.Locator("#kv-key").FillAsync("config");
        await page.Locator("#kv-value").FillAsync("{\"retries\": 3, \"hosts\": [\"a\", \"b\"]}");
        await page.Locator("#kv-json").CheckAsync();
        await page.Locator("#kv-ttl").FillAsync("PT1H");
        await page.Locator("#kv-save").ClickAsync();
        await Expect(page.Locator("#kv tbody tr")).ToHaveCountAsync(2);
        await Expect(page.Locator("tr[data-key=greeting]")).ToContainTextAsync("\"hello\"");
        await Expect(page.Locator("tr[data-key=config]")).ToContainTextAsync("retries: 3");
        await Expect(page.Locator("tr[data-key=config] td:nth-child(4)")).Not.ToHaveTextAsync("");
        var api = await page.APIRequest.GetAsync("/api/v1/namespaces/company.ops/kv/config");
        Assert.Contains("\"retries\":3", (await api.TextAsync()).Replace(" ", "", StringComparison.Ordinal), StringComparison.Ordinal);
        await h.ScreenshotAsync("15-kv");
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete greeting" }).ClickAsync();
        await Expect(page.Locator("#kv tbody tr")).ToHaveCountAsync(1);
        await page.Locator("#kv-key").FillAsync("bad");
        await page.Locator("#kv-value").FillAsync("{not json");
        await page.Locator("#kv-json").CheckAsync();
        await page.Locator("#kv-save").ClickAsync();
        await Expect(page.Locator("#kv-error")).ToContainTextAsync("not valid JSON");

        // Namespaces: counts link to the filtered pages.
        await page.GotoAsync("/ui/namespaces");
        var row = page.Locator("tr[data-namespace='company.ops']");
        await Expect(row.Locator("td:nth-child(2)")).ToHaveTextAsync("1");
        await Expect(row.Locator("td:nth-child(4)")).ToHaveTextAsync("2");
        await Expect(row.Locator("td:nth-child(5)")).ToHaveTextAsync("1");
        await h.ScreenshotAsync("16-namespaces");
        await row.Locator("td:nth-child(5) a").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/ui/kv\\?namespace=company.ops$"));
    }
}

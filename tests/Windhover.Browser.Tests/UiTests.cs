using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Windhover.Browser.Tests;

/// <summary>The acceptance path of the web UI in a real headless Chromium against the real server and runtime.</summary>
public sealed class UiTests
{
    private const string InvalidFlow = """
        id: hello
        namespace: company.team

        inputs:
          - id: name
            type: STRING
            defaults: world

        tasks:
          - id: say
            type: io.kestra.plugin.core.log.NoSuchTask
            message: "Hello {{ inputs.name }}"
          - id: greet
            type: io.kestra.plugin.core.debug.Return
            format: "Hi {{ inputs.name }}"
        """;

    private const string SleepFlow = """
        id: sleepy
        namespace: company.team

        tasks:
          - id: nap
            type: io.kestra.plugin.core.flow.Sleep
            duration: PT60S
        """;

    [ChromiumFact]
    public async Task Create_validate_fix_execute_inspect_and_kill()
    {
        await using var h = await BrowserHarness.StartAsync();
        var page = h.Page;

        // The root redirects to the UI; the layout has its navigation and theme toggle.
        await page.GotoAsync("/");
        await Expect(page).ToHaveURLAsync(new Regex("/ui$"));
        await Expect(page.GetByRole(AriaRole.Navigation, new() { Name = "Main" })).ToBeVisibleAsync();
        await h.ScreenshotAsync("01-home");

        // A new flow with an unknown task type: the live validation lists the problem at its line and marks the line.
        await page.GotoAsync("/ui/flows/new");
        await page.Locator("#source").FillAsync(InvalidFlow);
        var problem = page.Locator("#problems li").First;
        await Expect(problem).ToContainTextAsync(new Regex(@"^11:\d+"));
        await Expect(page.Locator("#gutter span:nth-child(11)")).ToHaveClassAsync("err");
        await h.ScreenshotAsync("02-editor-invalid");

        // Saving anyway is refused by the server-side validation, with the same problem listed.
        await page.Locator("#save").ClickAsync();
        await Expect(page.Locator("#save-error")).ToBeVisibleAsync();
        await Expect(page.Locator("#problems li").First).ToContainTextAsync(new Regex(@"^11:\d+"));

        // Fix it: no problems, save creates revision 1.
        await page.Locator("#source").FillAsync(InvalidFlow.Replace("log.NoSuchTask", "log.Log", StringComparison.Ordinal));
        await Expect(page.Locator("#problems li")).ToHaveCountAsync(0);
        await page.Locator("#save").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/ui/flows/company.team/hello\\?saved=1$"));
        await Expect(page.Locator("#saved")).ToContainTextAsync("Saved revision 1");
        await Expect(page.Locator("svg.topology")).ToBeVisibleAsync();
        await h.ScreenshotAsync("03-flow-editor");

        // The flow list finds it by namespace.
        await page.GotoAsync("/ui/flows?namespace=company");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "hello", Exact = true })).ToBeVisibleAsync();
        await h.ScreenshotAsync("04-flows");

        // Execute with an input from the generated form, land on the execution and watch it succeed.
        await page.GotoAsync("/ui/flows/company.team/hello/execute");
        await Expect(page.Locator("#input-name")).ToHaveValueAsync("world");
        await h.ScreenshotAsync("05-execute-form");
        await page.Locator("#input-name").FillAsync("Windhover");
        await page.Locator("#run").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/ui/executions/[A-Za-z0-9]+$"));
        await Expect(page.Locator("#execution-state")).ToHaveTextAsync("SUCCESS", new() { Timeout = 30_000 });
        await Expect(page.Locator("#task-runs")).ToContainTextAsync("say");
        await Expect(page.Locator("#logs")).ToContainTextAsync("Hello Windhover");
        await Expect(page.Locator("#outputs")).ToContainTextAsync("Hi Windhover");
        await Expect(page.Locator("#inputs")).ToContainTextAsync("Windhover");
        await h.ScreenshotAsync("06-execution");

        // The executions list filters by flow and state.
        await page.GotoAsync("/ui/executions?namespace=company.team&flowId=hello&state=SUCCESS");
        await Expect(page.Locator("table tbody tr")).ToHaveCountAsync(1);
        await h.ScreenshotAsync("07-executions");

        // A flow with a long Sleep: execute it, see it running, kill it.
        await page.GotoAsync("/ui/flows/new");
        await page.Locator("#source").FillAsync(SleepFlow);
        await Expect(page.Locator("#problems li")).ToHaveCountAsync(0);
        await page.Locator("#save").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/ui/flows/company.team/sleepy"));
        await page.Locator("#execute").ClickAsync();
        await page.Locator("#run").ClickAsync();
        await Expect(page.Locator("#execution-state")).ToHaveTextAsync("RUNNING", new() { Timeout = 30_000 });
        await h.ScreenshotAsync("08-running");

        // Live updates swap the page's content without reloading it: the focused Kill button keeps focus; Enter kills.
        await page.Locator("#kill").FocusAsync();
        await page.WaitForTimeoutAsync(2500);
        await Expect(page.Locator("#kill")).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("#execution-state")).ToHaveTextAsync("KILLED", new() { Timeout = 30_000 });
        await h.ScreenshotAsync("09-killed");

        // Dark theme through the toggle (a cookie; no script needed).
        await page.Locator("#theme-toggle").ClickAsync();
        await Expect(page.Locator("html")).ToHaveAttributeAsync("data-theme", "dark");
        await h.ScreenshotAsync("10-dark");
    }
}

using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Windhover.Browser.Tests;

/// <summary>The flow editor's YAML highlighting, revision history and the diff between two revisions.</summary>
public sealed class FlowEditorTests
{
    private const string Flow = """
        id: greet
        namespace: company.team
        # says hello
        inputs:
          - id: name
            type: STRING
            defaults: world
        tasks:
          - id: say
            type: io.kestra.plugin.core.log.Log
            message: "Hello {{ inputs.name }}"
          - id: count
            type: io.kestra.plugin.core.debug.Return
            format: answer
            allowFailure: false
        """;

    [ChromiumFact]
    public async Task Highlighting_follows_typing_revisions_diff_and_restore()
    {
        await using var h = await BrowserHarness.StartAsync();
        var page = h.Page;

        // The overlay highlights keys, strings with expressions, literals and comments; the textarea's own text is transparent.
        await page.GotoAsync("/ui/flows/new");
        await page.Locator("#source").FillAsync(Flow);
        var overlay = page.Locator("#highlight");
        await Expect(overlay.Locator(".y-k", new() { HasTextString = "tasks" })).ToHaveCountAsync(1);
        await Expect(overlay.Locator(".y-s .y-e")).ToHaveTextAsync("{{ inputs.name }}");
        await Expect(overlay.Locator(".y-l")).ToHaveTextAsync("false");
        await Expect(overlay.Locator(".y-c")).ToHaveTextAsync("# says hello");
        Assert.Equal("rgba(0, 0, 0, 0)", await page.Locator("#source").EvaluateAsync<string>("e => getComputedStyle(e).color"));
        // The overlay's text is the source, line for line (what is drawn is what is typed).
        Assert.Equal(Flow, (await overlay.TextContentAsync())!.TrimEnd('\n'));

        // Typing updates the overlay at once.
        await page.Locator("#source").PressAsync("Control+End");
        await page.Locator("#source").PressSequentiallyAsync("\n# the end");
        await Expect(overlay.Locator(".y-c")).ToHaveCountAsync(2);
        await Expect(overlay.Locator(".y-c").Last).ToHaveTextAsync("# the end");
        await Expect(page.Locator("#problems li")).ToHaveCountAsync(0);
        await page.Locator("#save").ClickAsync();
        await Expect(page.Locator("#saved")).ToContainTextAsync("Saved revision 1");
        // Server-rendered highlighting after the reload is the same.
        await Expect(overlay.Locator(".y-c").Last).ToHaveTextAsync("# the end");
        await h.ScreenshotAsync("17-editor-highlighted");

        // Revision 2 changes one line.
        var source = await page.Locator("#source").InputValueAsync();
        await page.Locator("#source").FillAsync(source.Replace("Hello {{", "Good morning {{", StringComparison.Ordinal));
        await page.Locator("#save").ClickAsync();
        await Expect(page.Locator("#saved")).ToContainTextAsync("Saved revision 2");

        // The revisions page diffs the previous revision against the latest by default.
        await page.Locator("#revisions").ClickAsync();
        await Expect(page.Locator("#revision-list tbody tr")).ToHaveCountAsync(2);
        await Expect(page.Locator("#diff tr.del")).ToHaveCountAsync(1);
        await Expect(page.Locator("#diff tr.add")).ToHaveCountAsync(1);
        await Expect(page.Locator("#diff tr.del")).ToContainTextAsync("Hello {{ inputs.name }}");
        await Expect(page.Locator("#diff tr.add")).ToContainTextAsync("Good morning {{ inputs.name }}");
        await Expect(page.Locator("#diff tr.del td.n").First).ToHaveTextAsync("11");
        await h.ScreenshotAsync("18-revision-diff");

        // Compare the other way round.
        await page.GetByLabel("Compare from revision 2").CheckAsync();
        await page.GetByLabel("Compare to revision 1").CheckAsync();
        await page.Locator("#compare").ClickAsync();
        await Expect(page.Locator("#diff tr.add")).ToContainTextAsync("Hello {{ inputs.name }}");
        await Expect(page.Locator("#diff tr.del")).ToContainTextAsync("Good morning");

        // Same revision on both sides: no changes.
        await page.GotoAsync("/ui/flows/company.team/greet/revisions?from=1&to=1");
        await Expect(page.Locator("#no-changes")).ToBeVisibleAsync();

        // View revision 1, then restore it by editing from it: saving makes revision 3 with the old text.
        await page.Locator("tr[data-revision='1']").GetByRole(AriaRole.Link, new() { Name = "View" }).ClickAsync();
        await Expect(page.Locator("#revision-source")).ToContainTextAsync("Hello {{ inputs.name }}");
        await page.Locator("tr[data-revision='1']").GetByRole(AriaRole.Link, new() { Name = "Edit from this revision" }).ClickAsync();
        await Expect(page.Locator("#loaded-revision")).ToContainTextAsync("revision 1");
        await Expect(page.Locator("#source")).ToHaveValueAsync(new Regex("Hello \\{\\{ inputs.name \\}\\}"));
        await page.Locator("#save").ClickAsync();
        await Expect(page.Locator("#saved")).ToContainTextAsync("Saved revision 3");
        await page.GotoAsync("/ui/flows/company.team/greet/revisions");
        await Expect(page.Locator("#diff tr.add")).ToContainTextAsync("Hello {{ inputs.name }}");
    }
}

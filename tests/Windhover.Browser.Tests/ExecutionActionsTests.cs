using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Windhover.Browser.Tests;

/// <summary>The execution page's actions and views: resume with an onResume form, labels, Gantt, JSON outputs with a file, log filter, restart, replay.</summary>
public sealed class ExecutionActionsTests
{
    private const string ApprovalFlow = """
        id: approval
        namespace: company.team
        tasks:
          - id: hello
            type: io.kestra.plugin.core.log.Log
            message: report body
          - id: fetch
            type: io.kestra.plugin.core.log.Fetch
          - id: wait
            type: io.kestra.plugin.core.flow.Pause
            onResume:
              - id: reason
                type: STRING
                description: Why it may go on
                defaults: looks fine
              - id: level
                type: SELECT
                values: [low, high]
                defaults: low
          - id: after
            type: io.kestra.plugin.core.log.Log
            message: "Resumed because {{ outputs.wait.onResume.reason }} at {{ outputs.wait.onResume.level }}"
        """;

    private const string FailingFlow = """
        id: failing
        namespace: company.team
        tasks:
          - id: first
            type: io.kestra.plugin.core.debug.Return
            format: one
          - id: boom
            type: io.kestra.plugin.core.execution.Fail
            errorMessage: broken on purpose
        """;

    [ChromiumFact]
    public async Task Resume_with_inputs_labels_timeline_outputs_and_log_filter()
    {
        await using var h = await BrowserHarness.StartAsync();
        var page = h.Page;
        await h.CreateFlowAsync(ApprovalFlow);

        await page.GotoAsync("/ui/flows/company.team/approval/execute");
        await page.Locator("#run").ClickAsync();
        await Expect(page.Locator("#execution-state")).ToHaveTextAsync("PAUSED", new() { Timeout = 30_000 });

        // The onResume form is generated from the Pause task: a text input with its default and a select.
        await Expect(page.Locator("#resume-form")).ToContainTextAsync("Paused at wait");
        await Expect(page.Locator("#resume-reason")).ToHaveValueAsync("looks fine");
        await Expect(page.Locator("#resume-level")).ToHaveValueAsync("low");
        await Expect(page.Locator("#resume-form")).ToContainTextAsync("Why it may go on");
        await h.ScreenshotAsync("11-paused");
        await page.Locator("#resume-reason").FillAsync("approved by the test");
        await page.Locator("#resume-level").SelectOptionAsync("high");
        await page.Locator("#resume").ClickAsync();
        await Expect(page.Locator("#execution-state")).ToHaveTextAsync("SUCCESS", new() { Timeout = 30_000 });
        await Expect(page.Locator("#logs")).ToContainTextAsync("Resumed because approved by the test at high");

        // Gantt: one bar per task run, coloured by state.
        await Expect(page.Locator("#gantt g[data-task-run]")).ToHaveCountAsync(4);
        await Expect(page.Locator("#gantt rect.bar.SUCCESS")).ToHaveCountAsync(4);

        // Outputs in the JSON viewer; the log.Fetch task's file is a download link that serves its content.
        var file = page.Locator("#outputs a.j-file");
        await Expect(file).ToHaveCountAsync(1);
        await Expect(page.Locator("#outputs")).ToContainTextAsync("\"approved by the test\"");
        var href = await file.GetAttributeAsync("href");
        var download = await page.APIRequest.GetAsync(href!);
        Assert.Equal(200, download.Status);
        Assert.Contains("report body", await download.TextAsync(), StringComparison.Ordinal);

        // Change labels.
        await page.Locator("details.edit-labels summary").ClickAsync();
        await page.Locator("#labels-text").FillAsync("env:test\nowner:ui");
        await page.Locator("#save-labels").ClickAsync();
        await Expect(page.Locator("#labels")).ToContainTextAsync("env:test");
        await Expect(page.Locator("#labels")).ToContainTextAsync("owner:ui");
        await page.GotoAsync("/ui/executions?labels=owner:ui");
        await Expect(page.Locator("table tbody tr")).ToHaveCountAsync(1);
        await page.GoBackAsync();

        // Log level filter and search.
        var url = page.Url.Split('?')[0];
        await page.GotoAsync(url);
        await page.Locator("#log-level").SelectOptionAsync("ERROR");
        await page.Locator("#log-filter button").ClickAsync();
        await Expect(page.Locator("#live-logs")).ToContainTextAsync("No logs match the filter");
        await page.Locator("#log-level").SelectOptionAsync("TRACE");
        await page.Locator("#log-search").FillAsync("APPROVED BY");
        await page.Locator("#log-filter button").ClickAsync();
        await Expect(page.Locator("#logs > div")).ToHaveCountAsync(1);
        await Expect(page.Locator("#logs")).ToContainTextAsync("Resumed because");
        await h.ScreenshotAsync("12-execution-resumed");
    }

    private const string FileFlow = """
        id: upload
        namespace: company.team
        inputs:
          - id: doc
            type: FILE
          - id: note
            type: STRING
            defaults: none
        tasks:
          - id: show
            type: io.kestra.plugin.core.log.Log
            message: "{{ inputs.note }}: {{ read(inputs.doc) }}"
        """;

    [ChromiumFact]
    public async Task Execute_with_a_file_input_and_download_it()
    {
        await using var h = await BrowserHarness.StartAsync();
        var page = h.Page;
        await h.CreateFlowAsync(FileFlow);

        await page.GotoAsync("/ui/flows/company.team/upload/execute");
        await Expect(page.Locator("#input-doc")).ToHaveAttributeAsync("type", "file");
        await page.Locator("#input-doc").SetInputFilesAsync(new FilePayload { Name = "notes.txt", MimeType = "text/plain", Buffer = "line from the uploaded file"u8.ToArray() });
        await page.Locator("#input-note").FillAsync("uploaded");
        await page.Locator("#run").ClickAsync();
        await Expect(page.Locator("#execution-state")).ToHaveTextAsync("SUCCESS", new() { Timeout = 30_000 });
        await Expect(page.Locator("#logs")).ToContainTextAsync("uploaded: line from the uploaded file");

        // The input is a file in internal storage: the JSON viewer links to its download.
        var file = page.Locator("#inputs a.j-file");
        await Expect(file).ToHaveCountAsync(1);
        var download = await page.APIRequest.GetAsync((await file.GetAttributeAsync("href"))!);
        Assert.Equal(200, download.Status);
        Assert.Equal("line from the uploaded file", await download.TextAsync());
    }

    [ChromiumFact]
    public async Task The_timeline_of_a_large_ForEach_is_capped_and_says_how_many_rows_it_left_out()
    {
        await using var h = await BrowserHarness.StartAsync();
        var page = h.Page;
        // 320 iterations: the ForEach task run and 320 Return task runs, 321 rows in all.
        await h.CreateFlowAsync("""
            id: wide
            namespace: company.team
            tasks:
              - id: each
                type: io.kestra.plugin.core.flow.ForEach
                values: "{{ range(1, 320) }}"
                tasks:
                  - id: item
                    type: io.kestra.plugin.core.debug.Return
                    format: "{{ taskrun.value }}"
            """);
        await page.GotoAsync("/ui/flows/company.team/wide/execute");
        await page.Locator("#run").ClickAsync();
        await Expect(page.Locator("#execution-state")).ToHaveTextAsync("SUCCESS", new() { Timeout = 30_000 });
        await Expect(page.Locator("#gantt g[data-task-run]")).ToHaveCountAsync(300);
        await Expect(page.Locator("#gantt-hidden")).ToContainTextAsync("21 more");
        await Expect(page.Locator("#task-runs tbody tr[data-task=item]")).ToHaveCountAsync(320);
    }

    [ChromiumFact]
    public async Task Restart_a_failed_execution_and_replay_from_a_task_run()
    {
        await using var h = await BrowserHarness.StartAsync();
        var page = h.Page;
        await h.CreateFlowAsync(FailingFlow);

        await page.GotoAsync("/ui/flows/company.team/failing/execute");
        await page.Locator("#run").ClickAsync();
        await Expect(page.Locator("#execution-state")).ToHaveTextAsync("FAILED", new() { Timeout = 30_000 });
        var failedUrl = page.Url;
        await Expect(page.Locator("#gantt rect.bar.FAILED")).ToHaveCountAsync(1);
        await Expect(page.Locator("tr[data-task=boom] td:nth-child(3)")).ToHaveTextAsync("1");

        // Restart: the same execution runs the failed task again (a second attempt) and fails again.
        await page.Locator("#restart").ClickAsync();
        await Expect(page).ToHaveURLAsync(failedUrl);
        await Expect(page.Locator("tr[data-task=boom] td:nth-child(3)")).ToHaveTextAsync("2", new() { Timeout = 30_000 });
        await Expect(page.Locator("#execution-state")).ToHaveTextAsync("FAILED", new() { Timeout = 30_000 });

        // Replay from the first task run: a new execution that points back to this one.
        await page.GetByRole(AriaRole.Button, new() { Name = "Replay from first" }).ClickAsync();
        await Expect(page).Not.ToHaveURLAsync(failedUrl);
        await Expect(page).ToHaveURLAsync(new Regex("/ui/executions/[A-Za-z0-9]+$"));
        await Expect(page.Locator("#live")).ToContainTextAsync("Replay of");
        await Expect(page.Locator("#execution-state")).ToHaveTextAsync("FAILED", new() { Timeout = 30_000 });
        await h.ScreenshotAsync("13-replayed");

        // Both failed executions are listed: the restarted one and its replay.
        await page.GotoAsync("/ui/executions?state=FAILED");
        await Expect(page.Locator("table tbody tr")).ToHaveCountAsync(2);
    }
}

using Windhover.Engine.Executions;
using Windhover.Engine.Inputs;
using Windhover.Engine.Runtime;
using Windhover.Engine.Stores;
using Windhover.Flows.Expressions;
using Windhover.Flows.Yaml;

namespace Windhover.Engine.Tests.Runtime;

/// <summary>Operations on running executions through the runtime (in-memory stores): pause, resume, change status, eval, SECRET inputs.</summary>
public sealed class RuntimeOperationsTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private const string Key = "0123456789abcdef0123456789abcdef";
    private readonly StoreSet _stores = InMemoryStores.Create();
    private LocalRuntime _runtime = null!;

    public async Task InitializeAsync()
    {
        _runtime = new LocalRuntime(_stores, new RuntimeOptions { EncryptionKey = Key });
        await _runtime.StartAsync();
    }

    public async Task DisposeAsync() => await _runtime.DisposeAsync();

    private async Task DeployAsync(string yaml)
    {
        var parsed = FlowParser.Default.Parse(yaml);
        Assert.True(parsed.IsValid, string.Join("\n", parsed.Problems.Select(p => p.ToDisplayString())));
        await _stores.Flows.SaveAsync(parsed.Flow!);
    }

    private async Task<Execution> WaitForAsync(string id, Func<Execution, bool> condition)
    {
        using var cts = new CancellationTokenSource(Timeout);
        while (true)
        {
            var execution = await _stores.Executions.GetAsync(id, cts.Token);
            if (execution is not null && condition(execution))
            {
                return execution;
            }

            await Task.Delay(20, cts.Token);
        }
    }

    private async Task<Execution> WaitTerminalAsync(string id)
    {
        using var cts = new CancellationTokenSource(Timeout);
        try
        {
            return await _runtime.WaitForTerminalAsync(id, cts.Token);
        }
        catch (OperationCanceledException)
        {
            var stuck = await _stores.Executions.GetAsync(id);
            var logs = await _stores.Logs.FindAsync(id);
            throw new TimeoutException($"{id} not terminal: {stuck?.State.Current} " +
                string.Join(", ", stuck?.TaskRunList.Select(t => $"{t.TaskId}={t.State.Current}") ?? []) + " | " + string.Join(" | ", logs.Select(l => l.Message)));
        }
    }

    private const string PauseWithOnResume = """
        id: approve
        namespace: company.team
        tasks:
          - id: wait
            type: io.kestra.plugin.core.flow.Pause
            onResume:
              - id: approved
                type: BOOLEAN
              - id: reason
                type: STRING
                required: false
                defaults: none given
          - id: done
            type: io.kestra.plugin.core.debug.Return
            format: "{{ outputs.wait.onResume.approved }} / {{ outputs.wait.onResume.reason }}"
        """;

    [Fact]
    public async Task OnResume_inputs_are_validated_against_the_Pause_declarations()
    {
        await DeployAsync(PauseWithOnResume);
        var id = (await _runtime.CreateExecutionAsync(new ExecutionRequest { Namespace = "company.team", FlowId = "approve" })).Id;
        await WaitForAsync(id, e => e.State.Current == State.Paused);

        var missing = await Assert.ThrowsAsync<InputValidationException>(() => _runtime.ResumeAsync(id, new Dictionary<string, object?>()));
        Assert.Contains(missing.Errors, e => e.InputId == "approved" && e.Message.Contains("missing required input", StringComparison.Ordinal));
        var invalid = await Assert.ThrowsAsync<InputValidationException>(() => _runtime.ResumeAsync(id, new Dictionary<string, object?> { ["approved"] = "maybe" }));
        Assert.Equal("approved", Assert.Single(invalid.Errors).InputId);
        Assert.Equal(State.Paused, (await _stores.Executions.GetAsync(id))!.State.Current);

        await _runtime.ResumeAsync(id, new Dictionary<string, object?> { ["approved"] = "true" });
        var done = await WaitTerminalAsync(id);
        Assert.Equal(State.Success, done.State.Current);
        Assert.Equal("true / none given", done.TaskRunList.Single(t => t.TaskId == "done").Outputs!["value"]);
    }

    [Fact]
    public async Task The_Resume_task_resumes_another_paused_execution_with_inputs()
    {
        await DeployAsync(PauseWithOnResume);
        await DeployAsync("""
            id: resumer
            namespace: company.team
            inputs:
              - id: executionId
                type: STRING
            tasks:
              - id: resume
                type: io.kestra.plugin.core.execution.Resume
                executionId: "{{ inputs.executionId }}"
                inputs:
                  approved: true
                  reason: by a flow
            """);
        var paused = (await _runtime.CreateExecutionAsync(new ExecutionRequest { Namespace = "company.team", FlowId = "approve" })).Id;
        await WaitForAsync(paused, e => e.State.Current == State.Paused);
        var resumer = await _runtime.CreateExecutionAsync(new ExecutionRequest
        {
            Namespace = "company.team",
            FlowId = "resumer",
            Inputs = new Dictionary<string, object?> { ["executionId"] = paused },
        });
        Assert.Equal(State.Success, (await WaitTerminalAsync(resumer.Id)).State.Current);
        var done = await WaitTerminalAsync(paused);
        Assert.Equal("true / by a flow", done.TaskRunList.Single(t => t.TaskId == "done").Outputs!["value"]);

        // Resuming what is not paused fails the task.
        var again = await _runtime.CreateExecutionAsync(new ExecutionRequest
        {
            Namespace = "company.team",
            FlowId = "resumer",
            Inputs = new Dictionary<string, object?> { ["executionId"] = paused },
        });
        Assert.Equal(State.Failed, (await WaitTerminalAsync(again.Id)).State.Current);
    }

    [Fact]
    public async Task A_paused_running_execution_starts_nothing_new_until_resumed()
    {
        await DeployAsync("""
            id: steps
            namespace: company.team
            tasks:
              - id: first
                type: io.kestra.plugin.core.flow.Sleep
                duration: PT0.3S
              - id: second
                type: io.kestra.plugin.core.debug.Return
                format: two
            """);
        var id = (await _runtime.CreateExecutionAsync(new ExecutionRequest { Namespace = "company.team", FlowId = "steps" })).Id;
        await WaitForAsync(id, e => e.TaskRunList.Any(t => t.TaskId == "first" && t.State.Current == State.Running));
        var paused = await _runtime.PauseAsync(id);
        Assert.Equal(State.Paused, paused.State.Current);

        // The running Sleep finishes; "second" is not created while paused.
        var held = await WaitForAsync(id, e => e.TaskRunList.Any(t => t.TaskId == "first" && t.State.Current == State.Success));
        await Task.Delay(200);
        held = (await _stores.Executions.GetAsync(id))!;
        Assert.Equal(State.Paused, held.State.Current);
        Assert.DoesNotContain(held.TaskRunList, t => t.TaskId == "second");

        await _runtime.ResumeAsync(id);
        var done = await WaitTerminalAsync(id);
        Assert.Equal(State.Success, done.State.Current);
        Assert.Equal("two", done.TaskRunList.Single(t => t.TaskId == "second").Outputs!["value"]);
        await Assert.ThrowsAsync<InvalidOperationException>(() => _runtime.PauseAsync(id));
    }

    [Fact]
    public async Task Change_status_applies_to_terminated_executions_only_and_eval_renders_with_task_run_variables()
    {
        await DeployAsync("""
            id: fails
            namespace: company.team
            tasks:
              - id: ok
                type: io.kestra.plugin.core.debug.Return
                format: fine
              - id: ko
                type: io.kestra.plugin.core.execution.Fail
            """);
        var id = (await _runtime.CreateExecutionAsync(new ExecutionRequest { Namespace = "company.team", FlowId = "fails" })).Id;
        var failed = await WaitTerminalAsync(id);
        Assert.Equal(State.Failed, failed.State.Current);

        var changed = await _runtime.ChangeStatusAsync(id, State.Warning);
        Assert.Equal(State.Warning, changed.State.Current);
        Assert.Equal(State.Warning, (await _stores.Executions.GetAsync(id))!.State.Current);
        Assert.Throws<ArgumentException>(() => { _ = _runtime.ChangeStatusAsync(id, State.Running); });

        var ko = failed.TaskRunList.Single(t => t.TaskId == "ko");
        Assert.Equal("ko fine " + id, await _runtime.EvaluateAsync(id, ko.Id, "{{ task.id }} {{ outputs.ok.value }} {{ execution.id }}"));
        var error = await Assert.ThrowsAsync<ExpressionException>(() => _runtime.EvaluateAsync(id, ko.Id, "{{ missing }}"));
        Assert.Contains("Unable to find `missing`", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<TaskRunNotFoundException>(() => _runtime.EvaluateAsync(id, "nope", "x"));
    }

    [Fact]
    public async Task Secret_inputs_are_encrypted_at_rest_and_plain_for_tasks_and_masked_in_logs()
    {
        await DeployAsync("""
            id: secret
            namespace: company.team
            inputs:
              - id: password
                type: SECRET
            tasks:
              - id: use
                type: io.kestra.plugin.core.debug.Return
                format: "{{ inputs.password }}"
              - id: log
                type: io.kestra.plugin.core.log.Log
                message: "the password is {{ inputs.password }}"
            """);
        var created = await _runtime.CreateExecutionAsync(new ExecutionRequest
        {
            Namespace = "company.team",
            FlowId = "secret",
            Inputs = new Dictionary<string, object?> { ["password"] = "hunter2" },
        });
        var stored = Assert.IsType<string>(created.Inputs!["password"]);
        Assert.NotEqual("hunter2", stored);
        Assert.Equal("hunter2", new SecretEncryption(Key).Decrypt(stored));

        var done = await WaitTerminalAsync(created.Id);
        Assert.Equal(State.Success, done.State.Current);
        Assert.Equal("hunter2", done.TaskRunList.Single(t => t.TaskId == "use").Outputs!["value"]);
        var logs = await _stores.Logs.FindAsync(created.Id);
        Assert.Contains(logs, l => l.Message.Contains("the password is ******", StringComparison.Ordinal));
        Assert.DoesNotContain(logs, l => l.Message.Contains("hunter2", StringComparison.Ordinal));

        // Flowable tasks decide on the plain value too; the stored execution keeps it encrypted.
        await DeployAsync("""
            id: secret-branch
            namespace: company.team
            inputs:
              - id: password
                type: SECRET
            tasks:
              - id: check
                type: io.kestra.plugin.core.flow.If
                condition: "{{ inputs.password == 'hunter2' }}"
                then:
                  - id: right
                    type: io.kestra.plugin.core.debug.Return
                    format: right
                else:
                  - id: wrong
                    type: io.kestra.plugin.core.debug.Return
                    format: wrong
              - id: pick
                type: io.kestra.plugin.core.flow.Switch
                value: "{{ inputs.password }}"
                cases:
                  hunter2:
                    - id: matched
                      type: io.kestra.plugin.core.debug.Return
                      format: matched
                defaults:
                  - id: unmatched
                    type: io.kestra.plugin.core.debug.Return
                    format: unmatched
            """);
        var branched = await _runtime.CreateExecutionAsync(new ExecutionRequest
        {
            Namespace = "company.team",
            FlowId = "secret-branch",
            Inputs = new Dictionary<string, object?> { ["password"] = "hunter2" },
        });
        var branchedDone = await WaitTerminalAsync(branched.Id);
        Assert.Equal(State.Success, branchedDone.State.Current);
        Assert.Equal(["check", "matched", "pick", "right"], branchedDone.TaskRunList.Select(t => t.TaskId).Order(StringComparer.Ordinal));
        var branchedStored = Assert.IsType<string>((await _stores.Executions.GetAsync(branched.Id))!.Inputs!["password"]);
        Assert.Equal("hunter2", new SecretEncryption(Key).Decrypt(branchedStored));

        // Without a key a SECRET input is refused with a clear message.
        await using var keyless = new LocalRuntime(_stores);
        await keyless.StartAsync();
        var refused = await Assert.ThrowsAsync<InputValidationException>(() => keyless.CreateExecutionAsync(new ExecutionRequest
        {
            Namespace = "company.team",
            FlowId = "secret",
            Inputs = new Dictionary<string, object?> { ["password"] = "hunter2" },
        }));
        Assert.Contains("Unable to use a `SECRET` input as encryption is not configured", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_WorkingDirectory_cache_restores_its_files_in_the_next_execution()
    {
        await DeployAsync("""
            id: cached
            namespace: company.team
            tasks:
              - id: workingDir
                type: io.kestra.plugin.core.flow.WorkingDirectory
                cache:
                  ttl: PT5M
                  patterns:
                    - "*.txt"
                tasks:
                  - id: exists
                    type: io.kestra.plugin.core.storage.LocalFiles
                    outputs:
                      - hello.txt
                  - id: write
                    type: io.kestra.plugin.core.storage.LocalFiles
                    inputs:
                      hello.txt: HELLO
                      other.log: not cached
            """);
        IReadOnlyDictionary<string, object?> UrisOf(Execution execution) =>
            (IReadOnlyDictionary<string, object?>)execution.TaskRunList.Single(t => t.TaskId == "exists").Outputs!["uris"]!;

        var first = await WaitTerminalAsync((await _runtime.CreateExecutionAsync(new ExecutionRequest { Namespace = "company.team", FlowId = "cached" })).Id);
        Assert.Equal(State.Success, first.State.Current);
        Assert.Empty(UrisOf(first));

        var second = await WaitTerminalAsync((await _runtime.CreateExecutionAsync(new ExecutionRequest { Namespace = "company.team", FlowId = "cached" })).Id);
        Assert.Equal(State.Success, second.State.Current);
        var uri = Assert.IsType<string>(Assert.Single(UrisOf(second)).Value);
        await using var stream = await _stores.Files.OpenReadAsync(uri);
        Assert.Equal("HELLO", await new StreamReader(stream!).ReadToEndAsync());
    }

    [Fact]
    public async Task ForEachItem_splits_a_file_into_batches_runs_a_subflow_per_batch_and_merges_their_outputs()
    {
        await DeployAsync("""
            id: batch
            namespace: company.team
            inputs:
              - id: items
                type: STRING
            tasks:
              - id: read
                type: io.kestra.plugin.core.debug.Return
                format: "{{ read(inputs.items) | trim }}"
            outputs:
              - id: value
                type: STRING
                value: "{{ outputs.read.value }}"
            """);
        await DeployAsync("""
            id: each
            namespace: company.team
            inputs:
              - id: file
                type: FILE
            tasks:
              - id: each
                type: io.kestra.plugin.core.flow.ForEachItem
                items: "{{ inputs.file }}"
                batch:
                  rows: 4
                namespace: company.team
                flowId: batch
                wait: true
                inputs:
                  items: "{{ taskrun.items }}"
            """);
        var lines = string.Join('\n', Enumerable.Range(1, 10).Select(i => "line" + i)) + "\n";
        var created = await _runtime.CreateExecutionAsync(new ExecutionRequest
        {
            Namespace = "company.team",
            FlowId = "each",
            Inputs = new Dictionary<string, object?> { ["file"] = new InputFile("lines.txt", () => new MemoryStream(System.Text.Encoding.UTF8.GetBytes(lines))) },
        });
        var done = await WaitTerminalAsync(created.Id);
        Assert.Equal(State.Success, done.State.Current);
        Assert.Equal(["each", "each_split", "each_items", "each_merge"], done.TaskRunList.Select(t => t.TaskId));
        var splits = Assert.IsAssignableFrom<IReadOnlyList<object?>>(done.TaskRunList.Single(t => t.TaskId == "each_split").Outputs!["splits"]);
        Assert.Equal(3, splits.Count);
        var items = done.TaskRunList.Single(t => t.TaskId == "each_items").Outputs!;
        Assert.Equal(3L, items["numberOfBatches"]);
        Assert.Equal(3L, ((IReadOnlyDictionary<string, object?>)items["iterations"]!)["SUCCESS"]);

        var merged = Assert.IsType<string>(done.TaskRunList.Single(t => t.TaskId == "each_merge").Outputs!["subflowOutputs"]);
        await using var stream = await _stores.Files.OpenReadAsync(merged);
        var mergedLines = (await new StreamReader(stream!).ReadToEndAsync()).TrimEnd('\n').Split('\n');
        Assert.Equal(3, mergedLines.Length);
        Assert.Contains("line1\\nline2\\nline3\\nline4", mergedLines[0], StringComparison.Ordinal);
        Assert.Contains("line9\\nline10", mergedLines[2], StringComparison.Ordinal);
    }
}

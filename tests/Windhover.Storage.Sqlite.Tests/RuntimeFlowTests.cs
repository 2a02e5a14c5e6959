using System.Diagnostics;
using Windhover.Engine.Executions;
using Windhover.Engine.Inputs;
using Windhover.Engine.Runtime;
using Windhover.Engine.Stores;

namespace Windhover.Storage.Sqlite.Tests;

/// <summary>Real flows parsed from YAML, run end to end by the local runtime on SQLite files.</summary>
public sealed class RuntimeFlowTests
{
    [Fact]
    public async Task Parallel_and_foreach()
    {
        await using var host = await RuntimeHost.StartAsync();
        var execution = await host.RunAsync("""
            id: par
            namespace: company.team
            tasks:
              - id: parallel
                type: io.kestra.plugin.core.flow.Parallel
                tasks:
                  - id: a
                    type: io.kestra.plugin.core.flow.Sleep
                    duration: PT0.2S
                  - id: b
                    type: io.kestra.plugin.core.flow.Sleep
                    duration: PT0.2S
              - id: each
                type: io.kestra.plugin.core.flow.ForEach
                values: ["x", "y", "z"]
                concurrencyLimit: 0
                tasks:
                  - id: r
                    type: io.kestra.plugin.core.debug.Return
                    format: "{{ taskrun.value }}!"
            """);
        Assert.Equal(State.Success, execution.State.Current);
        var a = execution.Run("a");
        var b = execution.Run("b");
        Assert.True(a.State.StartDate < b.State.EndDate && b.State.StartDate < a.State.EndDate, "a and b ran in parallel");
        Assert.Equal(["x!", "y!", "z!"], execution.TaskRunList.Where(t => t.TaskId == "r").OrderBy(t => t.Value).Select(t => t.Outputs!["value"]));
    }

    [Fact]
    public async Task Subflow_runs_child_and_returns_outputs()
    {
        await using var host = await RuntimeHost.StartAsync();
        await host.DeployAsync("""
            id: child
            namespace: company.team
            inputs:
              - id: who
                type: STRING
            tasks:
              - id: hello
                type: io.kestra.plugin.core.debug.Return
                format: "hi {{ inputs.who }}"
            outputs:
              - id: greeting
                type: STRING
                value: "{{ outputs.hello.value }}"
            """);
        var parent = await host.RunAsync("""
            id: parent
            namespace: company.team
            tasks:
              - id: call
                type: io.kestra.plugin.core.flow.Subflow
                namespace: company.team
                flowId: child
                inputs:
                  who: bob
              - id: after
                type: io.kestra.plugin.core.debug.Return
                format: "{{ outputs.call.outputs.greeting }}"
            """);
        Assert.Equal(State.Success, parent.State.Current);
        Assert.Equal("hi bob", parent.Output("after", "value"));
        var children = await host.Stores.Executions.ChildrenAsync(parent.Id);
        var child = Assert.Single(children);
        Assert.Equal(State.Success, child.State);
    }

    [Fact]
    public async Task Subflow_with_invalid_inputs_fails_the_parent_task()
    {
        await using var host = await RuntimeHost.StartAsync();
        await host.DeployAsync("""
            id: strict
            namespace: company.team
            inputs:
              - id: n
                type: INT
            tasks:
              - id: r
                type: io.kestra.plugin.core.debug.Return
                format: "{{ inputs.n }}"
            """);
        var parent = await host.RunAsync("""
            id: caller
            namespace: company.team
            tasks:
              - id: call
                type: io.kestra.plugin.core.flow.Subflow
                namespace: company.team
                flowId: strict
            """);
        Assert.Equal(State.Failed, parent.State.Current);
        var logs = await host.Stores.Logs.FindAsync(parent.Id);
        Assert.Contains(logs, l => l.Message.Contains("Invalid input for `n`, missing required input, but received `null`", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Pause_then_resume_with_inputs()
    {
        await using var host = await RuntimeHost.StartAsync();
        var flow = await host.DeployAsync("""
            id: approve
            namespace: company.team
            tasks:
              - id: wait
                type: io.kestra.plugin.core.flow.Pause
              - id: done
                type: io.kestra.plugin.core.debug.Return
                format: "approved by {{ outputs.wait.onResume.by }}"
            """);
        using var subscription = host.Runtime.Subscribe();
        var created = await host.Runtime.CreateExecutionAsync(new ExecutionRequest { Namespace = flow.Namespace, FlowId = flow.Id });
        var paused = await WaitForStateAsync(subscription, created.Id, State.Paused);
        Assert.Equal(State.Paused, paused.StateOf("wait"));
        await host.Runtime.ResumeAsync(created.Id, new Dictionary<string, object?> { ["by"] = "alice" });
        var final = await host.WaitAsync(created.Id);
        Assert.Equal(State.Success, final.State.Current);
        Assert.Equal("approved by alice", final.Output("done", "value"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => host.Runtime.ResumeAsync(created.Id));
    }

    [Fact]
    public async Task Retry_with_short_interval_then_warning_on_allow_failure()
    {
        await using var host = await RuntimeHost.StartAsync();
        var execution = await host.RunAsync("""
            id: retry
            namespace: company.team
            tasks:
              - id: flaky
                type: io.kestra.plugin.core.execution.Fail
                allowFailure: true
                retry:
                  type: constant
                  interval: PT0.05S
                  maxAttempt: 3
              - id: next
                type: io.kestra.plugin.core.log.Log
                message: continued
            """);
        Assert.Equal(State.Warning, execution.State.Current);
        Assert.Equal(3, execution.Run("flaky").AttemptCount);
        Assert.Equal(State.Success, execution.StateOf("next"));
        Assert.Empty(await host.Stores.Timers.ListAsync());
    }

    [Fact]
    public async Task Kill_cancels_running_task_and_children()
    {
        await using var host = await RuntimeHost.StartAsync();
        await host.DeployAsync("""
            id: slowchild
            namespace: company.team
            tasks:
              - id: sleep
                type: io.kestra.plugin.core.flow.Sleep
                duration: PT60S
            """);
        var flow = await host.DeployAsync("""
            id: killme
            namespace: company.team
            tasks:
              - id: both
                type: io.kestra.plugin.core.flow.Parallel
                tasks:
                  - id: sleep
                    type: io.kestra.plugin.core.flow.Sleep
                    duration: PT60S
                  - id: sub
                    type: io.kestra.plugin.core.flow.Subflow
                    namespace: company.team
                    flowId: slowchild
            """);
        var created = await host.Runtime.CreateExecutionAsync(new ExecutionRequest { Namespace = flow.Namespace, FlowId = flow.Id });
        await WaitUntilAsync(async () => (await host.Stores.Executions.ChildrenAsync(created.Id)).Count == 1
            && (await host.Stores.Executions.GetAsync(created.Id))!.TaskRunList.Any(t => t.TaskId == "sleep" && t.State.Current == State.Running));
        var child = (await host.Stores.Executions.ChildrenAsync(created.Id))[0];
        await WaitUntilAsync(async () => (await host.Stores.Executions.GetAsync(child.Id))!.TaskRunList.Any(t => t.State.Current == State.Running));
        var watch = Stopwatch.StartNew();
        await host.Runtime.KillAsync(created.Id);
        var final = await host.WaitAsync(created.Id);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10));
        Assert.Equal(State.Killed, final.State.Current);
        Assert.Equal(State.Killed, final.StateOf("sleep"));
        Assert.Equal(State.Killed, (await host.WaitAsync(child.Id)).State.Current);
    }

    [Fact]
    public async Task Task_timeout_fails_the_task()
    {
        await using var host = await RuntimeHost.StartAsync();
        var execution = await host.RunAsync("""
            id: timeout
            namespace: company.team
            tasks:
              - id: slow
                type: io.kestra.plugin.core.flow.Sleep
                duration: PT30S
                timeout: PT0.2S
            """);
        Assert.Equal(State.Failed, execution.State.Current);
        Assert.Equal(State.Failed, execution.StateOf("slow"));
        Assert.Contains(await host.Stores.Logs.FindAsync(execution.Id), l => l.Message.StartsWith("Timeout after PT0.2S", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Restart_reruns_failed_task_only()
    {
        await using var host = await RuntimeHost.StartAsync();
        var flow = await host.DeployAsync("""
            id: restartable
            namespace: company.team
            tasks:
              - id: first
                type: io.kestra.plugin.core.kv.Set
                key: first-ran
                value: "{{ execution.id }}"
              - id: gate
                type: io.kestra.plugin.core.execution.Fail
                condition: "{{ kv('open', errorOnMissing=false) == null }}"
              - id: last
                type: io.kestra.plugin.core.debug.Return
                format: done
            """);
        var created = await host.Runtime.CreateExecutionAsync(new ExecutionRequest { Namespace = flow.Namespace, FlowId = flow.Id });
        var failed = await host.WaitAsync(created.Id);
        Assert.Equal(State.Failed, failed.State.Current);
        await host.Stores.Kv.DeleteAsync("company.team", "first-ran");
        await host.Stores.Kv.SetAsync("company.team", "open", true);
        await host.Runtime.RestartAsync(created.Id);
        var final = await host.WaitAsync(created.Id);
        Assert.Equal(State.Success, final.State.Current);
        Assert.Equal(2, final.Metadata!.AttemptNumber);
        Assert.Null(await host.Stores.Kv.GetAsync("company.team", "first-ran")); // 'first' did not run again
        Assert.Equal("done", final.Output("last", "value"));
    }

    [Fact]
    public async Task Concurrency_queue_cancel_and_fail()
    {
        await using var host = await RuntimeHost.StartAsync();
        async Task<(Execution First, Execution Second)> StartTwo(string behavior)
        {
            var flow = await host.DeployAsync($"""
                id: limited-{behavior.ToLowerInvariant()}
                namespace: company.team
                concurrency:
                  limit: 1
                  behavior: {behavior}
                tasks:
                  - id: sleep
                    type: io.kestra.plugin.core.flow.Sleep
                    duration: PT0.3S
                """);
            var first = await host.Runtime.CreateExecutionAsync(new ExecutionRequest { Namespace = flow.Namespace, FlowId = flow.Id });
            var second = await host.Runtime.CreateExecutionAsync(new ExecutionRequest { Namespace = flow.Namespace, FlowId = flow.Id });
            return (first, second);
        }

        var (q1, q2) = await StartTwo("QUEUE");
        Assert.Equal(State.Queued, q2.State.Current);
        var q1Final = await host.WaitAsync(q1.Id);
        var q2Final = await host.WaitAsync(q2.Id);
        Assert.Equal(State.Success, q2Final.State.Current);
        Assert.True(q2Final.Run("sleep").State.StartDate >= q1Final.State.EndDate!.Value);

        var (_, c2) = await StartTwo("CANCEL");
        Assert.Equal(State.Cancelled, c2.State.Current);
        var (_, f2) = await StartTwo("FAIL");
        Assert.Equal(State.Failed, f2.State.Current);
    }

    [Fact]
    public async Task Inputs_are_validated_with_kestra_messages()
    {
        // SECRET inputs need an encryption key (as kestra.encryption.secret-key).
        await using var host = await RuntimeHost.StartAsync(new RuntimeOptions { EncryptionKey = "0123456789abcdef0123456789abcdef" });
        var flow = await host.DeployAsync("""
            id: typed
            namespace: company.team
            inputs:
              - id: name
                type: STRING
              - id: count
                type: INT
                min: 1
                max: 5
              - id: nested.flag
                type: BOOLEAN
                defaults: true
              - id: choice
                type: SELECT
                values: [A, B]
              - id: doc
                type: FILE
              - id: token
                type: SECRET
            tasks:
              - id: r
                type: io.kestra.plugin.core.log.Log
                message: "{{ inputs.name }} {{ inputs.count }} {{ inputs.nested.flag }} {{ inputs.token }}"
              - id: read
                type: io.kestra.plugin.core.debug.Return
                format: "{{ read(inputs.doc) }}"
            """);
        var error = await Assert.ThrowsAsync<InputValidationException>(() => host.Runtime.CreateExecutionAsync(new ExecutionRequest
        {
            Namespace = flow.Namespace,
            FlowId = flow.Id,
            Inputs = new Dictionary<string, object?> { ["count"] = "9", ["choice"] = "C" },
        }));
        Assert.Contains(error.Errors, e => e.Message == "Invalid input for `name`, missing required input, but received `null`");
        Assert.Contains(error.Errors, e => e.Message == "Invalid input for `count`, it must be less than `5`, but received `9`");
        Assert.Contains(error.Errors, e => e.Message == "Invalid input for `choice`, it must match the values `[A, B]`, but received `C`");

        var created = await host.Runtime.CreateExecutionAsync(new ExecutionRequest
        {
            Namespace = flow.Namespace,
            FlowId = flow.Id,
            Inputs = new Dictionary<string, object?>
            {
                ["name"] = "n", ["count"] = "3", ["choice"] = "A", ["token"] = "s3cr3t",
                ["doc"] = new InputFile("doc.txt", () => new MemoryStream("file body"u8.ToArray())),
            },
        });
        var final = await host.WaitAsync(created.Id);
        Assert.Equal(State.Success, final.State.Current);
        Assert.Equal(3L, final.Inputs!["count"]);
        Assert.Equal(true, ((IReadOnlyDictionary<string, object?>)final.Inputs["nested"]!)["flag"]);
        Assert.StartsWith("kestra:///company/team/typed/executions/" + created.Id + "/inputs/doc/doc.txt", (string)final.Inputs["doc"]!, StringComparison.Ordinal);
        Assert.Equal("file body", final.Output("read", "value"));
        Assert.NotEqual("s3cr3t", final.Inputs["token"]); // encrypted at rest
        var log = Assert.Single(await host.Stores.Logs.FindAsync(created.Id, taskId: "r"));
        Assert.Equal("n 3 true ******", log.Message);
    }

    [Fact]
    public async Task Labels_and_exit_tasks_and_replay()
    {
        await using var host = await RuntimeHost.StartAsync();
        var execution = await host.RunAsync("""
            id: labelled
            namespace: company.team
            tasks:
              - id: label
                type: io.kestra.plugin.core.execution.Labels
                labels:
                  stage: two
              - id: exit
                type: io.kestra.plugin.core.execution.Exit
                state: WARNING
              - id: never
                type: io.kestra.plugin.core.log.Log
                message: never
            """);
        Assert.Equal(State.Warning, execution.State.Current);
        Assert.Contains(new ExecutionLabel("stage", "two"), execution.Labels);
        Assert.DoesNotContain(execution.TaskRunList, t => t.TaskId == "never" && t.State.Current != State.Killed);
        Assert.Empty(await host.Stores.Logs.FindAsync(execution.Id, taskId: "never"));

        var replay = await host.Runtime.ReplayAsync(execution.Id, execution.Run("exit").Id);
        var replayed = await host.WaitAsync(replay.Id);
        Assert.Equal(execution.Id, replayed.OriginalId);
        Assert.Equal(State.Warning, replayed.State.Current);
        Assert.Equal(State.Success, replayed.StateOf("label"));

        var labelled = await host.Runtime.SetLabelsAsync(execution.Id, [new ExecutionLabel("team", "blue")]);
        Assert.Contains(new ExecutionLabel("team", "blue"), labelled.Labels);
        Assert.DoesNotContain(labelled.Labels, l => l.Key == "stage");
        Assert.Single(await host.Stores.Executions.SearchAsync(new ExecutionQuery { Labels = [new ExecutionLabel("team", "blue")] }) is { } page ? page.Results : []);
    }

    [Fact]
    public async Task A_200_task_sequential_flow_runs_every_task_once_in_order()
    {
        // Timing lives in bench/ (scenario windmill); this checks what the benchmark relies on.
        await using var host = await RuntimeHost.StartAsync();
        var yaml = "id: many\nnamespace: company.team\ntasks:\n" + string.Concat(Enumerable.Range(1, 200).Select(i =>
            $"  - id: t{i}\n    type: io.kestra.plugin.core.debug.Return\n    format: \"{{{{ task.id }}}}\"\n"));
        var execution = await host.RunAsync(yaml);
        Assert.Equal(State.Success, execution.State.Current);
        Assert.Equal(Enumerable.Range(1, 200).Select(i => $"t{i}"), execution.TaskRunList.Select(t => t.TaskId));
        Assert.All(execution.TaskRunList, t => Assert.Equal(t.TaskId, t.Outputs!["value"]));
        for (var i = 1; i < execution.TaskRunList.Length; i++)
        {
            Assert.True(execution.TaskRunList[i].State.StartDate >= execution.TaskRunList[i - 1].State.EndDate, $"t{i + 1} started before t{i} ended");
        }
    }

    private static async Task<Execution> WaitForStateAsync(ExecutionSubscription subscription, string id, State state)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await foreach (var execution in subscription.Reader.ReadAllAsync(cts.Token))
        {
            if (execution.Id == id && execution.State.Current == state)
            {
                return execution;
            }
        }

        throw new InvalidOperationException("subscription ended");
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var waited = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(20), "condition not reached in time");
            await Task.Delay(20);
        }
    }
}

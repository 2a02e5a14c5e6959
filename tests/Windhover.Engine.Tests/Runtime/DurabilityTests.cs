using Windhover.Engine.Executions;
using Windhover.Engine.Runtime;
using Windhover.Engine.Stores;
using Windhover.Flows.Yaml;

namespace Windhover.Engine.Tests.Runtime;

/// <summary>
/// Crash windows of the runtime, simulated with a store whose commits stop at a chosen point (the process "dies"):
/// a second runtime on the same stores must finish the work without losing anything.
/// </summary>
public sealed class DurabilityTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    /// <summary>Fails every save that <see cref="Crash"/> selects, once armed: what the dead process never committed.</summary>
    private sealed class CrashingExecutionStore(IExecutionStore inner) : IExecutionStore
    {
        public Func<Execution, bool>? Crash { get; set; }
        public TaskCompletionSource Crashed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task SaveAsync(Execution execution, ExecutionChanges changes, CancellationToken cancellationToken = default)
        {
            if (Crash?.Invoke(execution) == true || Crashed.Task.IsCompleted)
            {
                Crashed.TrySetResult();
                throw new IOException("simulated crash: the process died before this commit");
            }

            return inner.SaveAsync(execution, changes, cancellationToken);
        }

        public Task<Execution?> GetAsync(string id, CancellationToken cancellationToken = default) => inner.GetAsync(id, cancellationToken);
        public Task<PagedResult<ExecutionSummary>> SearchAsync(ExecutionQuery query, CancellationToken cancellationToken = default) => inner.SearchAsync(query, cancellationToken);
        public Task<long> CountAsync(ExecutionQuery query, CancellationToken cancellationToken = default) => inner.CountAsync(query, cancellationToken);
        public Task<IReadOnlyList<ExecutionSummary>> ChildrenAsync(string parentId, CancellationToken cancellationToken = default) => inner.ChildrenAsync(parentId, cancellationToken);
        public Task<IReadOnlyList<string>> UnfinishedAsync(CancellationToken cancellationToken = default) => inner.UnfinishedAsync(cancellationToken);
        public Task<bool> DeleteAsync(string id, CancellationToken cancellationToken = default) => inner.DeleteAsync(id, cancellationToken);
    }

    private static async Task SaveFlowAsync(StoreSet stores, string yaml)
    {
        var parsed = FlowParser.Default.Parse(yaml);
        Assert.True(parsed.IsValid, string.Join("\n", parsed.Problems.Select(p => p.ToDisplayString())));
        await stores.Flows.SaveAsync(parsed.Flow!);
    }

    [Fact]
    public async Task A_subflow_child_is_not_lost_when_the_process_dies_as_the_parent_commits_its_start()
    {
        var stores = InMemoryStores.Create();
        await SaveFlowAsync(stores, """
            id: child
            namespace: company.team
            inputs:
              - id: name
                type: STRING
            tasks:
              - id: hello
                type: io.kestra.plugin.core.debug.Return
                format: "hello {{ inputs.name }}"
            outputs:
              - id: greeting
                type: STRING
                value: "{{ outputs.hello.value }}"
            """);
        await SaveFlowAsync(stores, """
            id: parent
            namespace: company.team
            tasks:
              - id: first
                type: io.kestra.plugin.core.debug.Return
                format: one
              - id: call
                type: io.kestra.plugin.core.flow.Subflow
                namespace: company.team
                flowId: child
                inputs:
                  name: "{{ outputs.first.value }}"
              - id: last
                type: io.kestra.plugin.core.debug.Return
                format: "{{ outputs.call.outputs.greeting }}"
            """);

        // First process: dies exactly when committing the parent step that starts the Subflow.
        var crashing = new CrashingExecutionStore(stores.Executions)
        {
            Crash = e => e.FlowId == "parent" && e.TaskRunList.Any(t => t.TaskId == "call" && t.State.Current == State.Running),
        };
        string parentId;
        await using (var first = new LocalRuntime(stores with { Executions = crashing }))
        {
            await first.StartAsync();
            parentId = (await first.CreateExecutionAsync(new ExecutionRequest { Namespace = "company.team", FlowId = "parent" })).Id;
            await crashing.Crashed.Task.WaitAsync(Timeout);
        }

        var stored = await stores.Executions.GetAsync(parentId);
        Assert.NotNull(stored);
        Assert.DoesNotContain(stored.TaskRunList, t => t.TaskId == "call" && t.State.Current == State.Running);
        var children = await stores.Executions.ChildrenAsync(parentId);
        var child = Assert.Single(children);
        Assert.Equal(State.Created, child.State);

        // Second process on the same stores: recovery finishes the parent with the child's result, one child only.
        await using var second = new LocalRuntime(stores);
        await second.StartAsync();
        using var cts = new CancellationTokenSource(Timeout);
        var done = await second.WaitForTerminalAsync(parentId, cts.Token);
        Assert.Equal(State.Success, done.State.Current);
        Assert.Equal("hello one", done.TaskRunList.Single(t => t.TaskId == "last").Outputs!["value"]);
        var after = Assert.Single(await stores.Executions.ChildrenAsync(parentId));
        Assert.Equal(child.Id, after.Id);
        Assert.Equal(State.Success, after.State);
    }

    [Fact]
    public async Task The_state_an_Exit_task_asked_for_survives_a_restart_while_other_task_runs_are_killed()
    {
        var stores = InMemoryStores.Create();
        await SaveFlowAsync(stores, """
            id: exit
            namespace: company.team
            tasks:
              - id: parallel
                type: io.kestra.plugin.core.flow.Parallel
                tasks:
                  - id: slow
                    type: io.kestra.plugin.core.flow.Sleep
                    duration: PT30S
                  - id: seq
                    type: io.kestra.plugin.core.flow.Sequential
                    tasks:
                      - id: wait
                        type: io.kestra.plugin.core.flow.Sleep
                        duration: PT0.2S
                      - id: exit
                        type: io.kestra.plugin.core.execution.Exit
                        state: WARNING
            """);

        // First process: dies right after committing the step where Exit asked for WARNING (execution KILLING).
        var crashing = new CrashingExecutionStore(stores.Executions);
        var inner = stores.Executions;
        string id;
        await using (var first = new LocalRuntime(stores with { Executions = crashing }))
        {
            await first.StartAsync();
            id = (await first.CreateExecutionAsync(new ExecutionRequest { Namespace = "company.team", FlowId = "exit" })).Id;
            var killing = false;
            crashing.Crash = e =>
            {
                if (killing)
                {
                    return true;
                }

                killing = e.State.Current == State.Killing;
                return false;
            };
            await crashing.Crashed.Task.WaitAsync(Timeout);
        }

        var stored = await inner.GetAsync(id);
        Assert.Equal(State.Killing, stored!.State.Current);
        Assert.Equal(State.Warning, stored.Metadata?.ExitState);

        await using var second = new LocalRuntime(stores);
        await second.StartAsync();
        using var cts = new CancellationTokenSource(Timeout);
        var done = await second.WaitForTerminalAsync(id, cts.Token);
        Assert.Equal(State.Warning, done.State.Current);
        Assert.Null(done.Metadata?.ExitState);
        Assert.Equal(State.Killed, done.TaskRunList.Single(t => t.TaskId == "slow").State.Current);
    }
}

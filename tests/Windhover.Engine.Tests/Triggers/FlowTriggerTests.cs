using System.Threading.Channels;
using Windhover.Engine.Executions;
using Windhover.Engine.Runtime;
using Windhover.Engine.Stores;
using Windhover.Engine.Triggers;
using Windhover.Flows.Yaml;

namespace Windhover.Engine.Tests.Triggers;

/// <summary>Flow triggers on the local runtime: downstream flows start when an upstream execution ends.</summary>
public sealed class FlowTriggerTests : IAsyncLifetime
{
    private StoreSet _stores = null!;
    private LocalRuntime _runtime = null!;
    private readonly InMemoryTriggerStateStore _states = new();
    private FlowTriggerListener _listener = null!;
    private readonly List<Exception> _errors = [];
    private readonly Channel<Execution> _triggered = Channel.CreateUnbounded<Execution>();

    private const string Upstream = """
        id: flow_a
        namespace: company.team
        tasks:
          - id: ret
            type: io.kestra.plugin.core.debug.Return
            format: "42"
        outputs:
          - id: result
            type: STRING
            value: "{{ outputs.ret.value }}"
        """;

    private const string Failing = """
        id: flow_fail
        namespace: company.team
        tasks:
          - id: boom
            type: io.kestra.plugin.core.execution.Fail
        """;

    public async Task InitializeAsync()
    {
        _stores = InMemoryStores.Create();
        _runtime = new LocalRuntime(_stores, new RuntimeOptions { WorkingDirectoryRoot = Path.Combine(Path.GetTempPath(), "windhover-work-tests") });
        await _runtime.StartAsync();
        _listener = new FlowTriggerListener(_runtime, _states);
        _listener.Error += _errors.Add;
        _listener.Triggered += e => _triggered.Writer.TryWrite(e);
    }

    public async Task DisposeAsync()
    {
        await _listener.DisposeAsync();
        await _runtime.DisposeAsync();
    }

    private async Task DeployAsync(string yaml)
    {
        var parsed = FlowParser.Default.Parse(yaml);
        Assert.True(parsed.IsValid, string.Join("\n", parsed.Problems.Select(p => p.ToDisplayString())));
        await _stores.Flows.SaveAsync(parsed.Flow!);
    }

    private async Task<Execution> RunAsync(string flowId)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var created = await _runtime.CreateExecutionAsync(new ExecutionRequest { Namespace = "company.team", FlowId = flowId }, cts.Token);
        return await _runtime.WaitForTerminalAsync(created.Id, cts.Token);
    }

    [Fact]
    public async Task Flow_b_starts_when_flow_a_succeeds_and_reads_trigger_outputs()
    {
        await DeployAsync(Upstream);
        await DeployAsync(Failing);
        await DeployAsync("""
            id: flow_b
            namespace: company.team
            inputs:
              - id: upstream
                type: STRING
            tasks:
              - id: echo
                type: io.kestra.plugin.core.debug.Return
                format: "{{ inputs.upstream }} from {{ trigger.flowId }} ({{ trigger.state }})"
            triggers:
              - id: after_a
                type: io.kestra.plugin.core.trigger.Flow
                inputs:
                  upstream: "{{ trigger.outputs.result }}"
                labels:
                  from: "{{ trigger.flowId }}"
                conditions:
                  - type: io.kestra.plugin.core.condition.ExecutionFlow
                    namespace: company.team
                    flowId: flow_a
                  - type: io.kestra.plugin.core.condition.ExecutionStatus
                    in: [SUCCESS]
            """);
        await DeployAsync("""
            id: flow_on_failure
            namespace: company.team
            tasks:
              - id: log
                type: io.kestra.plugin.core.log.Log
                message: never
            triggers:
              - id: on_failure
                type: io.kestra.plugin.core.trigger.Flow
                conditions:
                  - type: io.kestra.plugin.core.condition.ExecutionStatus
                    in: [FAILED]
                  - type: io.kestra.plugin.core.condition.ExecutionNamespace
                    namespace: company
                    comparison: PREFIX
            """);
        await DeployAsync("""
            id: flow_wrong_output
            namespace: company.team
            tasks:
              - id: log
                type: io.kestra.plugin.core.log.Log
                message: never
            triggers:
              - id: on_other_output
                type: io.kestra.plugin.core.trigger.Flow
                states: [SUCCESS]
                conditions:
                  - type: io.kestra.plugin.core.condition.ExecutionOutputs
                    expression: "{{ trigger.outputs.result == '43' }}"
            """);
        _listener.Start();

        var a = await RunAsync("flow_a");
        Assert.Equal(State.Success, a.State.Current);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var b = await _triggered.Reader.ReadAsync(cts.Token);
        Assert.Equal("flow_b", b.FlowId);
        b = await _runtime.WaitForTerminalAsync(b.Id, cts.Token);
        Assert.Equal(State.Success, b.State.Current);
        Assert.Equal("42", b.Inputs!["upstream"]);
        Assert.Equal("42 from flow_a (SUCCESS)", b.TaskRunList.Single(t => t.TaskId == "echo").Outputs!["value"]);
        Assert.Equal("after_a", b.Trigger!.Id);
        Assert.Equal("io.kestra.plugin.core.trigger.Flow", b.Trigger.Type);
        Assert.Equal(a.Id, b.Trigger.Variables!["executionId"]);
        Assert.Equal("company.team", b.Trigger.Variables["namespace"]);
        Assert.Equal("flow_a", b.Trigger.Variables["flowId"]);
        Assert.Equal("SUCCESS", b.Trigger.Variables["state"]);
        Assert.Contains(b.Labels, l => l.Key == "from" && l.Value == "flow_a");
        Assert.Contains(b.Labels, l => l.Key == "system.correlationId" && l.Value == a.Id);

        // flow_b ending does not start anything (no matching conditions); a failure starts only flow_on_failure
        var failed = await RunAsync("flow_fail");
        Assert.Equal(State.Failed, failed.State.Current);
        var onFailure = await _triggered.Reader.ReadAsync(cts.Token);
        Assert.Equal("flow_on_failure", onFailure.FlowId);
        Assert.Equal(failed.Id, onFailure.Trigger!.Variables!["executionId"]);
        await _runtime.WaitForTerminalAsync(onFailure.Id, cts.Token);

        // the same terminal step handled again creates nothing
        Assert.Empty(await _listener.HandleAsync(a));
        await Task.Delay(200, cts.Token);
        Assert.False(_triggered.Reader.TryRead(out var extra), extra?.FlowId);
        var wrong = await _stores.Executions.SearchAsync(new ExecutionQuery { Namespace = "company.team", FlowId = "flow_wrong_output" }, cts.Token);
        Assert.Empty(wrong.Results);
        Assert.Empty(_errors);
    }

    [Fact]
    public async Task Preconditions_wait_for_every_upstream_flow_within_the_window()
    {
        await DeployAsync(Upstream);
        await DeployAsync(Upstream.Replace("flow_a", "flow_c", StringComparison.Ordinal));
        await DeployAsync("""
            id: flow_join
            namespace: company.team
            tasks:
              - id: log
                type: io.kestra.plugin.core.log.Log
                message: "{{ trigger.flowId }}"
            triggers:
              - id: both
                type: io.kestra.plugin.core.trigger.Flow
                preconditions:
                  id: both_done
                  flows:
                    - namespace: company.team
                      flowId: flow_a
                      states: [SUCCESS]
                    - namespace: company.team
                      flowId: flow_c
                  timeWindow:
                    type: SLIDING_WINDOW
                    window: PT1H
            """);

        var a = await RunAsync("flow_a");
        Assert.Empty(await _listener.HandleAsync(a));
        var state = await _states.GetAsync("company.team", "flow_join", "both");
        Assert.Contains("flow_0", state!.Data!, StringComparison.Ordinal);

        var a2 = await RunAsync("flow_a");
        Assert.Empty(await _listener.HandleAsync(a2));

        var c = await RunAsync("flow_c");
        var created = await _listener.HandleAsync(c);
        var join = Assert.Single(created);
        Assert.Equal("flow_join", join.FlowId);
        Assert.Equal("flow_c", join.Trigger!.Variables!["flowId"]);

        // reset on success: flow_c alone again is not enough
        var c2 = await RunAsync("flow_c");
        Assert.Empty(await _listener.HandleAsync(c2));
        Assert.Empty(_errors);
    }

    [Fact]
    public async Task A_disabled_trigger_does_not_fire()
    {
        await DeployAsync(Upstream);
        await DeployAsync("""
            id: flow_b
            namespace: company.team
            tasks:
              - id: log
                type: io.kestra.plugin.core.log.Log
                message: hi
            triggers:
              - id: after_a
                type: io.kestra.plugin.core.trigger.Flow
            """);
        await _states.SaveAsync(new TriggerState { Namespace = "company.team", FlowId = "flow_b", TriggerId = "after_a", Disabled = true });
        var a = await RunAsync("flow_a");
        Assert.Empty(await _listener.HandleAsync(a));
        await _states.SaveAsync(new TriggerState { Namespace = "company.team", FlowId = "flow_b", TriggerId = "after_a", Disabled = false });
        var a2 = await RunAsync("flow_a");
        Assert.Single(await _listener.HandleAsync(a2));
    }
}

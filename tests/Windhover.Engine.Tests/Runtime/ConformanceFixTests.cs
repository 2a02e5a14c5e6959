using Microsoft.Extensions.Time.Testing;
using Windhover.Engine.Executions;
using Windhover.Engine.Executor;
using Windhover.Engine.Inputs;
using Windhover.Engine.Runtime;
using Windhover.Engine.Stores;
using Windhover.Flows.Yaml;

namespace Windhover.Engine.Tests.Runtime;

/// <summary>Runtime behaviours required by the Kestra conformance corpus.</summary>
public sealed class ConformanceFixTests : IAsyncLifetime
{
    private LocalRuntime _runtime = null!;
    private StoreSet _stores = null!;

    public async Task InitializeAsync()
    {
        _stores = InMemoryStores.Create();
        _runtime = new LocalRuntime(_stores);
        await _runtime.StartAsync();
    }

    public async Task DisposeAsync() => await _runtime.DisposeAsync();

    private async Task<Execution> RunAsync(string yaml, System.Collections.Immutable.ImmutableArray<ExecutionLabel> labels = default)
    {
        var flow = FlowParser.Default.Parse(yaml);
        Assert.True(flow.IsValid, string.Join("\n", flow.Problems.Select(p => p.ToDisplayString())));
        await _stores.Flows.SaveAsync(flow.Flow!);
        var created = await _runtime.CreateExecutionAsync(new ExecutionRequest { Namespace = flow.Flow!.Namespace, FlowId = flow.Flow.Id, Labels = labels.IsDefault ? [] : labels });
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        return await _runtime.WaitForTerminalAsync(created.Id, cts.Token);
    }

    [Fact]
    public async Task Dotted_labels_are_reachable_as_nested_maps()
    {
        var execution = await RunAsync("""
            id: labels
            namespace: company.team
            tasks:
              - id: r
                type: io.kestra.plugin.core.debug.Return
                format: "{{ labels.system.correlationId }}|{{ labels.team }}"
            """, [new ExecutionLabel("team", "data")]);
        Assert.Equal(State.Success, execution.State.Current);
        Assert.Equal(execution.Id + "|data", execution.TaskRunList.Single().Outputs!["value"]);
    }

    [Fact]
    public async Task Inputs_variable_is_absent_when_the_flow_has_no_inputs()
    {
        var execution = await RunAsync("""
            id: noinputs
            namespace: company.team
            tasks:
              - id: r
                type: io.kestra.plugin.core.debug.Return
                format: "{{ inputs.invalid }}"
            """);
        Assert.Equal(State.Failed, execution.State.Current);
        Assert.Contains(await _stores.Logs.FindAsync(execution.Id), l => l.Message.Contains("Unable to find `inputs`", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Error_logs_function_lists_the_error_logs_of_the_execution()
    {
        var execution = await RunAsync("""
            id: errs
            namespace: company.team
            tasks:
              - id: failed
                type: io.kestra.plugin.core.execution.Fail
            errors:
              - id: t2
                type: io.kestra.plugin.core.log.Log
                message: "{% for log in errorLogs() %}- task: {{ log.taskId }}, message: {{ log.message }}{% endfor %}"
            """);
        Assert.Equal(State.Failed, execution.State.Current);
        var log = Assert.Single(await _stores.Logs.FindAsync(execution.Id, taskId: "t2"));
        Assert.Equal("- task: failed, message: Task failure", log.Message);
    }

    [Fact]
    public async Task Return_records_a_length_counter_and_a_duration_timer()
    {
        var execution = await RunAsync("""
            id: metrics
            namespace: company.team
            tasks:
              - id: r
                type: io.kestra.plugin.core.debug.Return
                format: "hello"
            """);
        var metrics = _runtime.Metrics.Find(execution.Id);
        Assert.Equal(2, metrics.Count);
        Assert.Contains(metrics, m => m is { Type: "counter", Name: "length", Value: 5, TaskId: "r" });
        Assert.Contains(metrics, m => m is { Type: "timer", Name: "duration" });
    }

    [Fact]
    public async Task Max_duration_sla_with_fail_behavior_fails_the_execution_on_the_injected_clock()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var stores = InMemoryStores.Create(time);
        await using var runtime = new LocalRuntime(stores, new RuntimeOptions { TimeProvider = time });
        await runtime.StartAsync();
        var flow = FlowParser.Default.Parse("""
            id: sla
            namespace: company.team
            sla:
              - id: maxDuration
                type: MAX_DURATION
                behavior: FAIL
                duration: PT10M
            tasks:
              - id: nap
                type: io.kestra.plugin.core.flow.Sleep
                duration: PT1H
              - id: never
                type: io.kestra.plugin.core.debug.Return
                format: x
            """).Flow!;
        await stores.Flows.SaveAsync(flow);
        var created = await runtime.CreateExecutionAsync(new ExecutionRequest { Namespace = "company.team", FlowId = "sla" });
        var wait = runtime.WaitForTerminalAsync(created.Id);
        for (var i = 0; i < 200 && !wait.IsCompleted; i++)
        {
            await Task.Delay(10);
            time.Advance(TimeSpan.FromMinutes(1));
        }

        var final = await wait.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(State.Failed, final.State.Current);
        Assert.Equal(State.Failed, final.TaskRunList.Single(t => t.TaskId == "nap").State.Current);
        Assert.DoesNotContain(final.TaskRunList, t => t.TaskId == "never");
        Assert.True(final.State.Duration < TimeSpan.FromMinutes(30));
        Assert.Contains(await stores.Logs.FindAsync(final.Id), l => l.Level == ExecutorLogLevel.Error && l.Message.Contains("maxDuration", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("01:00:00", "01:00")]
    [InlineData("00:00:01", "00:00:01")]
    [InlineData("12:30:00.5", "12:30:00.500")]
    public void Times_are_printed_as_java_local_time(string input, string expected) =>
        Assert.Equal(expected, FlowInputs.FormatJavaTime(TimeOnly.Parse(input, System.Globalization.CultureInfo.InvariantCulture)));
}

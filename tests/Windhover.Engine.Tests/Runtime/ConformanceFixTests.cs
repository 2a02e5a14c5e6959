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

    [Fact]
    public async Task State_tasks_keep_one_state_per_loop_value_unless_taskrunValue_is_false()
    {
        var execution = await RunAsync("""
            id: states
            namespace: company.team
            tasks:
              - id: each
                type: io.kestra.plugin.core.flow.ForEach
                values: '["a", "b"]'
                tasks:
                  - id: get
                    type: io.kestra.plugin.core.state.Get
                    name: s
                  - id: set
                    type: io.kestra.plugin.core.state.Set
                    name: s
                    data:
                      value: "{{ (currentEachOutput(outputs.get).data.value ?? 'null') ~ '-' ~ taskrun.value }}"
                  - id: getShared
                    type: io.kestra.plugin.core.state.Get
                    taskrunValue: false
                    name: t
                  - id: setShared
                    type: io.kestra.plugin.core.state.Set
                    taskrunValue: false
                    name: t
                    data:
                      value: "{{ (currentEachOutput(outputs.getShared).data.value ?? 'null') ~ '-' ~ taskrun.value }}"
            """);
        Assert.Equal(State.Success, execution.State.Current);
        var perValue = execution.TaskRunList.Single(t => t.TaskId == "get" && t.Value == "b");
        Assert.Empty((IReadOnlyDictionary<string, object?>)perValue.Outputs!["data"]!);
        var shared = execution.TaskRunList.Single(t => t.TaskId == "getShared" && t.Value == "b");
        Assert.Equal("null-a", ((IReadOnlyDictionary<string, object?>)shared.Outputs!["data"]!)["value"]);
    }

    [Fact]
    public async Task Sleep_logs_its_duration()
    {
        var execution = await RunAsync("""
            id: nap
            namespace: company.team
            tasks:
              - id: nap
                type: io.kestra.plugin.core.flow.Sleep
                duration: PT0.1S
            """);
        var log = Assert.Single(await _stores.Logs.FindAsync(execution.Id, taskId: "nap"));
        Assert.Equal("Waiting for PT0.1S", log.Message);
    }

    [Fact]
    public async Task Log_to_file_writes_the_attempt_logs_to_storage_instead_of_the_log_store()
    {
        var execution = await RunAsync("""
            id: logfile
            namespace: company.team
            tasks:
              - id: hello
                type: io.kestra.plugin.core.log.Log
                message: Hello World!
                logToFile: true
            """);
        Assert.Equal(State.Success, execution.State.Current);
        var logFile = Assert.Single(execution.TaskRunList.Single().Attempts!.Value).LogFile;
        Assert.NotNull(logFile);
        await using var stream = await _stores.Files.OpenReadAsync(logFile!);
        var lines = (await new StreamReader(stream!).ReadToEndAsync()).TrimEnd('\n').Split('\n');
        var line = Assert.Single(lines);
        Assert.Contains("INFO Hello World!", line, StringComparison.Ordinal);
        Assert.Empty(await _stores.Logs.FindAsync(execution.Id, taskId: "hello"));
    }

    [Fact]
    public async Task Working_directory_input_files_are_written_before_its_tasks_run()
    {
        var execution = await RunAsync("""
            id: wd
            namespace: company.team
            tasks:
              - id: workingDir
                type: io.kestra.plugin.core.flow.WorkingDirectory
                inputFiles:
                  input.txt: "Hello {{ flow.id }}"
                tasks:
                  - id: collect
                    type: io.kestra.plugin.core.storage.LocalFiles
                    outputs:
                      - input.txt
            """);
        Assert.Equal(State.Success, execution.State.Current);
        var uri = (string)((IReadOnlyDictionary<string, object?>)execution.TaskRunList.Single(t => t.TaskId == "collect").Outputs!["uris"]!)["input.txt"]!;
        await using var stream = await _stores.Files.OpenReadAsync(uri);
        Assert.Equal("Hello wd", await new StreamReader(stream!).ReadToEndAsync());
    }

    [Fact]
    public async Task Working_directory_output_files_become_its_outputs()
    {
        var execution = await RunAsync("""
            id: wdout
            namespace: company.team
            tasks:
              - id: workingDir
                type: io.kestra.plugin.core.flow.WorkingDirectory
                outputFiles:
                  - "*.txt"
                tasks:
                  - id: write
                    type: io.kestra.plugin.core.storage.LocalFiles
                    inputs:
                      output.txt: "Hello World"
              - id: after
                type: io.kestra.plugin.core.debug.Return
                format: "{{ outputs.workingDir.outputFiles['output.txt'] }}"
            """);
        Assert.Equal(State.Success, execution.State.Current);
        var files = (IReadOnlyDictionary<string, object?>)execution.TaskRunList.Single(t => t.TaskId == "workingDir").Outputs!["outputFiles"]!;
        var uri = Assert.IsType<string>(Assert.Single(files).Value);
        Assert.Equal(uri, execution.TaskRunList.Single(t => t.TaskId == "after").Outputs!["value"]);
        await using var stream = await _stores.Files.OpenReadAsync(uri);
        Assert.Equal("Hello World", await new StreamReader(stream!).ReadToEndAsync());
    }

    [Theory]
    [InlineData("01:00:00", "01:00")]
    [InlineData("00:00:01", "00:00:01")]
    [InlineData("12:30:00.5", "12:30:00.500")]
    public void Times_are_printed_as_java_local_time(string input, string expected) =>
        Assert.Equal(expected, FlowInputs.FormatJavaTime(TimeOnly.Parse(input, System.Globalization.CultureInfo.InvariantCulture)));
}

using System.Collections.Immutable;
using Windhover.Engine.Executions;
using Windhover.Engine.Executor;
using Windhover.Engine.Tests.Support;
using Windhover.Flows.Model;
using static Windhover.Engine.Tests.Support.F;

namespace Windhover.Engine.Tests.Executor;

public sealed class BranchingAndLoopTests
{
    private static Dictionary<string, object?> In(string key, object? value) => new() { [key] = value };

    private static TaskDefinition SwitchTask(bool withDefaults = true)
    {
        var cases = new Dictionary<string, ImmutableArray<TaskDefinition>>
        {
            ["FIRST"] = [Ret("t1")],
            ["SECOND"] = [Ret("t2"), Ret("t2_sub")],
        };
        var properties = new List<(string, object?)> { ("value", "{{ inputs.string }}"), ("cases", cases) };
        if (withDefaults)
        {
            properties.Add(("defaults", L(Ret("default"))));
        }

        return T("parent-seq", FlowNs + "Switch", [.. properties]);
    }

    [Theory]
    [InlineData("FIRST", "t1", 2)]
    [InlineData("SECOND", "t2", 3)]
    [InlineData("other", "default", 2)]
    public void Switch_picks_a_case_or_defaults(string input, string expectedTask, int count)
    {
        var h = new Harness(Of(SwitchTask()), In("string", input)).RunToEnd();
        Assert.Equal(State.Success, h.Execution.State.Current);
        Assert.Equal(count, h.Count);
        Assert.Equal(State.Success, h.StateOf(expectedTask));
        Assert.Equal(input, h.Run("parent-seq").Outputs!["value"]);
        Assert.Equal(expectedTask == "default", h.Run("parent-seq").Outputs!["defaults"]);
    }

    [Fact]
    public void Switch_without_match_and_defaults_fails()
    {
        var h = new Harness(Of(SwitchTask(withDefaults: false)), In("string", "impossible")).RunToEnd();
        Assert.Equal(State.Failed, h.Execution.State.Current);
        Assert.Equal(1, h.Count);
        Assert.Equal(State.Failed, h.StateOf("parent-seq"));
        Assert.Contains(h.WorkOf<EmitLog>(), l => l.Level == ExecutorLogLevel.Error);
    }

    [Fact]
    public void Switch_value_render_error_fails_the_task()
    {
        var h = new Harness(Of(SwitchTask())).RunToEnd();
        Assert.Equal(State.Failed, h.StateOf("parent-seq"));
        Assert.Equal(State.Failed, h.Execution.State.Current);
    }

    [Theory]
    [InlineData("true", "when-true")]
    [InlineData("1", "when-true")]
    [InlineData("yes", "when-true")]
    [InlineData("false", "when-false")]
    [InlineData("0", "when-false")]
    [InlineData("-0", "when-false")]
    [InlineData("", "when-false")]
    [InlineData(null, "when-false")]
    public void If_uses_kestra_truthiness(string? param, string expected)
    {
        var @if = T("if", FlowNs + "If", ("condition", "{{ inputs.param }}"), ("then", L(Ret("when-true"))), ("else", L(Ret("when-false"))));
        var h = new Harness(Of(@if), In("param", param)).RunToEnd();
        Assert.Equal(State.Success, h.Execution.State.Current);
        Assert.Equal(2, h.Count);
        Assert.Equal(State.Success, h.StateOf(expected));
    }

    [Fact]
    public void If_without_else_and_false_condition_succeeds_with_no_child()
    {
        var @if = T("if", FlowNs + "If", ("condition", "{{ inputs.param }}"), ("then", L(Ret("when-true"))));
        var h = new Harness(Of(@if), In("param", false)).RunToEnd();
        Assert.Equal(State.Success, h.Execution.State.Current);
        Assert.Equal(1, h.Count);
    }

    [Fact]
    public void ForEach_sequential_by_default_with_values_and_iterations()
    {
        var each = Flowable("for_each", "ForEach", L(Ret("log", "{{ taskrun.value }}"), LogT("shell")), ("values", new List<object?> { "value 1", "value 2", "value 3" }));
        var h = new Harness(Of(each)) { AutoRun = false }.Start();
        Assert.Single(h.Pending);
        h.AutoRun = true;
        h.RunWorker(h.Pending[0]);
        h.Run();

        Assert.Equal(State.Success, h.Execution.State.Current);
        Assert.Equal(7, h.Count);
        var logs = h.Runs("log").ToList();
        Assert.Equal(["value 1", "value 2", "value 3"], logs.Select(l => l.Value));
        Assert.Equal([0, 1, 2], logs.Select(l => l.Iteration!.Value));
        Assert.Equal("value 2", h.Run("log", "value 2").Outputs!["value"]);
        var order = h.Execution.TaskRunList.Select(t => t.TaskId + ":" + t.Value).ToList();
        Assert.Equal(["for_each:", "log:value 1", "shell:value 1", "log:value 2", "shell:value 2", "log:value 3", "shell:value 3"], order);
    }

    [Fact]
    public void ForEach_concurrency_zero_starts_every_value()
    {
        var each = Flowable("for_each", "ForEach", L(LogT("log"), LogT("shell")), ("values", "[\"a\", \"b\", \"c\"]"), ("concurrencyLimit", 0L));
        var h = new Harness(Of(each)) { AutoRun = false }.Start();
        Assert.Equal(["a", "b", "c"], h.Pending.Select(p => p.TaskRun.Value));
        Assert.All(h.Pending, p => Assert.Equal("log", p.Task.Id));
        h.AutoRun = true;
        foreach (var run in h.Pending.ToList())
        {
            h.RunWorker(run);
        }

        h.Run();
        Assert.Equal(State.Success, h.Execution.State.Current);
        Assert.Equal(7, h.Count);
    }

    [Fact]
    public void ForEach_concurrency_two_limits_values_in_flight()
    {
        var each = Flowable("for_each", "ForEach", L(LogT("log")), ("values", "[\"a\", \"b\", \"c\"]"), ("concurrencyLimit", 2L));
        var h = new Harness(Of(each)) { AutoRun = false }.Start();
        Assert.Equal(["a", "b"], h.Pending.Select(p => p.TaskRun.Value));
    }

    [Fact]
    public void ForEach_values_objects_become_json_and_duplicates_collapse()
    {
        var values = new List<object?> { "x", "x", new Dictionary<string, object?> { ["k"] = "v" }, 1L };
        var each = Flowable("each", "ForEach", L(Ret("r", "{{ taskrun.value }}")), ("values", values));
        var h = new Harness(Of(each)).RunToEnd();
        Assert.Equal(["x", "{\"k\":\"v\"}", "1"], h.Runs("r").Select(r => r.Value));
    }

    [Fact]
    public void ForEach_invalid_values_fail_the_task()
    {
        var each = Flowable("each", "ForEach", L(LogT("r")), ("values", "not json"));
        var h = new Harness(Of(each)).RunToEnd();
        Assert.Equal(State.Failed, h.StateOf("each"));
        Assert.Equal(1, h.Count);
    }

    [Fact]
    public void EachSequential_nested_outputs_are_keyed_by_values()
    {
        var inner = Flowable("1-2_each", "EachSequential", L(
                Ret("1-2-1_return", "{{ task.id }} > {{ taskrun.value }}"),
                Ret("1-2-2_return", "get {{ outputs['1-2-1_return']['s1'][taskrun.value].value }}")),
            ("value", "[\"a a\", \"b b\"]"));
        var outer = Flowable("1_each", "EachSequential", L(
                Ret("1-1_return", "{{ task.id }} > {{ taskrun.value }}"),
                inner,
                Ret("1-3_return", "{{ outputs['1-1_return'][taskrun.value].value }}")),
            ("value", new List<object?> { "s1", "s2", "s3" }));
        var h = new Harness(Of(outer, Ret("2_return", "{{ outputs['1-2-1_return'].s1['a a'].value }}"))).RunToEnd();

        Assert.Equal(State.Success, h.Execution.State.Current);
        Assert.Equal(23, h.Count);
        Assert.Equal("1-2-1_return > a a", h.Run("2_return").Outputs!["value"]);
        Assert.Equal("1-1_return > s1", h.Run("1-3_return", "s1").Outputs!["value"]);
        var s1 = h.Run("1_each");
        var innerS1 = h.Execution.TaskRunList.Single(t => t.TaskId == "1-2_each" && t.Value == "s1");
        var getAa = h.Execution.TaskRunList.Single(t => t.TaskId == "1-2-2_return" && t.Value == "a a" && t.ParentTaskRunId == innerS1.Id);
        Assert.Equal("get 1-2-1_return > a a", getAa.Outputs!["value"]);
        Assert.Equal(s1.Id, innerS1.ParentTaskRunId);
    }

    [Fact]
    public void EachParallel_runs_every_value_and_task_at_once()
    {
        var each = Flowable("each", "EachParallel", L(LogT("a"), LogT("b")), ("value", "[1, 2, 3]"));
        var h = new Harness(Of(each)) { AutoRun = false }.Start();
        Assert.Equal(6, h.Pending.Count);
        Assert.Equal(["1", "1", "2", "2", "3", "3"], h.Pending.Select(p => p.TaskRun.Value));
    }

    [Fact]
    public void Each_switch_parents_expose_enclosing_values()
    {
        var innerSwitch = T("2-1-1_switch", FlowNs + "Switch", ("value", "{{ taskrun.value }}"), ("cases", new Dictionary<string, ImmutableArray<TaskDefinition>>
        {
            ["1"] = [Ret("2-1-1_switch-number-1", "{{ parents[0].taskrun.value }}")],
            ["2"] = [Ret("2-1-1_switch-number-2", "{{ parents[0].taskrun.value }} {{ parents[1].taskrun.value }}")],
        }));
        var outerSwitch = T("2-1_switch", FlowNs + "Switch", ("value", "{{ taskrun.value }}"), ("cases", new Dictionary<string, ImmutableArray<TaskDefinition>>
        {
            ["a"] = [Ret("2-1_switch-letter-a")],
            ["b"] = [Ret("2-1_switch-letter-b"), Flowable("2-1_each", "ForEach", L(innerSwitch), ("values", "[\"1\", \"2\"]"))],
        }));
        var flow = Of(Ret("t1"), Flowable("2_each", "ForEach", L(outerSwitch), ("values", "[\"a\", \"b\"]")), Ret("2_end"));
        var h = new Harness(flow).RunToEnd();

        Assert.Equal(State.Success, h.Execution.State.Current);
        Assert.Equal(12, h.Count);
        Assert.Equal("1", h.Run("2-1-1_switch-number-1").Outputs!["value"]);
        Assert.Equal("2 b", h.Run("2-1-1_switch-number-2").Outputs!["value"]);
    }

    [Fact]
    public void Disabled_tasks_are_never_run()
    {
        var disabled = Ret("off") with { Disabled = true };
        var flow = Of(
            Flowable("1-each", "ForEach", L(Ret("1-each-1"), Ret("1-each-2") with { Disabled = true }), ("values", "[\"v1\", \"v2\", \"v3\"]")),
            Seq("2-seq", Ret("2-1"), disabled),
            Seq("3-seq", Ret("3-1"), Ret("3-2") with { Disabled = true }),
            T("4-switch", FlowNs + "Switch", ("value", "FIRST"), ("cases", new Dictionary<string, ImmutableArray<TaskDefinition>>
            {
                ["FIRST"] = [Ret("4-1"), Ret("4-2") with { Disabled = true }],
            })),
            Seq("5-all-disabled", Ret("5-1") with { Disabled = true }),
            Seq("6-disabled", Ret("6-1")) with { Disabled = true });
        var h = new Harness(flow).RunToEnd();
        Assert.Equal(State.Success, h.Execution.State.Current);
        Assert.Equal(11, h.Count);
        Assert.Empty(h.Runs("off"));
        Assert.Empty(h.Runs("6-disabled"));
    }

    [Fact]
    public void RunIf_false_skips_and_an_expression_error_fails()
    {
        var flow = Of(
            T("output", OutputValues, ("values", new Dictionary<string, object?> { ["data"] = true })),
            LogT("executed") with { RunIf = "{{ outputs.output['values']['data'] }}" },
            LogT("notexecuted") with { RunIf = "{{ inputs.no }}" },
            LogT("willfailedtheflow") with { RunIf = "{{ outputs.notexists }}" });
        var h = new Harness(flow, In("no", false)).RunToEnd();

        Assert.Equal(State.Failed, h.Execution.State.Current);
        Assert.Equal(4, h.Count);
        Assert.Equal(State.Success, h.StateOf("executed"));
        Assert.Equal(State.Skipped, h.StateOf("notexecuted"));
        Assert.Equal([State.Created, State.Skipped], h.History("notexecuted"));
        Assert.Equal(State.Failed, h.StateOf("willfailedtheflow"));
        Assert.Contains(h.WorkOf<EmitLog>(), l => l.Message.Contains("notexists", StringComparison.Ordinal));
        Assert.DoesNotContain(h.WorkOf<RunTask>(), r => r.Task.Id is "notexecuted" or "willfailedtheflow");
    }

    [Fact]
    public void RunIf_on_a_flowable_skips_its_children()
    {
        var h = new Harness(Of(Seq("s", Ret("a")) with { RunIf = "{{ inputs.go }}" }, Ret("b")), In("go", "false")).RunToEnd();
        Assert.Equal(State.Success, h.Execution.State.Current);
        Assert.Equal(State.Skipped, h.StateOf("s"));
        Assert.Empty(h.Runs("a"));
    }

    [Fact]
    public void AllowFailure_flowable_turns_failure_into_warning_and_errors_still_run()
    {
        var crash = new Dictionary<string, ImmutableArray<TaskDefinition>> { ["true"] = [FailT("crash")] };
        var flow = Of(
                Seq("first",
                    Flowable("1-1-allow-failure", "AllowFailure", L(
                        Seq("1-1-1_seq", Ret("1-1-1-1"), FailT("ko"), Ret("1-1-1-3")))) with { Errors = [Ret("local-error")] },
                    Ret("1-2-todo")),
                T("switch", FlowNs + "Switch", ("value", "{{ inputs.crash }}"), ("cases", crash), ("defaults", L(Ret("last")))))
            with { Errors = [Ret("global-error")] };
        var h = new Harness(flow, In("crash", "true")).RunToEnd();

        Assert.Equal(State.Failed, h.Execution.State.Current);
        Assert.Equal(10, h.Count);
        Assert.Equal(State.Warning, h.StateOf("first"));
        Assert.Equal(State.Warning, h.StateOf("1-1-allow-failure"));
        Assert.Equal(State.Failed, h.StateOf("1-1-1_seq"));
        Assert.Equal(State.Success, h.StateOf("1-1-1-1"));
        Assert.Equal(State.Failed, h.StateOf("ko"));
        Assert.Equal(State.Success, h.StateOf("local-error"));
        Assert.Equal(State.Success, h.StateOf("1-2-todo"));
        Assert.Equal(State.Success, h.StateOf("global-error"));
        Assert.Equal(State.Failed, h.StateOf("switch"));
        Assert.Equal(State.Failed, h.StateOf("crash"));
    }

    [Fact]
    public void Task_allowFailure_gives_a_warning_execution_and_allowWarning_a_success()
    {
        var failure = new Harness(Of(FailT("ko") with { AllowFailure = true }, Ret("next"))).RunToEnd();
        Assert.Equal(State.Warning, failure.Execution.State.Current);
        Assert.Equal(State.Warning, failure.StateOf("ko"));
        Assert.Equal(State.Success, failure.StateOf("next"));
        Assert.Equal(State.Failed, failure.Run("ko").Attempts!.Value[0].State.Current);

        var both = new Harness(Of(FailT("ko") with { AllowFailure = true, AllowWarning = true })).RunToEnd();
        Assert.Equal(State.Success, both.Execution.State.Current);

        var warn = new Harness(Of(LogT("w") with { AllowWarning = true }));
        warn.Workers["w"] = (_, _) => new WorkerOutcome(State.Warning);
        warn.RunToEnd();
        Assert.Equal(State.Success, warn.Execution.State.Current);
    }

    [Fact]
    public void Warning_task_makes_a_warning_execution()
    {
        var h = new Harness(Of(LogT("w"), Ret("after")));
        h.Workers["w"] = (_, _) => new WorkerOutcome(State.Warning);
        h.RunToEnd();
        Assert.Equal(State.Warning, h.Execution.State.Current);
        Assert.Equal(State.Success, h.StateOf("after"));
    }

    [Fact]
    public void Plugin_defaults_merge_into_properties_and_forced_wins()
    {
        var flow = Of(T("a", Return), T("b", Return, ("format", "own"))) with
        {
            PluginDefaults = [new PluginDefault(Return, false, new Dictionary<string, object?> { ["format"] = "default" })],
        };
        var h = new Harness(flow).RunToEnd();
        Assert.Equal("default", h.Run("a").Outputs!["value"]);
        Assert.Equal("own", h.Run("b").Outputs!["value"]);

        var forced = new Harness(flow with { PluginDefaults = [new PluginDefault("io.kestra.plugin.core.debug", true, new Dictionary<string, object?> { ["format"] = "forced" })] }).RunToEnd();
        Assert.Equal("forced", forced.Run("b").Outputs!["value"]);
    }

    [Fact]
    public void Flow_outputs_are_rendered_at_the_end()
    {
        var flow = Of(Ret("return", "{{ flow.id }}")) with
        {
            Outputs = [new OutputDefinition { Id = "key", Type = InputType.String, Value = "{{ outputs.return.value }}" }],
        };
        var h = new Harness(flow).RunToEnd();
        Assert.Equal(State.Success, h.Execution.State.Current);
        Assert.Equal("test-flow", h.Execution.Outputs!["key"]);
    }

    [Fact]
    public void Flow_outputs_render_failure_fails_without_outputs()
    {
        var flow = Of(Ret("return")) with { Outputs = [new OutputDefinition { Id = "key", Type = InputType.String, Value = "{{ invalid }}" }] };
        var h = new Harness(flow).RunToEnd();
        Assert.Equal(State.Failed, h.Execution.State.Current);
        Assert.Null(h.Execution.Outputs);
        Assert.Contains(h.WorkOf<EmitLog>(), l => l.Level == ExecutorLogLevel.Error);
    }

    [Fact]
    public void AfterExecution_tasks_run_once_the_flow_is_done()
    {
        var flow = Of(FailT("ko")) with { AfterExecution = [LogT("notify")] };
        var h = new Harness(flow).RunToEnd();
        Assert.Equal(State.Failed, h.Execution.State.Current);
        Assert.Equal(["ko", "notify"], h.Execution.TaskRunList.Select(t => t.TaskId));
        Assert.Equal(State.Success, h.StateOf("notify"));
    }
}

public sealed class LabelsTaskTests
{
    [Fact]
    public void Labels_task_updates_execution_labels_in_the_executor()
    {
        var flow = F.Of(
            F.T("from-map", "io.kestra.plugin.core.execution.Labels", ("labels", new Dictionary<string, object?> { ["{{ inputs.key }}"] = "{{ inputs.n }}", ["existing"] = "{{ taskrun.id }}" })),
            F.T("from-json", "io.kestra.plugin.core.execution.Labels", ("labels", "{{ inputs.json }}")),
            F.T("from-list", "io.kestra.plugin.core.execution.Labels", ("labels", new List<object?> { new Dictionary<string, object?> { ["key"] = "k3", ["value"] = true } })));
        var h = new Harness(flow, new Dictionary<string, object?> { ["key"] = "k1", ["n"] = 42L, ["json"] = "{\"k2\": \"v2\"}" }, [new ExecutionLabel("existing", "old")]).RunToEnd();

        Assert.Equal(State.Success, h.Execution.State.Current);
        Assert.Empty(h.WorkOf<RunTask>());
        Assert.Equal(
            [new ExecutionLabel("existing", h.Run("from-map").Id), new ExecutionLabel("k1", "42"), new ExecutionLabel("k2", "v2"), new ExecutionLabel("k3", "true")],
            h.Execution.Labels.ToArray());
        Assert.Equal(1, h.Run("from-map").AttemptCount);
    }

    [Fact]
    public void Labels_task_refuses_system_labels()
    {
        var flow = F.Of(F.T("l", "io.kestra.plugin.core.execution.Labels", ("labels", new Dictionary<string, object?> { ["system.x"] = "y" })));
        var h = new Harness(flow).RunToEnd();
        Assert.Equal(State.Failed, h.Execution.State.Current);
    }
}

using Windhover.Engine.Executions;
using Windhover.Engine.Executor;
using Windhover.Engine.Tests.Support;
using static Windhover.Engine.Tests.Support.F;

namespace Windhover.Engine.Tests.Executor;

public sealed class SubflowKillRestartTests
{
    private static Windhover.Flows.Model.TaskDefinition Subflow(params (string Key, object? Value)[] extra) =>
        T("subflow", FlowNs + "Subflow", [("namespace", "io.kestra.tests"), ("flowId", "switch"),
            ("inputs", new Dictionary<string, object?> { ["string"] = "{{ inputs.string }}" }),
            ("labels", new Dictionary<string, object?> { ["launchTaskLabel"] = "launchFoo" }), .. extra]);

    [Fact]
    public void Subflow_starts_a_child_and_transmits_its_failure()
    {
        var h = new Harness(Of(Subflow(("inheritLabels", true))), new Dictionary<string, object?> { ["string"] = "THIRD" },
            [new ExecutionLabel("mainFlowExecutionLabel", "execFoo")]);
        StartChild? started = null;
        h.Children = child =>
        {
            started = child;
            return new ChildExecutionSummary(child.Request.ExecutionId, State.Failed, null,
                new Dictionary<string, object?> { ["outputs"] = new Dictionary<string, object?> { ["t1"] = new Dictionary<string, object?> { ["value"] = "Error Trigger ! error-t1" } } });
        };
        h.Workers.Clear();
        var flow = h.Flow;
        var withOutputs = new Harness(Of(Subflow(("inheritLabels", true), ("outputs", new Dictionary<string, object?> { ["extracted"] = "{{ outputs.t1.value }}" }))),
            new Dictionary<string, object?> { ["string"] = "THIRD" }, [new ExecutionLabel("mainFlowExecutionLabel", "execFoo")]) { Children = h.Children };
        withOutputs.RunToEnd();

        Assert.NotNull(started);
        Assert.Equal("THIRD", started!.Request.Inputs["string"]);
        Assert.Equal("io.kestra.plugin.core.flow.Subflow", started.Request.Trigger.Type);
        Assert.Equal(withOutputs.Execution.Id, ((IReadOnlyDictionary<string, object?>)started.Request.Trigger.Variables!)["executionId"]);
        Assert.Contains(new ExecutionLabel("system.correlationId", withOutputs.Execution.Id), started.Request.Labels);
        Assert.Contains(new ExecutionLabel("mainFlowExecutionLabel", "execFoo"), started.Request.Labels);
        Assert.Contains(new ExecutionLabel("launchTaskLabel", "launchFoo"), started.Request.Labels);

        Assert.Equal(State.Failed, withOutputs.Execution.State.Current);
        Assert.Equal(1, withOutputs.Count);
        var run = withOutputs.Run("subflow");
        Assert.Equal([State.Failed], run.Attempts!.Value.Select(a => a.State.Current));
        Assert.Equal(started.Request.ExecutionId, run.Outputs!["executionId"]);
        Assert.Equal("FAILED", run.Outputs["state"]);
        Assert.Equal("Error Trigger ! error-t1", ((IReadOnlyDictionary<string, object?>)run.Outputs["outputs"]!)["extracted"]);
        Assert.NotNull(flow);
    }

    [Fact]
    public void Subflow_success_exposes_child_outputs()
    {
        var h = new Harness(Of(Subflow()), new Dictionary<string, object?> { ["string"] = "FIRST" })
        {
            Children = child => new ChildExecutionSummary(child.Request.ExecutionId, State.Success, new Dictionary<string, object?> { ["key"] = "v" }),
        }.RunToEnd();
        Assert.Equal(State.Success, h.Execution.State.Current);
        Assert.Equal("v", ((IReadOnlyDictionary<string, object?>)h.Run("subflow").Outputs!["outputs"]!)["key"]);
    }

    [Theory]
    [InlineData(false, false, false, State.Failed, State.Success)]
    [InlineData(true, false, false, State.Failed, State.Failed)]
    [InlineData(true, true, false, State.Failed, State.Warning)]
    [InlineData(true, true, true, State.Failed, State.Success)]
    [InlineData(true, false, true, State.Warning, State.Success)]
    [InlineData(true, false, false, State.Killed, State.Killed)]
    public void Subflow_state_follows_kestra_guess_state(bool transmitFailed, bool allowFailure, bool allowWarning, State child, State expected) =>
        Assert.Equal(expected, ExecutorStepBuilder.SubflowState(child, transmitFailed, allowFailure, allowWarning));

    [Fact]
    public void Subflow_without_wait_succeeds_at_once()
    {
        var h = new Harness(Of(Subflow(("wait", false))), new Dictionary<string, object?> { ["string"] = "x" }).RunToEnd();
        Assert.Equal(State.Success, h.Execution.State.Current);
        Assert.Single(h.WorkOf<StartChild>());
        Assert.NotNull(h.Run("subflow").Outputs!["executionId"]);
    }

    [Fact]
    public void Subflow_child_not_creatable_fails_the_task()
    {
        var h = new Harness(Of(Subflow()), new Dictionary<string, object?> { ["string"] = "x" }).RunToEnd();
        Assert.Equal(State.Running, h.Execution.State.Current);
        h.Apply(new ChildStartFailed(h.Run("subflow").Id, "Unable to find flow 'io.kestra.tests.switch'", h.Now)).Run();
        Assert.Equal(State.Failed, h.Execution.State.Current);
    }

    [Fact]
    public void Task_allow_failure_on_subflow_gives_warning()
    {
        var h = new Harness(Of(Subflow() with { AllowFailure = true }, Ret("next")), new Dictionary<string, object?> { ["string"] = "x" })
        {
            Children = child => new ChildExecutionSummary(child.Request.ExecutionId, State.Failed),
        }.RunToEnd();
        Assert.Equal(State.Warning, h.Execution.State.Current);
        Assert.Equal(2, h.Count);
    }

    [Fact]
    public void WorkingDirectory_children_share_the_directory_and_errors_run()
    {
        var wd = Flowable("worker", "WorkingDirectory", L(LogT("first"), LogT("second"), Ret("disabled") with { Disabled = true })) with { Errors = [Ret("error-t1")] };
        var ok = new Harness(Of(wd, Ret("2_end"))).RunToEnd();
        Assert.Equal(State.Success, ok.Execution.State.Current);
        Assert.Equal(4, ok.Count);
        var workerRun = ok.Run("worker");
        Assert.All(ok.WorkOf<RunTask>().Where(r => r.Task.Id is "first" or "second"), r =>
        {
            Assert.Equal(workerRun.Id, r.WorkingDirectoryTaskRunId);
            Assert.Equal("worker", r.WorkingDirectory!.Id);
        });
        Assert.Null(ok.WorkOf<RunTask>().Single(r => r.Task.Id == "2_end").WorkingDirectoryTaskRunId);
        Assert.Equal(workerRun.Id, Assert.Single(ok.WorkOf<ReleaseWorkingDirectory>()).TaskRunId);

        var ko = new Harness(Of(wd, Ret("2_end")));
        ko.Workers["first"] = (_, _) => new WorkerOutcome(State.Failed);
        ko.RunToEnd();
        Assert.Equal(State.Failed, ko.Execution.State.Current);
        Assert.Equal(3, ko.Count);
        Assert.Single(ko.Runs("error-t1"));
    }

    [Fact]
    public void Kill_cascades_to_running_tasks_and_ends_killed()
    {
        var h = new Harness(Of(Par("p", LogT("a"), LogT("b")), LogT("after"))) { AutoRun = false }.Start();
        Assert.Equal(2, h.Pending.Count);
        h.Apply(new TaskResult(h.Pending[0].TaskRun.Id, State.Running, h.Now));
        h.Apply(new KillExecution(h.Now));

        Assert.Equal(State.Killing, h.Execution.State.Current);
        Assert.Equal(2, h.WorkOf<KillTaskRun>().Count());
        Assert.Equal(State.Killing, h.StateOf("a"));
        Assert.Equal(State.Killed, h.StateOf("b"));

        h.Apply(new TaskResult(h.Pending[0].TaskRun.Id, State.Killed, h.Now));
        Assert.Equal(State.Killed, h.Execution.State.Current);
        Assert.Equal(State.Killed, h.StateOf("p"));
        Assert.Empty(h.Runs("after"));
        Assert.Equal([State.Created, State.Running, State.Killing, State.Killed], h.History());
    }

    [Fact]
    public void Kill_paused_execution_and_running_subflow()
    {
        var paused = new Harness(Of(Flowable("pause", "Pause", L()))).RunToEnd();
        paused.Apply(new KillExecution(paused.Now));
        Assert.Equal(State.Killed, paused.Execution.State.Current);
        Assert.Equal(State.Killed, paused.StateOf("pause"));

        var sub = new Harness(Of(Subflow()), new Dictionary<string, object?> { ["string"] = "x" }).RunToEnd();
        sub.Apply(new KillExecution(sub.Now));
        var kill = Assert.Single(sub.WorkOf<KillChild>());
        Assert.Equal(sub.Run("subflow").Outputs!["executionId"], kill.ChildExecutionId);
        sub.Apply(new ChildEnded(sub.Run("subflow").Id, new ChildExecutionSummary(kill.ChildExecutionId, State.Killed), sub.Now));
        Assert.Equal(State.Killed, sub.Execution.State.Current);
    }

    [Fact]
    public void Stale_and_duplicate_results_are_ignored()
    {
        var h = new Harness(Of(LogT("a"), LogT("b"))).RunToEnd();
        var before = Windhover.Engine.Serialization.KestraJson.Serialize(h.Execution);
        h.Apply(new TaskResult(h.Run("a").Id, State.Failed, h.Now));
        h.Apply(new TaskResult("unknown", State.Failed, h.Now));
        Assert.Equal(before, Windhover.Engine.Serialization.KestraJson.Serialize(h.Execution));
    }

    [Fact]
    public void Restart_resets_failed_task_runs_and_removes_error_handlers()
    {
        var seq = Seq("sequential", LogT("close"), FailT("failStep")) with { Errors = [LogT("errorHandler")] };
        var flow = Of(LogT("before"), seq, LogT("after"));
        var h = new Harness(flow).RunToEnd();
        Assert.Equal(State.Failed, h.Execution.State.Current);
        Assert.Equal(5, h.Count);

        var prepared = Windhover.Engine.Executor.Executor.PrepareRestart(flow, h.Execution, h.Now);
        Assert.Equal(State.Restarted, prepared.State.Current);
        Assert.Equal(4, prepared.TaskRunList.Length);
        Assert.Equal(2, prepared.Metadata!.AttemptNumber);
        Assert.Equal(h.Execution.Id, prepared.Id);

        h.Apply(new RestartExecution(h.Now)).Run();
        Assert.Equal(State.Failed, h.Execution.State.Current);
        Assert.Equal(5, h.Count);
        Assert.Equal(2, h.Run("failStep").AttemptCount);
        Assert.Equal(1, h.Run("before").AttemptCount);
        Assert.Contains(State.Restarted, h.History());
        Assert.Contains(State.Restarted, h.History("failStep"));
    }

    [Fact]
    public void Restart_then_success_completes_the_flow()
    {
        var flow = Of(FailT("first"), LogT("second")) with { Errors = [LogT("err")] };
        var h = new Harness(flow);
        h.Workers["first"] = (_, attempt) => new WorkerOutcome(attempt == 0 ? State.Failed : State.Success);
        h.RunToEnd();
        Assert.Equal(State.Failed, h.Execution.State.Current);
        h.Apply(new RestartExecution(h.Now)).Run();
        Assert.Equal(State.Success, h.Execution.State.Current);
        Assert.Equal(["first", "second"], h.Execution.TaskRunList.Select(t => t.TaskId));
        Assert.Throws<InvalidOperationException>(() => Windhover.Engine.Executor.Executor.PrepareRestart(flow, h.Execution, h.Now));
    }
}

public sealed class MarkAsTests
{
    [Fact]
    public void Marking_a_paused_pause_running_resumes_it()
    {
        var flow = F.Of(F.Flowable("pause", "Pause", F.L(F.LogT("ko"))), F.Ret("last"));
        var h = new Harness(flow).RunToEnd();
        Assert.Equal(State.Paused, h.Execution.State.Current);

        var marked = Windhover.Engine.Executor.Executor.PrepareMarkAs(flow, h.Execution, h.Run("pause").Id, State.Running, h.Now);
        Assert.Equal(State.Restarted, marked.State.Current);
        typeof(Harness).GetProperty(nameof(Harness.Execution))!.SetValue(h, marked);
        h.Apply(new RestartExecution(h.Now)).Run();
        Assert.Equal(State.Success, h.Execution.State.Current);
        Assert.Equal(3, h.Count);
    }

    [Fact]
    public void Marking_a_task_run_failed_reruns_its_parents()
    {
        var each = F.Flowable("1_each", "EachParallel", F.L(F.Seq("2-1_seq", F.LogT("2-1-1_t1"), F.LogT("2-1-2_t2"))), ("value", new List<object?> { "value 1", "value 2" }));
        var flow = F.Of(each, F.Ret("2_end"));
        var h = new Harness(flow).RunToEnd();
        var target = h.Run("2-1_seq", "value 1");

        var marked = Windhover.Engine.Executor.Executor.PrepareMarkAs(flow, h.Execution, target.Id, State.Failed, h.Now);
        Assert.Equal(State.Restarted, marked.State.Current);
        Assert.Equal(4, marked.State.Histories.Length);
        Assert.Equal(State.Running, marked.TaskRunList.Single(t => t.TaskId == "1_each").State.Current);
        var failed = marked.FindTaskRun(target.Id)!;
        Assert.Equal(State.Failed, failed.State.Current);
        Assert.Equal(4, failed.State.Histories.Length);
        Assert.Null(failed.Attempts);

        typeof(Harness).GetProperty(nameof(Harness.Execution))!.SetValue(h, marked);
        h.Apply(new RestartExecution(h.Now)).Run();
        Assert.Equal(State.Failed, h.Execution.State.Current);
        Assert.Equal(State.Failed, h.StateOf("1_each"));
    }
}

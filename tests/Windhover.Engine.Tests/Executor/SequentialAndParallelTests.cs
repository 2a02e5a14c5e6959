using Windhover.Engine.Executions;
using Windhover.Engine.Executor;
using Windhover.Engine.Tests.Support;
using static Windhover.Engine.Tests.Support.F;

namespace Windhover.Engine.Tests.Executor;

public sealed class SequentialAndParallelTests
{
    [Fact]
    public void Minimal_flow_runs_tasks_in_order_with_kestra_histories()
    {
        var h = new Harness(Of(Ret("a"), Ret("b"), LogT("c"))).RunToEnd();

        Assert.Equal(State.Success, h.Execution.State.Current);
        Assert.Equal([State.Created, State.Running, State.Success], h.History());
        Assert.Equal(["a", "b", "c"], h.Execution.TaskRunList.Select(t => t.TaskId));
        Assert.Equal([State.Created, State.Running, State.Success], h.History("a"));
        Assert.Equal("a", h.Run("a").Outputs!["value"]);
        Assert.Single(h.Run("a").Attempts!.Value);
        Assert.Equal([State.Running, State.Success], h.Run("a").Attempts!.Value[0].State.Histories.Select(x => x.State));
        Assert.NotNull(h.Execution.State.EndDate);
    }

    [Fact]
    public void First_step_dispatches_only_the_first_task()
    {
        var h = new Harness(Of(Ret("a"), Ret("b"))) { AutoRun = false }.Start();
        var step = Assert.Single(h.Steps);
        var run = Assert.IsType<RunTask>(Assert.Single(step.Work));
        Assert.Equal("a", run.Task.Id);
        Assert.Equal(State.Created, run.TaskRun.State.Current);
        Assert.Equal(State.Running, h.Execution.State.Current);
    }

    [Fact]
    public void Apply_is_deterministic()
    {
        var flow = Of(Par("p", Ret("a"), Ret("b")));
        var execution = Execution.Create("exec0000000000000000001", flow.Namespace, flow.Id, 1, DateTimeOffset.UnixEpoch);
        var executor = new Windhover.Engine.Executor.Executor(Harness.Renderer);
        var one = executor.Apply(flow, execution, new ExecutionCreated(DateTimeOffset.UnixEpoch));
        var two = executor.Apply(flow, execution, new ExecutionCreated(DateTimeOffset.UnixEpoch));
        Assert.Equal(Windhover.Engine.Serialization.KestraJson.Serialize(one.Execution), Windhover.Engine.Serialization.KestraJson.Serialize(two.Execution));
        Assert.Equal(one.Work.Length, two.Work.Length);
    }

    [Fact]
    public void Failure_stops_the_sequence_and_runs_flow_errors()
    {
        var flow = Of(Ret("a"), FailT("ko"), Ret("never")) with { Errors = [LogT("on-error")] };
        var h = new Harness(flow).RunToEnd();

        Assert.Equal(State.Failed, h.Execution.State.Current);
        Assert.Equal(["a", "ko", "on-error"], h.Execution.TaskRunList.Select(t => t.TaskId));
        Assert.Equal(State.Success, h.StateOf("on-error"));
    }

    [Fact]
    public void Nested_sequential_failure_runs_local_errors_then_fails_parent()
    {
        var seq = Seq("seq", LogT("close"), FailT("failStep")) with { Errors = [LogT("errorHandler")] };
        var h = new Harness(Of(LogT("before"), seq, LogT("after"))).RunToEnd();

        Assert.Equal(State.Failed, h.Execution.State.Current);
        Assert.Equal(5, h.Count);
        Assert.Equal(State.Failed, h.StateOf("seq"));
        Assert.Equal(State.Success, h.StateOf("errorHandler"));
        Assert.Empty(h.Runs("after"));
        Assert.Null(h.Run("seq").Attempts);
        Assert.Equal(h.Run("seq").Id, h.Run("errorHandler").ParentTaskRunId);
    }

    [Fact]
    public void Finally_runs_after_success_and_after_failure()
    {
        var ok = new Harness(Of(Ret("a")) with { Finally = [LogT("fin")] }).RunToEnd();
        Assert.Equal(State.Success, ok.Execution.State.Current);
        Assert.Equal(State.Success, ok.StateOf("fin"));

        var ko = new Harness(Of(FailT("a")) with { Errors = [LogT("err")], Finally = [LogT("fin")] }).RunToEnd();
        Assert.Equal(State.Failed, ko.Execution.State.Current);
        Assert.Equal(["a", "err", "fin"], ko.Execution.TaskRunList.Select(t => t.TaskId));

        var task = Seq("s", FailT("x")) with { Finally = [LogT("task-fin")] };
        var nested = new Harness(Of(task)).RunToEnd();
        Assert.Equal(State.Success, nested.StateOf("task-fin"));
        Assert.Equal(State.Failed, nested.StateOf("s"));
    }

    [Fact]
    public void Parallel_dispatches_all_children_at_once()
    {
        var h = new Harness(Of(Par("p", Ret("a"), Ret("b"), Ret("c")), Ret("end"))) { AutoRun = false }.Start();
        Assert.Equal(["a", "b", "c"], h.Steps[0].Work.OfType<RunTask>().Select(r => r.Task.Id));

        Assert.Equal(3, h.Pending.Count);
        h.AutoRun = true;
        foreach (var run in h.Pending.ToList())
        {
            h.RunWorker(run);
        }

        h.Run();
        Assert.Equal(State.Success, h.Execution.State.Current);
        Assert.Equal(5, h.Count);
    }

    [Fact]
    public void Parallel_concurrent_limits_running_children()
    {
        var p = Flowable("p", "Parallel", L(Ret("a"), Ret("b"), Ret("c")), ("concurrent", 1L));
        var h = new Harness(Of(p)) { AutoRun = false }.Start();
        Assert.Single(h.Steps[0].Work.OfType<RunTask>());
        h.AutoRun = true;
        h.RunWorker(h.Pending[0]);
        h.Run();
        Assert.Equal(State.Success, h.Execution.State.Current);
        Assert.Equal(4, h.Count);
    }

    [Fact]
    public void Parallel_nested_counts_like_kestra()
    {
        var flow = Of(
            Par("1_par", Par("1-1_par", Ret("1-1-1"), Ret("1-1-2")), Ret("1-2"), Seq("1-3_seq", Ret("1-3-1"), Ret("1-3-2"))),
            Ret("2"));
        var h = new Harness(flow).RunToEnd();
        Assert.Equal(State.Success, h.Execution.State.Current);
        Assert.Equal(9, h.Count);
    }

    [Fact]
    public void Parallel_failure_waits_for_running_siblings_and_fails()
    {
        var h = new Harness(Of(Par("p", FailT("ko"), Ret("ok")))).RunToEnd();
        Assert.Equal(State.Failed, h.Execution.State.Current);
        Assert.Equal(State.Failed, h.StateOf("p"));
        Assert.Equal(State.Success, h.StateOf("ok"));
    }

    [Fact]
    public void Dag_respects_depends_on()
    {
        var dag = T("dag", FlowNs + "Dag", ("tasks", System.Collections.Immutable.ImmutableArray.Create(
            new Windhover.Flows.Model.DagTaskDefinition(Ret("task1"), []),
            new Windhover.Flows.Model.DagTaskDefinition(Ret("task2"), ["task1"]),
            new Windhover.Flows.Model.DagTaskDefinition(Ret("task3"), ["task1"]),
            new Windhover.Flows.Model.DagTaskDefinition(Ret("task4"), ["task2"]),
            new Windhover.Flows.Model.DagTaskDefinition(Ret("task5"), ["task4", "task3"]))));
        var h = new Harness(Of(dag, Ret("end"))).RunToEnd();

        Assert.Equal(State.Success, h.Execution.State.Current);
        Assert.Equal(7, h.Count);
        var order = h.Execution.TaskRunList.Select(t => t.TaskId).ToList();
        Assert.True(order.IndexOf("task1") < order.IndexOf("task2"));
        Assert.True(order.IndexOf("task4") < order.IndexOf("task5"));
        Assert.True(order.IndexOf("task3") < order.IndexOf("task5"));
        Assert.Equal("end", order[^1]);
    }

    [Fact]
    public void Dag_failure_blocks_dependents()
    {
        var dag = T("dag", FlowNs + "Dag", ("tasks", System.Collections.Immutable.ImmutableArray.Create(
            new Windhover.Flows.Model.DagTaskDefinition(FailT("a"), []),
            new Windhover.Flows.Model.DagTaskDefinition(Ret("b"), ["a"]))));
        var h = new Harness(Of(dag)).RunToEnd();
        Assert.Equal(State.Failed, h.Execution.State.Current);
        Assert.Empty(h.Runs("b"));
    }
}

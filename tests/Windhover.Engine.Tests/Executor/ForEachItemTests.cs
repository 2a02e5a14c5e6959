using Windhover.Engine.Executions;
using Windhover.Engine.Executor;
using Windhover.Engine.Tests.Support;
using static Windhover.Engine.Tests.Support.F;

namespace Windhover.Engine.Tests.Executor;

public sealed class ForEachItemTests
{
    private static Harness Build(bool wait = true, State childState = State.Success)
    {
        var task = T("each", FlowNs + "ForEachItem",
            ("items", "{{ inputs.file }}"),
            ("batch", new Dictionary<string, object?> { ["rows"] = 4L }),
            ("namespace", "io.kestra.tests"),
            ("flowId", "for-each-item-subflow"),
            ("wait", wait),
            ("inputs", new Dictionary<string, object?> { ["items"] = "{{ taskrun.items }}" }));
        var h = new Harness(Of(task, Ret("after")), new Dictionary<string, object?> { ["file"] = "kestra:///file.txt" });
        h.Workers["each_split"] = (run, _) =>
        {
            Assert.Equal(4L, ((IReadOnlyDictionary<string, object?>)run.Task.Properties["batch"]!)["rows"]);
            return new WorkerOutcome(State.Success, new Dictionary<string, object?> { ["splits"] = new List<object?> { "kestra:///b1", "kestra:///b2", "kestra:///b3" } });
        };
        h.Workers["each_merge"] = (_, _) => new WorkerOutcome(State.Success, new Dictionary<string, object?> { ["subflowOutputs"] = "kestra:///merged.ion" });
        h.Children = child => new ChildExecutionSummary(child.Request.ExecutionId, child.Request.Inputs["items"] as string == "kestra:///b2" ? childState : State.Success);
        return h;
    }

    [Fact]
    public void Starts_one_child_per_batch_then_merges()
    {
        var h = Build().RunToEnd();

        Assert.Equal(State.Success, h.Execution.State.Current);
        Assert.Equal(["each", "each_split", "each_items", "each_merge", "after"], h.Execution.TaskRunList.Select(t => t.TaskId));
        var starts = h.WorkOf<StartChild>().ToList();
        Assert.Equal(["kestra:///b1", "kestra:///b2", "kestra:///b3"], starts.Select(s => s.Request.Inputs["items"]));
        Assert.Equal(3, starts.Select(s => s.Request.ExecutionId).Distinct().Count());
        Assert.Equal("io.kestra.plugin.core.flow.ForEachItem", starts[0].Request.Trigger.Type);
        var items = h.Run("each_items");
        Assert.Equal(3L, items.Outputs!["numberOfBatches"]);
        Assert.Equal(3L, ((IReadOnlyDictionary<string, object?>)items.Outputs["iterations"]!)["SUCCESS"]);
        Assert.Equal(h.Run("each").Id, items.ParentTaskRunId);
    }

    [Fact]
    public void A_failed_batch_fails_the_task_and_skips_the_merge()
    {
        var h = Build(childState: State.Failed).RunToEnd();
        Assert.Equal(State.Failed, h.Execution.State.Current);
        Assert.Equal(State.Failed, h.StateOf("each_items"));
        Assert.Equal(State.Failed, h.StateOf("each"));
        Assert.Empty(h.Runs("each_merge"));
        Assert.Equal(1L, ((IReadOnlyDictionary<string, object?>)h.Run("each_items").Outputs!["iterations"]!)["FAILED"]);
    }

    [Fact]
    public void Without_wait_no_merge_and_success_at_once()
    {
        var h = Build(wait: false);
        h.Children = null;
        h.RunToEnd();
        Assert.Equal(State.Success, h.Execution.State.Current);
        Assert.Equal(["each", "each_split", "each_items", "after"], h.Execution.TaskRunList.Select(t => t.TaskId));
        Assert.Equal(3, h.WorkOf<StartChild>().Count());
    }

    [Fact]
    public void Duplicate_child_end_is_counted_once_and_kill_cascades()
    {
        var h = Build();
        h.Children = null;
        h.RunToEnd();
        var first = h.WorkOf<StartChild>().First();
        var summary = new ChildExecutionSummary(first.Request.ExecutionId, State.Success);
        h.Apply(new ChildEnded(first.TaskRun.Id, summary, h.Now));
        h.Apply(new ChildEnded(first.TaskRun.Id, summary, h.Now));
        Assert.Equal(1L, ((IReadOnlyDictionary<string, object?>)h.Run("each_items").Outputs!["iterations"]!)["SUCCESS"]);

        h.Apply(new KillExecution(h.Now));
        Assert.Equal(2, h.WorkOf<KillChild>().Count());
        foreach (var start in h.WorkOf<StartChild>().Skip(1).ToList())
        {
            h.Apply(new ChildEnded(start.TaskRun.Id, new ChildExecutionSummary(start.Request.ExecutionId, State.Killed), h.Now));
        }

        Assert.Equal(State.Killed, h.Execution.State.Current);
    }
}

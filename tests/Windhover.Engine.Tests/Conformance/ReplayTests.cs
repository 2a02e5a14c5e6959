using Windhover.Engine.Executions;
using Windhover.Engine.Executor;
using Windhover.Engine.Tests.Support;
using Windhover.Flows.Yaml;
using ExecutorType = Windhover.Engine.Executor.Executor;

namespace Windhover.Engine.Tests.Conformance;

/// <summary>The replay expectations of the conformance corpus (response of POST /executions/{id}/replay), on its flows.</summary>
public sealed class ReplayTests
{
    [Theory]
    [InlineData("parallel-nested.yaml", "1-3-2_par", new string[0], 11, 8, State.Running)]
    [InlineData("each-sequential-nested.yaml", "1-2_each", new[] { "s1" }, 23, 5, State.Running)]
    [InlineData("each-sequential-nested.yaml", "1-2-1_return", new[] { "s1", "a a" }, 23, 6, State.Restarted)]
    [InlineData("each-parallel-nested.yaml", "2-1_seq", new[] { "value 1" }, 11, 8, State.Running)]
    public void Replay_keeps_what_kestra_keeps(string file, string taskId, string[] values, int before, int after, State replayedState)
    {
        var directory = ExecutorConformanceTests.CorpusDirectory();
        if (directory is null)
        {
            return;
        }

        var flow = FlowParser.Default.Parse(File.ReadAllText(Path.Combine(directory, "flows", file)), file).Flow!;
        var h = new Harness(flow).RunToEnd();
        Assert.Equal(State.Success, h.Execution.State.Current);
        Assert.Equal(before, h.Count);

        var target = h.Execution.TaskRunList.Single(t => t.TaskId == taskId
            && h.Execution.FindParents(t).Reverse().Append(t).Select(p => p.Value).Where(v => v is not null).SequenceEqual(values));
        var replay = ExecutorType.PrepareReplay(flow, h.Execution, target.Id, IdGenerator.Create(), h.Now);

        Assert.NotEqual(h.Execution.Id, replay.Id);
        Assert.Equal(State.Restarted, replay.State.Current);
        Assert.Equal(4, replay.State.Histories.Length);
        Assert.Equal(after, replay.TaskRunList.Length);
        Assert.All(replay.TaskRunList, t => Assert.Equal(replay.Id, t.ExecutionId));
        Assert.All(replay.TaskRunList.Where(t => t.ParentTaskRunId is not null), t => Assert.NotNull(replay.FindTaskRun(t.ParentTaskRunId!)));
        var replayed = replay.TaskRunList.Single(t => t.TaskId == taskId && replay.FindParents(t).Reverse().Append(t).Select(p => p.Value).Where(v => v is not null).SequenceEqual(values));
        Assert.Equal(replayedState, replayed.State.Current);
        Assert.Equal(4, replayed.State.Histories.Length);
        Assert.Equal(h.Execution.Id, replay.OriginalId);

        // and it runs to the end again
        var again = new Harness(flow);
        typeof(Harness).GetProperty(nameof(Harness.Execution))!.SetValue(again, replay);
        again.Apply(new RestartExecution(again.Now)).Run();
        Assert.Equal(State.Success, again.Execution.State.Current);
        Assert.Equal(before, again.Count);
    }

    [Fact]
    public void Replay_from_the_beginning_is_a_fresh_execution()
    {
        var flow = F.Of(F.Ret("a"), F.Ret("b"));
        var h = new Harness(flow).RunToEnd();
        var replay = ExecutorType.PrepareReplay(flow, h.Execution, null, IdGenerator.Create(), h.Now);
        Assert.Equal(State.Created, replay.State.Current);
        Assert.Single(replay.State.Histories);
        Assert.Empty(replay.TaskRunList);

        var sequential = ExecutorType.PrepareReplay(flow, h.Execution, h.Execution.TaskRunList[1].Id, IdGenerator.Create(), h.Now);
        Assert.Equal(2, sequential.TaskRunList.Length);
        Assert.Equal(State.Restarted, sequential.TaskRunList[1].State.Current);
        Assert.Equal(4, sequential.TaskRunList[1].State.Histories.Length);
    }
}

using Windhover.Engine.Executions;
using Windhover.Flows.Model;

namespace Windhover.Engine.Executor;

/// <summary>
/// ForEachItem's <c>{id}_items</c> task run: one child execution per batch URI produced by <c>{id}_split</c>
/// (output <c>splits</c>, a list of URIs). Outputs as Kestra: <c>numberOfBatches</c> and <c>iterations</c> (count per
/// state); <c>executions</c> maps each child execution id to its state so repeated <see cref="ChildEnded"/> events are
/// counted once.
/// </summary>
internal sealed partial class ExecutorStepBuilder
{
    private void StartForEachItemBatches(TaskRun taskRun, TaskDefinition task)
    {
        var wait = Bool(task, "wait", true);
        var requests = new List<ChildExecutionRequest>();
        try
        {
            var split = _runs.FirstOrDefault(r => r.ParentTaskRunId == taskRun.ParentTaskRunId && r.TaskId == task.Id[..^"_items".Length] + "_split");
            var splits = split?.Outputs?.GetValueOrDefault("splits") switch
            {
                IEnumerable<object?> list => list.Select(u => Convert.ToString(u, System.Globalization.CultureInfo.InvariantCulture) ?? "").ToList(),
                string one => [one],
                _ => throw new InvalidOperationException($"Task '{task.Id}': the split task produced no 'splits' output"),
            };

            for (var i = 0; i < splits.Count; i++)
            {
                var batchRun = taskRun with { Items = splits[i], Iteration = i };
                var variables = Variables(batchRun, task);
                var id = IdGenerator.Derive(_header.Id, taskRun.Id, "item", i.ToString(System.Globalization.CultureInfo.InvariantCulture), taskRun.AttemptCount.ToString(System.Globalization.CultureInfo.InvariantCulture));
                requests.Add(BuildChildRequest(taskRun, task, variables, id, wait));
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Log(ExecutorLogLevel.Error, e.Message, taskRun);
            var failed = (taskRun.Attempts ?? []).Add(new TaskRunAttempt { State = StateInfo.Of(State.Failed, _now) });
            EndAttempt(taskRun with { Attempts = failed }, task, State.Failed);
            return;
        }

        var executions = requests.ToDictionary(r => r.ExecutionId, _ => (object?)"RUNNING", StringComparer.Ordinal);
        var running = taskRun.State.Current == State.Running ? taskRun : taskRun.WithState(State.Running, _now);
        running = running with { Outputs = BatchOutputs(requests.Count, executions) };
        Replace(running);
        foreach (var request in requests)
        {
            Work.Add(new StartChild(running, request));
        }

        if (!wait || requests.Count == 0)
        {
            var attempts = (running.Attempts ?? []).Add(new TaskRunAttempt { State = StateInfo.Of(State.Success, _now) });
            Replace((running with { Attempts = attempts }).WithState(State.Success, _now));
        }
    }

    private void OnBatchEnded(TaskRun taskRun, TaskDefinition task, ChildExecutionSummary child)
    {
        if (taskRun.Outputs?.GetValueOrDefault("executions") is not IReadOnlyDictionary<string, object?> known
            || !known.TryGetValue(child.ExecutionId, out var previous) || previous is not "RUNNING")
        {
            return;
        }

        var executions = known.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        executions[child.ExecutionId] = child.State.ToKestraName();
        var count = (int)(Long(taskRun.Outputs.GetValueOrDefault("numberOfBatches")) ?? executions.Count);
        taskRun = taskRun with { Outputs = BatchOutputs(count, executions) };
        if (executions.Values.Any(v => v is "RUNNING"))
        {
            Replace(taskRun);
            return;
        }

        var transmitFailed = Bool(task, "transmitFailed", true);
        var states = executions.Values.Select(v => SubflowState(StateExtensions.ParseKestraName((string)v!), transmitFailed, task.AllowFailure, task.AllowWarning)).ToList();
        var state = taskRun.State.Current == State.Killing ? State.Killed
            : states.Contains(State.Killed) ? State.Killed
            : states.Contains(State.Failed) ? State.Failed
            : states.Contains(State.Warning) ? State.Warning
            : State.Success;
        var attempts = (taskRun.Attempts ?? []).Add(new TaskRunAttempt { State = StateInfo.Of(state, _now) });
        taskRun = taskRun with { Attempts = attempts };
        if (state == State.Failed && ExecState != State.Killing && EffectiveRetry(taskRun, task) is not null)
        {
            EndAttempt(taskRun, task, State.Failed);
            return;
        }

        Replace(taskRun.WithState(state, _now));
    }

    private static Dictionary<string, object?> BatchOutputs(int count, Dictionary<string, object?> executions)
    {
        var iterations = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var state in executions.Values.Cast<string>())
        {
            iterations[state] = (long)(iterations.GetValueOrDefault(state) as long? ?? 0) + 1;
        }

        return new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["numberOfBatches"] = (long)count,
            ["iterations"] = iterations,
            ["executions"] = executions,
        };
    }
}

using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Windhover.Engine.Executions;
using Windhover.Engine.Expressions;
using Windhover.Engine.Serialization;
using Windhover.Flows.Model;

namespace Windhover.Engine.Executor;

/// <summary>A task as the executor resolves it under a parent: the task, and the loop value and iteration it runs for.</summary>
internal sealed record ResolvedTask(TaskDefinition Task, string? Value = null, int? Iteration = null);

internal enum ChildMode { Sequential, Parallel, Dag, Grouped }

/// <summary>The children of a flowable task run (or of the flow), per Kestra's FlowableTask.childTasks/resolveNexts.</summary>
internal sealed record Children(
    IReadOnlyList<ResolvedTask> Tasks,
    IReadOnlyList<ResolvedTask> Errors,
    IReadOnlyList<ResolvedTask> Finally,
    ChildMode Mode = ChildMode.Sequential,
    int Concurrency = 0,
    IReadOnlyDictionary<string, ImmutableArray<string>>? DependsOn = null);

/// <summary>Mutable working state of one executor step. Everything here is deterministic.</summary>
internal sealed partial class ExecutorStepBuilder
{
    private readonly FlowIndex _index;
    private readonly Flow _flow;
    private readonly IRenderer _renderer;
    private readonly ExecutorOptions _options;
    private readonly DateTimeOffset _now;
    private readonly List<TaskRun> _runs;
    private readonly Dictionary<string, int> _positions = new(StringComparer.Ordinal);
    private readonly Dictionary<(string? Parent, string TaskId, string? Value), List<int>> _byTask = [];
    private readonly Dictionary<string, List<int>> _byParent = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<string>> _loopValues = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Children> _children = new(StringComparer.Ordinal);
    private readonly HashSet<string> _afterExecutionIds;
    private Execution _header;
    private Execution? _snapshot;

    public ExecutorStepBuilder(FlowIndex index, Execution execution, DateTimeOffset now, IRenderer renderer, ExecutorOptions options)
    {
        _index = index;
        _flow = index.Flow;
        _renderer = renderer;
        _options = options;
        _now = now;
        _header = execution;
        _runs = [.. execution.TaskRunList];
        Reindex();

        _afterExecutionIds = new HashSet<string>(_flow.AfterExecution.Select(t => t.Id), StringComparer.Ordinal);
    }

    public List<WorkItem> Work { get; } = [];

    private State ExecState => _header.State.Current;

    public Execution Build() => Snapshot();

    private Execution Snapshot() => _snapshot ??= _header with { TaskRunList = [.. _runs] };

    // ---------------------------------------------------------------- events

    public void Handle(ExecutorEvent @event)
    {
        switch (@event)
        {
            case ExecutionCreated:
                if (ExecState is State.Created or State.Queued)
                {
                    SetExecState(State.Running);
                    ArmSlaTimers();
                }

                break;
            case TaskResult result:
                OnTaskResult(result);
                break;
            case ResumeExecution resume:
                OnResume(resume);
                break;
            case KillExecution:
                OnKill();
                break;
            case TimerFired timer:
                OnTimer(timer.Timer);
                break;
            case ChildEnded ended:
                OnChildEnded(ended);
                break;
            case ChildStartFailed failed:
                OnChildStartFailed(failed);
                break;
            case OutputFilesCollected collected:
                if (!ExecState.IsTerminal() && Find(collected.TaskRunId) is { } wd && wd.State.Current == State.Running && KindOf(wd) == TaskKind.WorkingDirectory)
                {
                    var outputs = new Dictionary<string, object?>(wd.Outputs ?? new Dictionary<string, object?>(), StringComparer.Ordinal)
                    {
                        ["outputFiles"] = collected.Files,
                    };
                    Replace(wd with { Outputs = outputs });
                }

                break;
            case RestartExecution:
                OnRestart();
                break;
            default:
                throw new ArgumentException($"Unknown event {@event.GetType().Name}", nameof(@event));
        }
    }

    private void OnTaskResult(TaskResult result)
    {
        if (ExecState.IsTerminal() || Find(result.TaskRunId) is not { } taskRun)
        {
            return;
        }

        var current = taskRun.State.Current;
        if (current.IsTerminal() || current is State.Retrying or State.Paused)
        {
            return; // stale or duplicate result: at-least-once delivery
        }

        var task = _index.Find(taskRun.TaskId);
        if (task is null || TaskKinds.Of(task.CanonicalType).IsFlowable())
        {
            return;
        }

        if (result.State is State.Running or State.Created or State.Queued)
        {
            if (current != State.Running && current != State.Killing)
            {
                taskRun = taskRun.WithState(State.Running, result.Now);
            }

            var attempts = taskRun.Attempts ?? [];
            if (taskRun.LastAttempt is not { } last || last.State.Current.IsTerminal())
            {
                attempts = attempts.Add(new TaskRunAttempt { State = StateInfo.Of(State.Running, result.Now), LogFile = result.LogFile, WorkerId = result.WorkerId });
            }

            Replace(taskRun with { Attempts = attempts });
            return;
        }

        // A terminal attempt state.
        if (current is not (State.Running or State.Killing))
        {
            taskRun = taskRun.WithState(State.Running, result.Now);
        }

        var list = taskRun.Attempts ?? [];
        if (taskRun.LastAttempt is { } open && !open.State.Current.IsTerminal())
        {
            list = list.SetItem(list.Length - 1, open with
            {
                State = open.State.With(result.State, result.Now),
                LogFile = result.LogFile ?? open.LogFile,
                WorkerId = result.WorkerId ?? open.WorkerId,
            });
        }
        else
        {
            list = list.Add(new TaskRunAttempt
            {
                State = StateInfo.Of(State.Running, result.Now).With(result.State, result.Now),
                LogFile = result.LogFile,
                WorkerId = result.WorkerId,
            });
        }

        taskRun = taskRun with { Attempts = list };
        if (result.Outputs is not null)
        {
            taskRun = taskRun with { Outputs = result.Outputs };
        }

        EndAttempt(taskRun, task, result.State);
    }

    /// <summary>Decides the task run state after an attempt (or a child execution) ended with <paramref name="attemptState"/>.</summary>
    private void EndAttempt(TaskRun taskRun, TaskDefinition task, State attemptState)
    {
        var retry = EffectiveRetry(taskRun, task);
        if (attemptState == State.Failed && ExecState is not State.Killing && retry is not null)
        {
            if (retry.Behavior == RetryBehavior.CreateNewExecution)
            {
                if (Retries.NextExecutionRetryDate(retry, _header, _now) is { } executionRetryDate)
                {
                    RetryAsNewExecution(taskRun, executionRetryDate);
                    return;
                }
            }
            else if (Retries.NextRetryDate(retry, taskRun, _now) is { } retryDate)
            {
                taskRun = taskRun.WithState(State.Failed, _now).WithState(State.Retrying, _now);
                Replace(taskRun);
                Work.Add(new SetTimer(new ExecutorTimer(TimerKind.RetryTask, _header.Id, taskRun.Id, retryDate)));
                return;
            }
        }

        var final = attemptState;
        if (final == State.Success && retry is { WarningOnRetry: true } && taskRun.AttemptCount > 1)
        {
            final = State.Warning;
        }

        final = ApplyAllowances(task, final);
        Replace(taskRun.WithState(final, _now));
    }

    private static State ApplyAllowances(TaskDefinition task, State state)
    {
        if (state == State.Failed && task.AllowFailure)
        {
            state = State.Warning;
        }

        if (state == State.Warning && task.AllowWarning)
        {
            state = State.Success;
        }

        return state;
    }

    /// <summary>The retry that applies: the task's, else the nearest enclosing task's, else the flow's (Kestra's order).</summary>
    private RetryDefinition? EffectiveRetry(TaskRun taskRun, TaskDefinition task)
    {
        if (task.Retry is not null)
        {
            return task.Retry;
        }

        if (taskRun.ParentTaskRunId is not null)
        {
            for (var parent = _index.Parent(task.Id); parent is not null; parent = _index.Parent(parent.Id))
            {
                if (parent.Retry is not null)
                {
                    return parent.Retry;
                }
            }
        }

        return _flow.Retry;
    }

    private void RetryAsNewExecution(TaskRun taskRun, DateTimeOffset dueAt)
    {
        Replace(taskRun.WithState(State.Failed, _now).WithState(State.Retried, _now));
        var parentId = taskRun.ParentTaskRunId;
        while (parentId is not null && Find(parentId) is { } parent)
        {
            if (!parent.State.Current.IsTerminal())
            {
                Replace(parent.WithState(State.Retried, _now));
            }

            parentId = parent.ParentTaskRunId;
        }

        foreach (var other in _runs.ToList())
        {
            if (!other.State.Current.IsTerminal())
            {
                KillRun(other);
            }
        }

        SetExecState(State.Retried);
        Work.Add(new EmitLog(ExecutorLogLevel.Info, $"Task '{taskRun.TaskId}' failed, a new execution will be created at {KestraJson.FormatDate(dueAt)}", _now, taskRun.Id, taskRun.TaskId));
        Work.Add(new RetryExecution(_header.Id, dueAt));
    }

    private void OnResume(ResumeExecution resume)
    {
        if (ExecState != State.Paused)
        {
            return;
        }

        foreach (var taskRun in _runs.ToList())
        {
            if (taskRun.State.Current == State.Paused && KindOf(taskRun) == TaskKind.Pause)
            {
                var resumed = taskRun.WithState(State.Running, resume.Now);
                if (resume.Inputs is { Count: > 0 })
                {
                    resumed = resumed with { Outputs = new Dictionary<string, object?> { ["onResume"] = resume.Inputs } };
                }

                Replace(resumed);
            }
        }

        SetExecState(State.Running);
    }

    private void OnKill()
    {
        if (ExecState.IsTerminal() || ExecState == State.Killing)
        {
            return;
        }

        SetExecState(State.Killing);
        foreach (var taskRun in _runs.ToList())
        {
            if (!taskRun.State.Current.IsTerminal())
            {
                KillRun(taskRun);
            }
        }
    }

    /// <summary>Kill cascade for one task run: running work is asked to stop, anything not started ends KILLED now.</summary>
    private void KillRun(TaskRun taskRun)
    {
        var kind = KindOf(taskRun);
        if (kind.IsFlowable())
        {
            return; // resolved in Settle once its children are terminal
        }

        var current = taskRun.State.Current;
        if (kind == TaskKind.ForEachItemExecutable)
        {
            var running = taskRun.Outputs?.GetValueOrDefault("executions") as IReadOnlyDictionary<string, object?>;
            var live = running?.Where(e => e.Value is "RUNNING").Select(e => e.Key).ToList() ?? [];
            foreach (var childId in live)
            {
                Work.Add(new KillChild(childId));
            }

            Replace(taskRun.WithState(live.Count > 0 ? State.Killing : State.Killed, _now));
            return;
        }

        if (kind == TaskKind.Subflow)
        {
            if (current is State.Running && taskRun.Outputs?.GetValueOrDefault("executionId") is string childId)
            {
                Work.Add(new KillChild(childId));
                Replace(taskRun.WithState(State.Killing, _now));
            }
            else if (current != State.Killing)
            {
                Replace(taskRun.WithState(State.Killed, _now));
            }

            return;
        }

        if (current is State.Running)
        {
            Work.Add(new KillTaskRun(taskRun.Id));
            Replace(taskRun.WithState(State.Killing, _now));
        }
        else if (current is State.Created or State.Restarted)
        {
            Work.Add(new KillTaskRun(taskRun.Id));
            Replace(taskRun.WithState(State.Killed, _now));
        }
        else if (current != State.Killing)
        {
            Replace(taskRun.WithState(State.Killed, _now));
        }
    }

    /// <summary>Flow <c>sla</c> MAX_DURATION: a timer from the execution start.</summary>
    private void ArmSlaTimers()
    {
        foreach (var sla in _flow.Sla)
        {
            if (string.Equals(sla.Type, "MAX_DURATION", StringComparison.OrdinalIgnoreCase) && sla.Duration is { } duration)
            {
                var start = _header.State.StartDate == default ? _now : _header.State.StartDate;
                Work.Add(new SetTimer(new ExecutorTimer(TimerKind.SlaMaxDuration, _header.Id, sla.Id, start + duration)));
            }
        }
    }

    /// <summary>
    /// A MAX_DURATION SLA is violated: with behavior FAIL every unfinished task run fails (running work is stopped) and the
    /// execution ends FAILED; CANCEL kills it; NONE only logs.
    /// </summary>
    private void OnSlaViolated(ExecutorTimer timer)
    {
        var sla = _flow.Sla.FirstOrDefault(s => s.Id == timer.TaskRunId);
        if (sla is null)
        {
            return;
        }

        var behavior = sla.Behavior?.ToUpperInvariant() ?? "FAIL";
        Work.Add(new EmitLog(behavior == "NONE" ? ExecutorLogLevel.Warn : ExecutorLogLevel.Error,
            $"SLA '{sla.Id}' violated: execution exceeded the maximum duration of {KestraDuration(sla.Duration)}", _now));
        switch (behavior)
        {
            case "CANCEL":
                OnKill();
                break;
            case "FAIL":
                foreach (var taskRun in _runs.ToList())
                {
                    if (taskRun.State.Current.IsTerminal() || KindOf(taskRun).IsFlowable())
                    {
                        continue;
                    }

                    if (KindOf(taskRun) == TaskKind.Subflow && taskRun.Outputs?.GetValueOrDefault("executionId") is string childId)
                    {
                        Work.Add(new KillChild(childId));
                    }
                    else if (taskRun.State.Current is State.Running or State.Killing)
                    {
                        Work.Add(new KillTaskRun(taskRun.Id));
                    }

                    Replace(taskRun.WithState(State.Failed, _now));
                }

                if (_runs.Count == 0)
                {
                    SetExecState(State.Failed);
                }

                break;
        }
    }

    private static string KestraDuration(TimeSpan? duration) =>
        duration is { } d ? KestraJson.FormatDuration(d) : "";

    private void OnTimer(ExecutorTimer timer)
    {
        if (timer.Kind == TimerKind.SlaMaxDuration)
        {
            if (!ExecState.IsTerminal())
            {
                OnSlaViolated(timer);
            }

            return;
        }

        if (ExecState.IsTerminal() || ExecState == State.Killing || timer.TaskRunId is null || Find(timer.TaskRunId) is not { } taskRun)
        {
            return;
        }

        var task = _index.Get(taskRun.TaskId);
        switch (timer.Kind)
        {
            case TimerKind.RetryTask when taskRun.State.Current == State.Retrying:
                if (KindOf(taskRun) == TaskKind.ForEachItemExecutable)
                {
                    Replace(taskRun.WithState(State.Running, _now));
                    StartForEachItemBatches(Find(taskRun.Id)!, task);
                }
                else if (KindOf(taskRun) == TaskKind.Subflow)
                {
                    Replace(taskRun.WithState(State.Running, _now));
                    StartSubflow(Find(taskRun.Id)!, task);
                }
                else
                {
                    Replace(taskRun.WithState(State.Running, _now));
                    Dispatch(Find(taskRun.Id)!, task);
                }

                break;
            case TimerKind.PauseDelay when taskRun.State.Current == State.Paused:
                Replace(taskRun.WithState(State.Running, _now));
                ResumeExecutionIfNoPause();
                break;
            case TimerKind.PauseTimeout when taskRun.State.Current == State.Paused:
                var behavior = (task.Properties.GetValueOrDefault("behavior") as string)?.ToUpperInvariant() ?? "FAIL";
                Replace(behavior switch
                {
                    "RESUME" => taskRun.WithState(State.Running, _now),
                    "WARN" => taskRun.WithState(State.Warning, _now),
                    "CANCEL" => taskRun.WithState(State.Cancelled, _now),
                    _ => taskRun.WithState(State.Failed, _now),
                });
                if (behavior == "FAIL")
                {
                    Work.Add(new EmitLog(ExecutorLogLevel.Warn, $"Pause task '{task.Id}' timed out", _now, taskRun.Id, task.Id));
                }

                ResumeExecutionIfNoPause();
                break;
            case TimerKind.WaitForNext when taskRun.State.Current == State.Paused:
                Replace(taskRun.WithState(State.Running, _now));
                break;
        }
    }

    private void ResumeExecutionIfNoPause()
    {
        if (ExecState == State.Paused && !_runs.Any(r => r.State.Current == State.Paused && KindOf(r) == TaskKind.Pause))
        {
            SetExecState(State.Running);
        }
    }

    private void OnChildEnded(ChildEnded ended)
    {
        if (ExecState.IsTerminal() || Find(ended.TaskRunId) is not { } taskRun || taskRun.State.Current.IsTerminal()
            || taskRun.State.Current is not (State.Running or State.Killing))
        {
            return;
        }

        var task = _index.Get(taskRun.TaskId);
        var child = ended.Child;
        if (TaskKinds.Of(task.CanonicalType) == TaskKind.ForEachItemExecutable)
        {
            OnBatchEnded(taskRun, task, child);
            return;
        }

        var transmitFailed = Bool(task, "transmitFailed", true);
        var state = SubflowState(child.State, transmitFailed, task.AllowFailure, task.AllowWarning);
        if (taskRun.State.Current == State.Killing)
        {
            state = State.Killed;
        }

        var outputs = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["executionId"] = child.ExecutionId,
            ["state"] = child.State.ToKestraName(),
        };

        if (task.Properties.GetValueOrDefault("outputs") is IReadOnlyDictionary<string, object?> legacyOutputs && legacyOutputs.Count > 0)
        {
            try
            {
                var variables = child.Variables ?? new Dictionary<string, object?> { ["outputs"] = new Dictionary<string, object?>() };
                outputs["outputs"] = _renderer.RenderObject(legacyOutputs, variables);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Work.Add(new EmitLog(ExecutorLogLevel.Error, $"Unable to render the outputs of subflow task '{task.Id}': {e.Message}", _now, taskRun.Id, task.Id));
                state = State.Failed;
            }
        }
        else if (child.Outputs is not null)
        {
            outputs["outputs"] = child.Outputs;
        }

        var attempts = (taskRun.Attempts ?? []).Add(new TaskRunAttempt { State = StateInfo.Of(state, _now) });
        taskRun = taskRun with { Outputs = outputs, Attempts = attempts };
        if (state == State.Failed && ExecState != State.Killing && EffectiveRetry(taskRun, task) is not null)
        {
            EndAttempt(taskRun, task, State.Failed);
            return;
        }

        Replace(taskRun.WithState(state, _now));
    }

    /// <summary>Kestra's ExecutableUtils.guessState.</summary>
    internal static State SubflowState(State child, bool transmitFailed, bool allowFailure, bool allowWarning)
    {
        if (transmitFailed && (child.IsFailed() || child == State.Paused || child == State.Killed || child == State.Warning))
        {
            var final = allowFailure && child.IsFailed() ? State.Warning : child;
            return final == State.Warning && allowWarning ? State.Success : final;
        }

        return State.Success;
    }

    private void OnChildStartFailed(ChildStartFailed failed)
    {
        if (Find(failed.TaskRunId) is not { } taskRun || taskRun.State.Current.IsTerminal())
        {
            return;
        }

        var task = _index.Get(taskRun.TaskId);
        Work.Add(new EmitLog(ExecutorLogLevel.Error, failed.Message, _now, taskRun.Id, task.Id));
        var attempts = (taskRun.Attempts ?? []).Add(new TaskRunAttempt { State = StateInfo.Of(State.Failed, _now) });
        EndAttempt(taskRun with { Attempts = attempts }, task, State.Failed);
    }

    private void OnRestart()
    {
        if (ExecState.IsTerminal())
        {
            _header = Executor.PrepareRestart(_flow, Snapshot(), _now);
            _runs.Clear();
            _runs.AddRange(_header.TaskRunList);
            Reindex();

            _snapshot = null;
        }

        if (ExecState != State.Restarted)
        {
            return;
        }

        SetExecState(State.Running);
        foreach (var taskRun in _runs.ToList())
        {
            if (taskRun.State.Current != State.Restarted)
            {
                continue;
            }

            var task = _index.Get(taskRun.TaskId);
            switch (TaskKinds.Of(task.CanonicalType))
            {
                case TaskKind.Subflow:
                    StartSubflow(taskRun, task);
                    break;
                case TaskKind.ForEachItemExecutable:
                    StartForEachItemBatches(taskRun, task);
                    break;
                case var kind when kind.IsFlowable():
                    Replace(taskRun.WithState(State.Running, _now));
                    break;
                default:
                    Dispatch(taskRun, task);
                    break;
            }
        }
    }

    // ---------------------------------------------------------------- helpers

    private TaskRun? Find(string id) => _positions.TryGetValue(id, out var position) ? _runs[position] : null;

    private void Replace(TaskRun taskRun)
    {
        if (_positions.TryGetValue(taskRun.Id, out var position))
        {
            _runs[position] = taskRun;
        }
        else
        {
            _runs.Add(taskRun);
            IndexAt(_runs.Count - 1);
        }

        _snapshot = null;
    }

    private void Reindex()
    {
        _positions.Clear();
        _byTask.Clear();
        _byParent.Clear();
        for (var i = 0; i < _runs.Count; i++)
        {
            IndexAt(i);
        }
    }

    private void IndexAt(int position)
    {
        var taskRun = _runs[position];
        _positions[taskRun.Id] = position;
        var key = (taskRun.ParentTaskRunId, taskRun.TaskId, taskRun.Value);
        if (!_byTask.TryGetValue(key, out var sameTask))
        {
            _byTask[key] = sameTask = [];
        }

        sameTask.Add(position);
        if (!_byParent.TryGetValue(taskRun.ParentTaskRunId ?? "", out var siblings))
        {
            _byParent[taskRun.ParentTaskRunId ?? ""] = siblings = [];
        }

        siblings.Add(position);
    }

    /// <summary>The direct children of <paramref name="parentId"/> (null: the flow's top-level task runs), in creation order.</summary>
    private IEnumerable<TaskRun> ChildRuns(string? parentId)
    {
        if (_byParent.TryGetValue(parentId ?? "", out var positions))
        {
            foreach (var position in positions)
            {
                yield return _runs[position];
            }
        }
    }

    private void SetExecState(State state)
    {
        _header = _header.WithState(state, _now);
        _snapshot = null;
    }

    private TaskKind KindOf(TaskRun taskRun) =>
        _index.Find(taskRun.TaskId) is { } task ? TaskKinds.Of(task.CanonicalType) : TaskKind.Runnable;

    private IReadOnlyDictionary<string, object?> Variables(TaskRun? taskRun, TaskDefinition? task) =>
        RunVariables.For(_flow, Snapshot(), taskRun, task, _options.Envs, _options.Globals);

    private void Log(ExecutorLogLevel level, string message, TaskRun? taskRun = null) =>
        Work.Add(new EmitLog(level, message, _now, taskRun?.Id, taskRun?.TaskId));

    private static bool Bool(TaskDefinition task, string property, bool defaultValue) =>
        task.Properties.GetValueOrDefault(property) switch
        {
            bool b => b,
            string s when bool.TryParse(s, out var parsed) => parsed,
            _ => defaultValue,
        };

    private static long? Long(object? value) => value switch
    {
        long l => l,
        int i => i,
        double d => (long)d,
        string s when long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) => parsed,
        _ => null,
    };

    /// <summary>Kestra's TruthUtils: "false", "0", "-0", "" and null are false, anything else is true.</summary>
    internal static bool IsTruthy(string? rendered) => rendered is not null && rendered.Trim() is not ("false" or "0" or "-0" or "");

    private static string ToJson(object? value)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            ValueModelConverter.WriteValue(writer, value);
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }
}

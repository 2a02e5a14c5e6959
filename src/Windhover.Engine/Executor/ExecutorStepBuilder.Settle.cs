using System.Collections.Immutable;
using Windhover.Flows.Expressions;
using Windhover.Engine.Executions;
using Windhover.Engine.Serialization;
using Windhover.Flows.Model;

namespace Windhover.Engine.Executor;

internal sealed partial class ExecutorStepBuilder
{
    /// <summary>Advances every flowable task run and the flow itself until nothing changes.</summary>
    public void Settle()
    {
        for (var round = 0; round < _options.MaxSettleRounds; round++)
        {
            var changed = false;
            if (ExecState == State.Killing)
            {
                changed = SettleKilling();
            }
            else if (ExecState is State.Running || (ExecState is State.Paused && !PausedByHand()))
            {
                var count = _runs.Count;
                for (var i = 0; i < count; i++)
                {
                    var taskRun = _runs[i];
                    if (taskRun.State.Current == State.Running && KindOf(taskRun).IsFlowable())
                    {
                        changed |= ProcessFlowable(taskRun);
                    }
                }

                changed |= ProcessFlow();
            }

            if (!changed)
            {
                return;
            }
        }

        throw new InvalidOperationException($"Execution '{_header.Id}' did not settle after {_options.MaxSettleRounds} rounds");
    }

    /// <summary>
    /// A PAUSED execution without a paused task run was paused through the API: it holds (running task runs finish,
    /// nothing advances) until resumed. Paused by a Pause task, the other branches go on.
    /// </summary>
    private bool PausedByHand()
    {
        foreach (var taskRun in _runs)
        {
            if (taskRun.State.Current == State.Paused)
            {
                return false;
            }
        }

        return true;
    }

    private bool SettleKilling()
    {
        var changed = false;
        for (var i = _runs.Count - 1; i >= 0; i--)
        {
            var taskRun = _runs[i];
            if (!taskRun.State.Current.IsTerminal() && KindOf(taskRun).IsFlowable() && !HasLiveChildren(taskRun.Id))
            {
                Replace(taskRun.WithState(State.Killed, _now));
                changed = true;
            }
        }

        if (_runs.All(r => r.State.Current.IsTerminal()))
        {
            SetExecState(State.Killed);
            changed = true;
        }

        return changed;
    }

    // ---------------------------------------------------------------- the flow

    private bool ProcessFlow()
    {
        var children = new Children(Resolve(_flow.Tasks), Resolve(_flow.Errors), Resolve(_flow.Finally));
        if (CreateNexts(children, null))
        {
            return true;
        }

        if (ExecState != State.Running || !IsResolved(children, null, _afterExecutionIds))
        {
            return false;
        }

        var afterExecution = Resolve(_flow.AfterExecution);
        if (afterExecution.Count > 0)
        {
            var next = SequentialNexts(afterExecution, null);
            if (next.Count > 0)
            {
                Create(next, null);
                return true;
            }

            if (!IsTerminated(afterExecution, null))
            {
                return false;
            }
        }

        EndExecution();
        return true;
    }

    private void EndExecution()
    {
        var state = GuessFinalState(ChildRuns(null).Where(r => !_afterExecutionIds.Contains(r.TaskId)));
        IReadOnlyDictionary<string, object?>? outputs = null;
        if (!_flow.Outputs.IsDefaultOrEmpty && !state.IsFailureLike())
        {
            try
            {
                outputs = RenderFlowOutputs();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Log(ExecutorLogLevel.Error, $"Failed to render output values: {e.Message}");
                state = State.Failed;
            }
        }

        _header = _header with { Outputs = outputs };
        SetExecState(state);
    }

    private Dictionary<string, object?> RenderFlowOutputs()
    {
        var variables = RunVariables.ForExecution(_flow, Snapshot(), _options.Envs, _options.Globals);
        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var output in _flow.Outputs)
        {
            object? value = output.Type == InputType.String && output.Value is string template
                ? _renderer.Render(template, variables)
                : _renderer.RenderObject(output.Value, variables);
            value = CoerceOutput(output, value);
            if (value is null && output.Required)
            {
                throw new InvalidOperationException($"Missing required output '{output.Id}'");
            }

            result[output.Id] = value;
        }

        return result;
    }

    private static object? CoerceOutput(OutputDefinition output, object? value)
    {
        if (value is null)
        {
            return null;
        }

        var text = value as string;
        return output.Type switch
        {
            InputType.Int when text is not null => long.Parse(text, System.Globalization.CultureInfo.InvariantCulture),
            InputType.Float when text is not null => double.Parse(text, System.Globalization.CultureInfo.InvariantCulture),
            InputType.Boolean or InputType.Bool when text is not null => bool.Parse(text),
            InputType.Json when text is not null => ParseJson(text),
            _ => value,
        };
    }

    private static object? ParseJson(string text)
    {
        var reader = new System.Text.Json.Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(text));
        reader.Read();
        return ValueModelConverter.ReadValue(ref reader);
    }

    // ---------------------------------------------------------------- flowable task runs

    /// <summary>One flowable task run: create its next children, or end it when its children are done.</summary>
    private bool ProcessFlowable(TaskRun taskRun)
    {
        var task = _index.Get(taskRun.TaskId);
        var kind = TaskKinds.Of(task.CanonicalType);
        Children children;
        try
        {
            children = ChildrenOf(taskRun, task, kind);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            FailFlowable(taskRun, task, e.Message);
            return true;
        }

        if (kind == TaskKind.WaitFor && WaitForIterationDone(taskRun, task, children))
        {
            return true;
        }

        if (CreateNexts(children, taskRun))
        {
            return true;
        }

        if (!IsResolved(children, taskRun.Id, null))
        {
            return false;
        }

        var state = GuessFinalState(ChildRuns(taskRun.Id));
        if (kind == TaskKind.AllowFailure && state == State.Failed)
        {
            state = State.Warning;
        }

        if (kind == TaskKind.WorkingDirectory && state is State.Success or State.Warning && OutputFilePatterns(task) is { Length: > 0 } patterns)
        {
            // Kestra's WorkingDirectory `outputFiles`: uploaded from the directory before the task run ends. The key is
            // present (null) while the upload is pending, then holds name -> URI.
            var current = Find(taskRun.Id)!;
            if (current.Outputs is null || !current.Outputs.TryGetValue("outputFiles", out var files))
            {
                Replace(current with { Outputs = new Dictionary<string, object?>(current.Outputs ?? new Dictionary<string, object?>(), StringComparer.Ordinal) { ["outputFiles"] = null } });
                Work.Add(new CollectOutputFiles(taskRun.Id, task.Id, patterns));
                return true;
            }

            if (files is null)
            {
                return false;
            }
        }

        state = ApplyAllowances(task, state);
        Replace(Find(taskRun.Id)!.WithState(state, _now));
        if (kind == TaskKind.WorkingDirectory)
        {
            Work.Add(new ReleaseWorkingDirectory(taskRun.Id));
        }

        return true;
    }

    private ImmutableArray<string> OutputFilePatterns(TaskDefinition task) =>
        _renderer.RenderObject(task.Properties.GetValueOrDefault("outputFiles"), RunVariables.ForExecution(_flow, Snapshot())) is IReadOnlyList<object?> list
            ? [.. list.Select(ExpressionValues.ToText)]
            : [];

    private void FailFlowable(TaskRun taskRun, TaskDefinition task, string message)
    {
        Log(ExecutorLogLevel.Error, message, taskRun);
        Replace(Find(taskRun.Id)!.WithState(ApplyAllowances(task, State.Failed), _now));
    }

    /// <summary>Kestra's findTaskDependingFlowState: the list that is current (tasks, errors or finally).</summary>
    private IReadOnlyList<ResolvedTask> Current(Children children, string? parentId)
    {
        if (children.Finally.Count > 0 && children.Finally.Any(t => FindRun(t, parentId) is not null))
        {
            return children.Finally;
        }

        var failed = children.Tasks.Any(t => FindRun(t, parentId) is { State.Current: State.Failed })
            || children.Errors.Any(t => FindRun(t, parentId) is not null);
        if (failed)
        {
            if (children.Errors.Count > 0 && !IsTerminated(children.Errors, parentId))
            {
                return children.Errors;
            }

            return children.Finally.Count > 0 ? children.Finally : children.Errors;
        }

        if (children.Finally.Count > 0 && IsTerminated(children.Tasks, parentId))
        {
            return children.Finally;
        }

        return children.Tasks;
    }

    private bool CreateNexts(Children children, TaskRun? parent)
    {
        var parentId = parent?.Id;
        var current = Current(children, parentId);
        if (current.Count == 0)
        {
            return false;
        }

        var isTasks = ReferenceEquals(current, children.Tasks);
        var nexts = !isTasks ? SequentialNexts(current, parentId) : children.Mode switch
        {
            ChildMode.Parallel => ParallelNexts(current, parentId, children.Concurrency),
            ChildMode.Dag => DagNexts(current, parentId, children.Concurrency, children.DependsOn!),
            ChildMode.Grouped => GroupedNexts(current, parentId, children.Concurrency),
            _ => SequentialNexts(current, parentId),
        };

        if (nexts.Count == 0)
        {
            return false;
        }

        Create(nexts, parent);
        return true;
    }

    /// <summary>The children are done: every current task terminated (or failed with no handler) and none still live.</summary>
    private bool IsResolved(Children children, string? parentId, HashSet<string>? excludedTaskIds)
    {
        if (HasLiveChildren(parentId, excludedTaskIds))
        {
            return false;
        }

        var current = Current(children, parentId);
        return current.Count == 0 || IsTerminated(current, parentId);
    }

    private bool HasLiveChildren(string? parentId, HashSet<string>? excludedTaskIds = null) =>
        ChildRuns(parentId).Any(r => !r.State.Current.IsTerminal() && (excludedTaskIds is null || !excludedTaskIds.Contains(r.TaskId)));

    private bool IsTerminated(IReadOnlyList<ResolvedTask> tasks, string? parentId) =>
        tasks.All(t => FindRun(t, parentId) is { } run && run.State.Current.IsTerminal());

    /// <summary>Kestra's guessFinalState: KILLED, else FAILED, else WARNING, else SUCCESS.</summary>
    private static State GuessFinalState(IEnumerable<TaskRun> taskRuns)
    {
        var states = taskRuns.Select(r => r.State.Current).ToList();
        if (states.Contains(State.Killed))
        {
            return State.Killed;
        }

        if (states.Contains(State.Failed))
        {
            return State.Failed;
        }

        if (states.Contains(State.Retried))
        {
            return State.Retried;
        }

        return states.Contains(State.Warning) ? State.Warning : State.Success;
    }

    private TaskRun? FindRun(ResolvedTask resolved, string? parentId)
    {
        if (!_byTask.TryGetValue((parentId, resolved.Task.Id, resolved.Value), out var positions))
        {
            return null;
        }

        foreach (var position in positions)
        {
            var run = _runs[position];
            if (resolved.Iteration is null || resolved.Iteration == run.Iteration)
            {
                return run;
            }
        }

        return null;
    }

    private List<ResolvedTask> SequentialNexts(IReadOnlyList<ResolvedTask> tasks, string? parentId)
    {
        foreach (var task in tasks)
        {
            var run = FindRun(task, parentId);
            if (run is null)
            {
                return [task];
            }

            if (!run.State.Current.IsTerminal())
            {
                return [];
            }
        }

        return [];
    }

    private List<ResolvedTask> ParallelNexts(IReadOnlyList<ResolvedTask> tasks, string? parentId, int concurrency)
    {
        var running = 0;
        var missing = new List<ResolvedTask>();
        foreach (var task in tasks)
        {
            var run = FindRun(task, parentId);
            if (run is null)
            {
                missing.Add(task);
            }
            else if (!run.State.Current.IsTerminal())
            {
                running++;
            }
        }

        return concurrency > 0 ? [.. missing.Take(Math.Max(0, concurrency - running))] : missing;
    }

    private List<ResolvedTask> DagNexts(IReadOnlyList<ResolvedTask> tasks, string? parentId, int concurrency, IReadOnlyDictionary<string, ImmutableArray<string>> dependsOn)
    {
        var running = 0;
        var ready = new List<ResolvedTask>();
        foreach (var task in tasks)
        {
            var run = FindRun(task, parentId);
            if (run is not null)
            {
                if (!run.State.Current.IsTerminal())
                {
                    running++;
                }

                continue;
            }

            var dependencies = dependsOn.GetValueOrDefault(task.Task.Id);
            var satisfied = dependencies.IsDefaultOrEmpty || dependencies.All(id =>
                tasks.FirstOrDefault(t => t.Task.Id == id) is not { } dependency
                || FindRun(dependency, parentId) is { State.Current: State.Success or State.Warning or State.Skipped });
            if (satisfied)
            {
                ready.Add(task);
            }
        }

        return concurrency > 0 ? [.. ready.Take(Math.Max(0, concurrency - running))] : ready;
    }

    /// <summary>ForEach: the tasks of one value run in sequence; at most <paramref name="concurrency"/> values at once (0: all).</summary>
    private List<ResolvedTask> GroupedNexts(IReadOnlyList<ResolvedTask> tasks, string? parentId, int concurrency)
    {
        var result = new List<ResolvedTask>();
        var notStarted = new List<ResolvedTask>();
        var active = 0;
        var start = 0;
        while (start < tasks.Count)
        {
            // Tasks of one value are contiguous (values x tasks).
            var end = start;
            while (end < tasks.Count && tasks[end].Value == tasks[start].Value)
            {
                end++;
            }

            var anyRun = false;
            var allTerminal = true;
            ResolvedTask? next = null;
            var blocked = false;
            for (var i = start; i < end; i++)
            {
                var run = FindRun(tasks[i], parentId);
                if (run is null)
                {
                    allTerminal = false;
                    if (!blocked && next is null)
                    {
                        next = tasks[i];
                    }

                    continue;
                }

                anyRun = true;
                if (!run.State.Current.IsTerminal())
                {
                    allTerminal = false;
                    if (next is null)
                    {
                        blocked = true;
                    }
                }
            }

            if (!anyRun)
            {
                notStarted.Add(tasks[start]);
            }
            else if (!allTerminal)
            {
                active++;
                if (!blocked && next is not null)
                {
                    result.Add(next);
                }
            }

            start = end;
        }

        foreach (var first in notStarted)
        {
            if (concurrency > 0 && active >= concurrency)
            {
                break;
            }

            result.Add(first);
            active++;
        }

        return result;
    }

    // ---------------------------------------------------------------- children of each flowable type

    private List<ResolvedTask> Resolve(ImmutableArray<TaskDefinition> tasks, string? value = null, int? iteration = null)
    {
        var result = new List<ResolvedTask>();
        if (tasks.IsDefaultOrEmpty)
        {
            return result;
        }

        foreach (var raw in tasks)
        {
            var task = _index.Resolve(raw);
            if (!task.Disabled)
            {
                result.Add(new ResolvedTask(task, value, iteration));
            }
        }

        return result;
    }

    private Children ChildrenOf(TaskRun taskRun, TaskDefinition task, TaskKind kind)
    {
        if (kind == TaskKind.WaitFor)
        {
            return ComputeChildren(taskRun, task, kind);
        }

        if (!_children.TryGetValue(taskRun.Id, out var children))
        {
            _children[taskRun.Id] = children = ComputeChildren(taskRun, task, kind);
        }

        return children;
    }

    private Children ComputeChildren(TaskRun taskRun, TaskDefinition task, TaskKind kind)
    {
        var errors = Resolve(task.Errors);
        var @finally = Resolve(task.Finally);
        switch (kind)
        {
            case TaskKind.Parallel:
                return new Children(Resolve(task.TaskList("tasks")), errors, @finally, ChildMode.Parallel, (int)(Long(task.Properties.GetValueOrDefault("concurrent")) ?? 0));
            case TaskKind.Switch:
                var outputs = taskRun.Outputs;
                if (outputs?.GetValueOrDefault("defaults") is true)
                {
                    return new Children(Resolve(task.TaskList("defaults")), errors, @finally);
                }

                var selected = outputs?.GetValueOrDefault("value") as string ?? "";
                return new Children(Resolve(SwitchCase(task, selected) ?? []), errors, @finally);
            case TaskKind.If:
                var condition = _renderer.Render(TextProperty(task, "condition"), Variables(taskRun, task));
                return new Children(Resolve(task.TaskList(IsTruthy(condition) ? "then" : "else")), errors, @finally);
            case TaskKind.ForEach:
            case TaskKind.EachSequential:
            case TaskKind.EachParallel:
                var values = LoopValues(taskRun, task);
                var tasks = new List<ResolvedTask>();
                for (var i = 0; i < values.Count; i++)
                {
                    tasks.AddRange(Resolve(task.TaskList("tasks"), values[i], i));
                }

                return kind switch
                {
                    TaskKind.ForEach => new Children(tasks, errors, @finally, ChildMode.Grouped, (int)(Long(task.Properties.GetValueOrDefault("concurrencyLimit")) ?? 1)),
                    TaskKind.EachParallel => new Children(tasks, errors, @finally, ChildMode.Parallel, (int)(Long(task.Properties.GetValueOrDefault("concurrent")) ?? 0)),
                    _ => new Children(tasks, errors, @finally),
                };
            case TaskKind.Dag:
                var entries = task.Properties.GetValueOrDefault("tasks") is ImmutableArray<DagTaskDefinition> dag ? dag : [];
                var dependsOn = new Dictionary<string, ImmutableArray<string>>(StringComparer.Ordinal);
                foreach (var entry in entries)
                {
                    dependsOn[entry.Task.Id] = entry.DependsOn;
                }

                return new Children(Resolve([.. entries.Select(e => e.Task)]), errors, @finally, ChildMode.Dag, (int)(Long(task.Properties.GetValueOrDefault("concurrent")) ?? 0), dependsOn);
            case TaskKind.ForEachItem:
                return new Children([.. FlowIndex.ForEachItemChildren(task).Select(t => new ResolvedTask(_index.Get(t.Id)))], errors, @finally);
            case TaskKind.WaitFor:
                var iteration = (int)(Long(taskRun.Outputs?.GetValueOrDefault("iterationCount")) ?? 0);
                return new Children(Resolve(task.TaskList("tasks"), null, iteration), errors, @finally);
            default:
                return new Children(Resolve(task.TaskList("tasks")), errors, @finally);
        }
    }

    private static ImmutableArray<TaskDefinition>? SwitchCase(TaskDefinition task, string value) =>
        task.Properties.GetValueOrDefault("cases") switch
        {
            IReadOnlyDictionary<string, ImmutableArray<TaskDefinition>> cases => cases.TryGetValue(value, out var list) ? list : null,
            IReadOnlyDictionary<string, object?> cases => cases.TryGetValue(value, out var list) && list is ImmutableArray<TaskDefinition> tasks ? tasks : null,
            _ => null,
        };

    private static string TextProperty(TaskDefinition task, string property) => task.Properties.GetValueOrDefault(property) switch
    {
        string s => s,
        bool b => b ? "true" : "false",
        null => "",
        var other => Convert.ToString(other, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };

    /// <summary>ForEach <c>values</c> (or legacy <c>value</c>): a list or a JSON string, rendered; distinct; non-strings as JSON.</summary>
    private List<string> LoopValues(TaskRun taskRun, TaskDefinition task)
    {
        if (_loopValues.TryGetValue(taskRun.Id, out var cached))
        {
            return cached;
        }

        var computed = RenderLoopValues(taskRun, task);
        _loopValues[taskRun.Id] = computed;
        return computed;
    }

    private List<string> RenderLoopValues(TaskRun taskRun, TaskDefinition task)
    {
        var raw = task.Properties.GetValueOrDefault("values") ?? task.Properties.GetValueOrDefault("value");
        var rendered = raw switch
        {
            string template when template.Contains("{{", StringComparison.Ordinal) => _renderer.RenderTyped(template, Variables(taskRun, task)),
            string literal => literal,
            IEnumerable<object?> list when list.All(v => v is not string s || !s.Contains("{{", StringComparison.Ordinal)) => raw,
            _ => _renderer.RenderObject(raw, Variables(taskRun, task)),
        };
        if (rendered is string json)
        {
            rendered = ParseJson(json);
        }

        if (rendered is not IEnumerable<object?> items || rendered is IReadOnlyDictionary<string, object?>)
        {
            throw new InvalidOperationException($"Task '{task.Id}': values must be a list or a JSON array, got '{raw}'");
        }

        var values = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var nulls = 0;
        foreach (var item in items)
        {
            if (item is null)
            {
                nulls++;
                continue;
            }

            var value = item switch
            {
                string text => text,
                long number => number.ToString(System.Globalization.CultureInfo.InvariantCulture), // as its JSON, without a writer per value
                int number => number.ToString(System.Globalization.CultureInfo.InvariantCulture),
                _ => ToJson(item),
            };
            if (seen.Add(value))
            {
                values.Add(value);
            }
        }

        if (nulls > 0)
        {
            throw new InvalidOperationException($"Found '{nulls}' null values on Each, with values={ToJson(rendered)}");
        }

        return values;
    }

    /// <summary>WaitFor: when the current iteration is done, count it and either stop or wait for the next one.</summary>
    private bool WaitForIterationDone(TaskRun taskRun, TaskDefinition task, Children children)
    {
        if (children.Tasks.Count == 0 || !IsTerminated(children.Tasks, taskRun.Id) || HasLiveChildren(taskRun.Id)
            || !ReferenceEquals(Current(children, taskRun.Id), children.Tasks))
        {
            return false;
        }

        var count = (Long(taskRun.Outputs?.GetValueOrDefault("iterationCount")) ?? 0) + 1;
        taskRun = taskRun with { Outputs = new Dictionary<string, object?> { ["iterationCount"] = count } };
        Replace(taskRun);

        var frequency = task.Properties.GetValueOrDefault("checkFrequency") as IReadOnlyDictionary<string, object?>;
        var maxIterations = Long(frequency?.GetValueOrDefault("maxIterations")) ?? 100;
        var maxDuration = KestraJson.TryParseDuration(frequency?.GetValueOrDefault("maxDuration"), out var d) ? d : TimeSpan.FromHours(1);
        var interval = KestraJson.TryParseDuration(frequency?.GetValueOrDefault("interval"), out var i) ? i : TimeSpan.FromSeconds(1);

        bool stop;
        try
        {
            stop = IsTruthy(_renderer.Render(TextProperty(task, "condition"), Variables(taskRun, task)));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            FailFlowable(taskRun, task, e.Message);
            return true;
        }

        if (stop)
        {
            var state = ApplyAllowances(task, GuessFinalState(ChildRuns(taskRun.Id)));
            Replace(taskRun.WithState(state, _now));
            return true;
        }

        if (count >= maxIterations || _now - taskRun.State.StartDate >= maxDuration)
        {
            var failOnMax = Bool(task, "failOnMaxReached", false);
            if (failOnMax)
            {
                Log(ExecutorLogLevel.Error, $"WaitFor '{task.Id}' reached its maximum iterations or duration", taskRun);
            }

            Replace(taskRun.WithState(ApplyAllowances(task, failOnMax ? State.Failed : State.Success), _now));
            return true;
        }

        Replace(taskRun.WithState(State.Paused, _now));
        Work.Add(new SetTimer(new ExecutorTimer(TimerKind.WaitForNext, _header.Id, taskRun.Id, _now + interval)));
        return true;
    }

    // ---------------------------------------------------------------- creating and starting task runs

    private void Create(IEnumerable<ResolvedTask> nexts, TaskRun? parent)
    {
        foreach (var next in nexts)
        {
            var id = IdGenerator.Derive(
                _header.Id,
                (_header.Metadata?.AttemptNumber ?? 1).ToString(System.Globalization.CultureInfo.InvariantCulture),
                _runs.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
                parent?.Id,
                next.Task.Id,
                next.Value,
                next.Iteration?.ToString(System.Globalization.CultureInfo.InvariantCulture));
            var taskRun = new TaskRun
            {
                Id = id,
                ExecutionId = _header.Id,
                Namespace = _header.Namespace,
                FlowId = _header.FlowId,
                TenantId = _header.TenantId,
                TaskId = next.Task.Id,
                ParentTaskRunId = parent?.Id,
                Value = next.Value,
                Iteration = next.Iteration,
                State = StateInfo.Of(State.Created, _now),
            };
            Replace(taskRun);
            Start(taskRun, next.Task);
        }
    }

    /// <summary>A task run was just created: evaluate <c>runIf</c>, then start it (flowable), or dispatch it (runnable, subflow).</summary>
    private void Start(TaskRun taskRun, TaskDefinition task)
    {
        if (!string.IsNullOrWhiteSpace(task.RunIf))
        {
            try
            {
                if (!IsTruthy(_renderer.Render(task.RunIf, Variables(taskRun, task))))
                {
                    Replace(taskRun.WithState(State.Skipped, _now));
                    return;
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Log(ExecutorLogLevel.Error, e.Message, taskRun);
                Replace(taskRun.WithState(State.Failed, _now));
                return;
            }
        }

        var kind = TaskKinds.Of(task.CanonicalType);
        if (kind == TaskKind.Subflow)
        {
            StartSubflow(taskRun, task);
        }
        else if (kind == TaskKind.ForEachItemExecutable)
        {
            StartForEachItemBatches(taskRun, task);
        }
        else if (kind == TaskKind.Labels)
        {
            UpdateLabels(taskRun, task);
        }
        else if (kind.IsFlowable())
        {
            StartFlowable(taskRun, task, kind);
        }
        else
        {
            Dispatch(taskRun, task);
        }
    }

    private void Dispatch(TaskRun taskRun, TaskDefinition task)
    {
        TaskRun? workingDirectory = null;
        for (var parentId = taskRun.ParentTaskRunId; parentId is not null && Find(parentId) is { } parent; parentId = parent.ParentTaskRunId)
        {
            if (KindOf(parent) == TaskKind.WorkingDirectory)
            {
                workingDirectory = parent;
                break;
            }
        }

        var variables = RunVariables.For(_flow, Snapshot(), taskRun, task, _options.Envs, _options.Globals, workingDirectory?.Value);
        Work.Add(new RunTask(taskRun, task, variables, workingDirectory?.Id, workingDirectory is null ? null : _index.Get(workingDirectory.TaskId)));
    }

    private void StartFlowable(TaskRun taskRun, TaskDefinition task, TaskKind kind)
    {
        taskRun = taskRun.WithState(State.Running, _now);
        Replace(taskRun);
        try
        {
            switch (kind)
            {
                case TaskKind.Switch:
                    var value = _renderer.Render(TextProperty(task, "value"), Variables(taskRun, task));
                    var matched = SwitchCase(task, value) is not null;
                    if (!matched && task.TaskList("defaults").IsDefaultOrEmpty)
                    {
                        FailFlowable(taskRun, task, $"Switch task '{task.Id}': no case matches value '{value}' and no defaults are defined");
                        return;
                    }

                    Replace(taskRun with { Outputs = new Dictionary<string, object?> { ["value"] = value, ["defaults"] = !matched } });
                    break;
                case TaskKind.If:
                    _renderer.Render(TextProperty(task, "condition"), Variables(taskRun, task));
                    break;
                case TaskKind.ForEach or TaskKind.EachSequential or TaskKind.EachParallel:
                    LoopValues(taskRun, task);
                    break;
                case TaskKind.WaitFor:
                    Replace(taskRun with { Outputs = new Dictionary<string, object?> { ["iterationCount"] = 0L } });
                    break;
                case TaskKind.Pause:
                    StartPause(taskRun, task);
                    break;
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            FailFlowable(taskRun, task, e.Message);
        }
    }

    private void StartPause(TaskRun taskRun, TaskDefinition task)
    {
        var variables = Variables(taskRun, task);
        TimeSpan? Duration(string property)
        {
            var raw = task.Properties.GetValueOrDefault(property);
            if (raw is string template && template.Contains("{{", StringComparison.Ordinal))
            {
                raw = _renderer.Render(template, variables);
            }

            if (raw is null && property == "timeout" && task.Timeout is { } typed)
            {
                raw = typed.Contains("{{", StringComparison.Ordinal) ? _renderer.Render(typed, variables) : typed;
            }

            return raw is null ? null : KestraJson.TryParseDuration(raw, out var duration) ? duration : throw new FormatException($"Invalid duration '{raw}' for '{property}'");
        }

        var delay = Duration("delay") ?? Duration("pauseDuration");
        var timeout = Duration("timeout");
        Replace(taskRun.WithState(State.Paused, _now));
        if (ExecState == State.Running)
        {
            SetExecState(State.Paused);
        }

        if (delay is { } d)
        {
            Work.Add(new SetTimer(new ExecutorTimer(TimerKind.PauseDelay, _header.Id, taskRun.Id, _now + d)));
        }
        else if (timeout is { } t)
        {
            Work.Add(new SetTimer(new ExecutorTimer(TimerKind.PauseTimeout, _header.Id, taskRun.Id, _now + t)));
        }
    }

    private void StartSubflow(TaskRun taskRun, TaskDefinition task)
    {
        ChildExecutionRequest request;
        var wait = Bool(task, "wait", true);
        try
        {
            var variables = Variables(taskRun, task);
            var executionId = IdGenerator.Derive(_header.Id, taskRun.Id, "subflow", taskRun.AttemptCount.ToString(System.Globalization.CultureInfo.InvariantCulture));
            request = BuildChildRequest(taskRun, task, variables, executionId, wait);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Log(ExecutorLogLevel.Error, e.Message, taskRun);
            var failedAttempts = (taskRun.Attempts ?? []).Add(new TaskRunAttempt { State = StateInfo.Of(State.Failed, _now) });
            EndAttempt(taskRun with { Attempts = failedAttempts }, task, State.Failed);
            return;
        }

        var running = taskRun.State.Current == State.Running ? taskRun : taskRun.WithState(State.Running, _now);
        running = running with { Outputs = new Dictionary<string, object?> { ["executionId"] = request.ExecutionId } };
        Replace(running);
        Work.Add(new StartChild(running, request));
        if (!wait)
        {
            var attempts = (running.Attempts ?? []).Add(new TaskRunAttempt { State = StateInfo.Of(State.Success, _now) });
            Replace((running with { Attempts = attempts }).WithState(State.Success, _now));
        }
    }

    /// <summary>
    /// The Labels task (Kestra's ExecutionUpdatableTask): <c>labels</c> as a map (keys rendered too), a list of
    /// key/value, or an expression giving a JSON object; values become strings; existing keys are overridden.
    /// </summary>
    private void UpdateLabels(TaskRun taskRun, TaskDefinition task)
    {
        var running = taskRun.WithState(State.Running, _now);
        try
        {
            var variables = Variables(running, task);
            var raw = task.Properties.GetValueOrDefault("labels");
            var pairs = new List<KeyValuePair<string, string>>();
            static string Text(object? value) => value switch
            {
                null => "",
                bool b => b ? "true" : "false",
                IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
                _ => value.ToString() ?? "",
            };

            var rendered = raw is string template ? _renderer.RenderTyped(template, variables) : raw;
            if (rendered is string json)
            {
                rendered = ParseJson(json);
            }

            switch (rendered)
            {
                case IReadOnlyDictionary<string, object?> map:
                    foreach (var (key, value) in map)
                    {
                        pairs.Add(new(_renderer.Render(key, variables), Text(value is string s ? _renderer.RenderTyped(s, variables) : value)));
                    }

                    break;
                case IEnumerable<object?> list:
                    foreach (var item in list)
                    {
                        if (item is IReadOnlyDictionary<string, object?> entry)
                        {
                            pairs.Add(new(Text(_renderer.RenderObject(entry.GetValueOrDefault("key"), variables)), Text(_renderer.RenderObject(entry.GetValueOrDefault("value"), variables))));
                        }
                    }

                    break;
                default:
                    throw new InvalidOperationException($"Labels task '{task.Id}': labels must be a map, a list of key/value or a JSON object");
            }

            var labels = _header.Labels.ToList();
            foreach (var (key, value) in pairs)
            {
                if (key.StartsWith("system.", StringComparison.Ordinal))
                {
                    throw new InvalidOperationException($"Labels task '{task.Id}': system label '{key}' cannot be set");
                }

                var index = labels.FindIndex(l => l.Key == key);
                if (index >= 0)
                {
                    labels[index] = new ExecutionLabel(key, value);
                }
                else
                {
                    labels.Add(new ExecutionLabel(key, value));
                }
            }

            _header = _header with { Labels = [.. labels] };
            _snapshot = null;
            var attempt = new TaskRunAttempt { State = StateInfo.Of(State.Running, _now).With(State.Success, _now) };
            Replace((running with { Attempts = [attempt] }).WithState(State.Success, _now));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Log(ExecutorLogLevel.Error, e.Message, taskRun);
            var attempt = new TaskRunAttempt { State = StateInfo.Of(State.Running, _now).With(State.Failed, _now) };
            EndAttempt(running with { Attempts = [attempt] }, task, State.Failed);
        }
    }

    /// <summary>A child execution request from a Subflow or ForEachItem definition (namespace, flowId, inputs, labels...).</summary>
    private ChildExecutionRequest BuildChildRequest(TaskRun taskRun, TaskDefinition task, IReadOnlyDictionary<string, object?> variables, string executionId, bool wait)
    {
        string Text(string property) => task.Properties.GetValueOrDefault(property) is string s
            ? _renderer.Render(s, variables)
            : throw new InvalidOperationException($"Task '{task.Id}' requires '{property}'");

        var inputs = task.Properties.GetValueOrDefault("inputs") is { } rawInputs
            ? _renderer.RenderObject(rawInputs, variables) as IReadOnlyDictionary<string, object?> ?? new Dictionary<string, object?>()
            : new Dictionary<string, object?>();

        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (Bool(task, "inheritLabels", false))
        {
            foreach (var label in _header.Labels)
            {
                labels[label.Key] = label.Value;
            }
        }

        switch (_renderer.RenderObject(task.Properties.GetValueOrDefault("labels"), variables))
        {
            case IReadOnlyDictionary<string, object?> map:
                foreach (var (key, value) in map)
                {
                    labels[key] = Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "";
                }

                break;
            case IEnumerable<object?> list:
                foreach (var item in list)
                {
                    if (item is IReadOnlyDictionary<string, object?> entry && entry.GetValueOrDefault("key") is string key)
                    {
                        labels[key] = Convert.ToString(entry.GetValueOrDefault("value"), System.Globalization.CultureInfo.InvariantCulture) ?? "";
                    }
                }

                break;
        }

        labels["system.correlationId"] = _header.Labels.FirstOrDefault(l => l.Key == "system.correlationId")?.Value ?? _header.Id;

        DateTimeOffset? scheduleDate = task.Properties.GetValueOrDefault("scheduleDate") switch
        {
            string s => _renderer.RenderTyped(s, variables) switch
            {
                DateTimeOffset date => date,
                var other => DateTimeOffset.Parse(Convert.ToString(other, System.Globalization.CultureInfo.InvariantCulture)!, System.Globalization.CultureInfo.InvariantCulture),
            },
            _ => null,
        };

        var triggerTask = TaskKinds.Of(task.CanonicalType) == TaskKind.ForEachItemExecutable ? _index.Parent(task.Id) ?? task : task;
        return new ChildExecutionRequest
        {
            ExecutionId = executionId,
            Namespace = Text("namespace"),
            FlowId = Text("flowId"),
            Revision = (int?)Long(task.Properties.GetValueOrDefault("revision")),
            Inputs = inputs,
            Labels = [.. labels.Select(l => new ExecutionLabel(l.Key, l.Value))],
            Trigger = new ExecutionTrigger
            {
                Id = triggerTask.Id,
                Type = triggerTask.CanonicalType,
                Variables = new Dictionary<string, object?>
                {
                    ["executionId"] = _header.Id,
                    ["namespace"] = _header.Namespace,
                    ["flowId"] = _header.FlowId,
                    ["flowRevision"] = (long)_header.FlowRevision,
                },
            },
            Wait = wait,
            TransmitFailed = Bool(task, "transmitFailed", true),
            ScheduleDate = scheduleDate,
            ParentExecutionId = _header.Id,
            ParentTaskRunId = taskRun.Id,
        };
    }
}

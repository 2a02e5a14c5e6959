using System.Collections.Immutable;
using Windhover.Engine.Executions;
using Windhover.Engine.Expressions;
using Windhover.Flows.Model;

namespace Windhover.Engine.Executor;

public sealed record ExecutorOptions
{
    /// <summary>The <c>envs</c> variable (environment variables with the configured prefix, prefix stripped).</summary>
    public IReadOnlyDictionary<string, object?> Envs { get; init; } = ImmutableDictionary<string, object?>.Empty;

    /// <summary>The <c>globals</c> variable.</summary>
    public IReadOnlyDictionary<string, object?> Globals { get; init; } = ImmutableDictionary<string, object?>.Empty;

    /// <summary>A guard against runaway settling (a bug, never a flow's fault).</summary>
    public int MaxSettleRounds { get; init; } = 10_000;
}

/// <summary>
/// The executor: a pure, deterministic function from (flow, execution, event) to (execution', work). It never reads a
/// clock ("now" is in the event), does no I/O and derives new ids from the execution (see <see cref="IdGenerator.Derive"/>).
/// Flowable tasks (Sequential, Parallel, Switch, If, ForEach, EachSequential, EachParallel, Dag, AllowFailure, Pause,
/// WaitFor, WorkingDirectory) are executed here; runnable tasks are dispatched as <see cref="RunTask"/> work and their
/// results come back as <see cref="TaskResult"/> events; Subflow becomes <see cref="StartChild"/> work.
/// Flow <c>concurrency</c> is enforced outside the executor, before <see cref="ExecutionCreated"/> (QUEUED executions wait there).
/// </summary>
public sealed class Executor(IRenderer renderer, ExecutorOptions? options = null)
{
    private readonly ExecutorOptions _options = options ?? new ExecutorOptions();

    public ExecutorStep Apply(Flow flow, Execution execution, ExecutorEvent @event)
    {
        ArgumentNullException.ThrowIfNull(flow);
        ArgumentNullException.ThrowIfNull(execution);
        ArgumentNullException.ThrowIfNull(@event);

        var step = new ExecutorStepBuilder(FlowIndex.Of(flow), execution, @event.Now, renderer, _options);
        step.Handle(@event);
        step.Settle();
        return new ExecutorStep(step.Build(), [.. step.Work]);
    }

    /// <summary>
    /// Kestra's restart: failed and killed task runs (and their parents) are reset (RESTARTED, attempts kept), task runs of
    /// error and finally handlers under them are removed, the execution becomes RESTARTED with
    /// <c>metadata.attemptNumber</c> + 1. Apply <see cref="RestartExecution"/> next to run it.
    /// </summary>
    public static Execution PrepareRestart(Flow flow, Execution execution, DateTimeOffset now)
    {
        if (execution.State.Current is not (State.Failed or State.Killed or State.Cancelled))
        {
            throw new InvalidOperationException($"Execution '{execution.Id}' is {execution.State.Current.ToKestraName()} and cannot be restarted");
        }

        var index = FlowIndex.Of(flow);
        var byId = execution.TaskRunList.ToDictionary(t => t.Id, StringComparer.Ordinal);
        var toRestart = new HashSet<string>(StringComparer.Ordinal);
        foreach (var taskRun in execution.TaskRunList)
        {
            if (taskRun.State.Current is State.Failed or State.Killed or State.Cancelled)
            {
                var current = taskRun;
                while (current is not null && toRestart.Add(current.Id))
                {
                    current = current.ParentTaskRunId is { } parentId ? byId.GetValueOrDefault(parentId) : null;
                }
            }
        }

        var removed = new HashSet<string>(StringComparer.Ordinal);
        var kept = ImmutableArray.CreateBuilder<TaskRun>();
        foreach (var taskRun in execution.TaskRunList)
        {
            var parentRemoved = taskRun.ParentTaskRunId is { } p && removed.Contains(p);
            var handlerOfRestarted = index.IsHandler(taskRun.TaskId) && (taskRun.ParentTaskRunId is null || toRestart.Contains(taskRun.ParentTaskRunId));
            if (parentRemoved || handlerOfRestarted)
            {
                removed.Add(taskRun.Id);
                continue;
            }

            if (toRestart.Contains(taskRun.Id))
            {
                var task = index.Find(taskRun.TaskId);
                // A WorkingDirectory restarts as one unit of work (RESTARTED, as Kestra shows it), not as a parent going on.
                var flowable = task is not null && TaskKinds.Of(task.CanonicalType) is var kind && kind.IsFlowable() && kind != TaskKind.WorkingDirectory;
                kept.Add(taskRun with { State = taskRun.State.With(flowable ? State.Running : State.Restarted, now) });
            }
            else
            {
                kept.Add(taskRun);
            }
        }

        return execution with
        {
            TaskRunList = kept.ToImmutable(),
            State = execution.State.With(State.Restarted, now),
            Outputs = null,
            Metadata = (execution.Metadata ?? new ExecutionMetadata()) with
            {
                AttemptNumber = (execution.Metadata?.AttemptNumber ?? 1) + 1,
            },
        };
    }

    /// <summary>
    /// Kestra's replay: a new execution (<paramref name="newExecutionId"/>) of the same flow and inputs. Without
    /// <paramref name="taskRunId"/> it starts from the beginning (CREATED, no task runs; apply <see cref="ExecutionCreated"/>).
    /// From a task run: that task run and its parents are reset (RESTARTED, flowables RUNNING), its descendants removed, and
    /// at every level whose parent runs its tasks in sequence (the flow, Sequential, EachSequential, ForEach one value at a
    /// time...) the runs of the same task and of the tasks after it are removed too; parallel levels keep their siblings.
    /// The result is RESTARTED; apply <see cref="RestartExecution"/> to run it.
    /// </summary>
    public static Execution PrepareReplay(Flow flow, Execution execution, string? taskRunId, string newExecutionId, DateTimeOffset now, int? revision = null)
    {
        var originalId = execution.OriginalId ?? execution.Id;
        var metadata = new ExecutionMetadata
        {
            AttemptNumber = (execution.Metadata?.AttemptNumber ?? 1) + 1,
            OriginalCreatedDate = execution.Metadata?.OriginalCreatedDate ?? execution.State.StartDate,
        };
        if (taskRunId is null)
        {
            return execution with
            {
                Id = newExecutionId,
                FlowRevision = revision ?? execution.FlowRevision,
                TaskRunList = [],
                Outputs = null,
                State = StateInfo.Of(State.Created, now),
                OriginalId = originalId,
                Metadata = metadata,
            };
        }

        var index = FlowIndex.Of(flow);
        var byId = execution.TaskRunList.ToDictionary(t => t.Id, StringComparer.Ordinal);
        var replayed = byId.GetValueOrDefault(taskRunId) ?? throw new InvalidOperationException($"Task run '{taskRunId}' not found in execution '{execution.Id}'");

        var chain = new List<TaskRun> { replayed };
        for (var current = replayed; current.ParentTaskRunId is { } parentId && byId.TryGetValue(parentId, out var parent); current = parent)
        {
            chain.Add(parent);
        }

        var keep = chain.Select(t => t.Id).ToHashSet(StringComparer.Ordinal);
        var removed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var level in chain)
        {
            var parentTask = level.ParentTaskRunId is { } p ? index.Find(byId[p].TaskId) : null;
            var siblingsOrder = SequentialOrder(flow, parentTask);
            if (siblingsOrder is null)
            {
                continue; // parallel level: siblings stay
            }

            var position = siblingsOrder.IndexOf(level.TaskId);
            foreach (var sibling in execution.TaskRunList)
            {
                if (sibling.ParentTaskRunId == level.ParentTaskRunId && !keep.Contains(sibling.Id)
                    && (siblingsOrder.IndexOf(sibling.TaskId) is var at && (at < 0 || at >= position)))
                {
                    removed.Add(sibling.Id);
                }
            }
        }

        var runs = ImmutableArray.CreateBuilder<TaskRun>();
        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var taskRun in execution.TaskRunList)
        {
            var parentRemoved = taskRun.ParentTaskRunId is { } p && removed.Contains(p);
            var underReplayed = taskRun.ParentTaskRunId is { } q && (q == replayed.Id || (removed.Contains(q)));
            if (removed.Contains(taskRun.Id) || parentRemoved || underReplayed || (index.IsHandler(taskRun.TaskId) && (taskRun.ParentTaskRunId is null || keep.Contains(taskRun.ParentTaskRunId))))
            {
                removed.Add(taskRun.Id);
                continue;
            }

            ids[taskRun.Id] = IdGenerator.Derive(newExecutionId, taskRun.Id);
        }

        foreach (var taskRun in execution.TaskRunList)
        {
            if (!ids.TryGetValue(taskRun.Id, out var newId))
            {
                continue;
            }

            var copy = taskRun with
            {
                Id = newId,
                ExecutionId = newExecutionId,
                ParentTaskRunId = taskRun.ParentTaskRunId is { } parentId ? ids[parentId] : null,
            };
            if (keep.Contains(taskRun.Id))
            {
                var task = index.Find(taskRun.TaskId);
                var flowable = task is not null && TaskKinds.Of(task.CanonicalType).IsFlowable();
                copy = copy with { State = copy.State.With(flowable ? State.Running : State.Restarted, now) };
            }

            runs.Add(copy);
        }

        return execution with
        {
            Id = newExecutionId,
            FlowRevision = revision ?? execution.FlowRevision,
            TaskRunList = runs.ToImmutable(),
            Outputs = null,
            State = execution.State.With(State.Restarted, now),
            OriginalId = originalId,
            Metadata = metadata,
        };
    }

    /// <summary>
    /// Kestra's markAs (POST /executions/{id}/state): the task run takes <paramref name="state"/> (a PAUSED Pause task
    /// marked RUNNING is resumed), its parents go back to RUNNING and the execution becomes RESTARTED. Apply
    /// <see cref="RestartExecution"/> next to let the executor continue from there.
    /// </summary>
    public static Execution PrepareMarkAs(Flow flow, Execution execution, string taskRunId, State state, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(flow);
        var target = execution.FindTaskRun(taskRunId) ?? throw new InvalidOperationException($"Task run '{taskRunId}' not found in execution '{execution.Id}'");
        var parents = execution.FindParents(target).Select(p => p.Id).ToHashSet(StringComparer.Ordinal);
        var runs = execution.TaskRunList.Select(taskRun =>
        {
            if (taskRun.Id == target.Id)
            {
                return taskRun.WithState(state, now);
            }

            if (parents.Contains(taskRun.Id) && taskRun.State.Current != State.Running)
            {
                return taskRun.WithState(State.Running, now);
            }

            return taskRun;
        });
        return execution with
        {
            TaskRunList = [.. runs],
            Outputs = null,
            State = execution.State.With(State.Restarted, now),
        };
    }

    /// <summary>The task ids of a level that runs in sequence, in order; null for a parallel level.</summary>
    private static List<string>? SequentialOrder(Flow flow, Windhover.Flows.Model.TaskDefinition? parent)
    {
        if (parent is null)
        {
            return [.. flow.Tasks.Select(t => t.Id)];
        }

        var kind = TaskKinds.Of(parent.CanonicalType);
        var concurrencyLimit = parent.Properties.GetValueOrDefault("concurrencyLimit") is long limit ? limit : 1;
        return kind switch
        {
            TaskKind.Parallel or TaskKind.EachParallel or TaskKind.Dag => null,
            TaskKind.ForEach when concurrencyLimit != 1 => null,
            TaskKind.Switch => [.. SwitchTasks(parent)],
            TaskKind.If => [.. parent.TaskList("then").Concat(parent.TaskList("else")).Select(t => t.Id)],
            _ => [.. parent.TaskList("tasks").Select(t => t.Id)],
        };
    }

    private static IEnumerable<string> SwitchTasks(Windhover.Flows.Model.TaskDefinition task)
    {
        if (task.Properties.GetValueOrDefault("cases") is IReadOnlyDictionary<string, ImmutableArray<Windhover.Flows.Model.TaskDefinition>> cases)
        {
            foreach (var (_, list) in cases)
            {
                foreach (var t in list)
                {
                    yield return t.Id;
                }
            }
        }

        foreach (var t in task.TaskList("defaults"))
        {
            yield return t.Id;
        }
    }

    /// <summary>The new execution for retry behavior CREATE_NEW_EXECUTION: same inputs, labels and trigger; next attempt number.</summary>
    public static Execution CreateRetryExecution(Execution retried, string newExecutionId, DateTimeOffset now) => new()
    {
        Id = newExecutionId,
        Namespace = retried.Namespace,
        FlowId = retried.FlowId,
        FlowRevision = retried.FlowRevision,
        TenantId = retried.TenantId,
        Inputs = retried.Inputs,
        Labels = retried.Labels,
        Trigger = retried.Trigger,
        Variables = retried.Variables,
        ParentId = retried.ParentId,
        OriginalId = retried.OriginalId ?? retried.Id,
        State = StateInfo.Of(State.Created, now),
        Metadata = new ExecutionMetadata
        {
            AttemptNumber = (retried.Metadata?.AttemptNumber ?? 1) + 1,
            OriginalCreatedDate = retried.Metadata?.OriginalCreatedDate ?? retried.State.StartDate,
        },
    };
}

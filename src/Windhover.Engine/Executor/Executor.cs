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
        if (execution.State.Current is not (State.Failed or State.Killed or State.Cancelled or State.Warning))
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
                var flowable = task is not null && TaskKinds.Of(task.CanonicalType).IsFlowable();
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

using System.Collections.Immutable;
using Windhover.Engine.Executions;
using Windhover.Engine.Executor;

namespace Windhover.Engine.Stores;

/// <summary>A task run to insert or replace, at its position in <see cref="Execution.TaskRunList"/>.</summary>
public readonly record struct TaskRunChange(int Position, TaskRun TaskRun);

/// <summary>
/// What one executor step changed, written in one transaction with the execution: only the task runs that changed
/// (the executor keeps unchanged task run instances, so a reference comparison finds them), the execution header when
/// it changed, and durable timers added or consumed by the step.
/// </summary>
public sealed record ExecutionChanges
{
    public static readonly ExecutionChanges None = new() { HeaderChanged = false };

    /// <summary>Rewrite the whole task run list (new execution, restart that removed task runs, reordering).</summary>
    public bool ReplaceAllTaskRuns { get; init; }

    /// <summary>Whether anything but the task run list changed (state, outputs, labels...).</summary>
    public bool HeaderChanged { get; init; } = true;

    /// <summary>Whether the labels may have changed (a store that indexes labels separately rewrites them only then).</summary>
    public bool LabelsChanged { get; init; } = true;

    public ImmutableArray<TaskRunChange> TaskRuns { get; init; } = [];
    public ImmutableArray<StoredTimer> AddTimers { get; init; } = [];
    public ImmutableArray<string> RemoveTimers { get; init; } = [];

    public bool IsEmpty => !ReplaceAllTaskRuns && !HeaderChanged && TaskRuns.IsEmpty && AddTimers.IsEmpty && RemoveTimers.IsEmpty;

    /// <summary>The changes from <paramref name="before"/> (null: a new execution) to <paramref name="after"/>.</summary>
    public static ExecutionChanges Between(Execution? before, Execution after)
    {
        ArgumentNullException.ThrowIfNull(after);
        if (before is null)
        {
            return new ExecutionChanges { ReplaceAllTaskRuns = true, HeaderChanged = true };
        }

        var oldList = before.TaskRunList;
        var newList = after.TaskRunList;
        if (newList.Length < oldList.Length)
        {
            return new ExecutionChanges { ReplaceAllTaskRuns = true, HeaderChanged = HeaderDiffers(before, after) };
        }

        var changed = ImmutableArray.CreateBuilder<TaskRunChange>();
        for (var i = 0; i < newList.Length; i++)
        {
            var current = newList[i];
            if (i < oldList.Length)
            {
                var previous = oldList[i];
                if (ReferenceEquals(previous, current))
                {
                    continue;
                }

                if (!string.Equals(previous.Id, current.Id, StringComparison.Ordinal))
                {
                    return new ExecutionChanges { ReplaceAllTaskRuns = true, HeaderChanged = HeaderDiffers(before, after) };
                }

                if (previous.Equals(current))
                {
                    continue;
                }
            }

            changed.Add(new TaskRunChange(i, current));
        }

        return new ExecutionChanges
        {
            TaskRuns = changed.ToImmutable(),
            HeaderChanged = HeaderDiffers(before, after),
            LabelsChanged = before.Labels != after.Labels,
        };
    }

    private static bool HeaderDiffers(Execution a, Execution b) =>
        !ReferenceEquals(a.State, b.State) || a.Labels != b.Labels || !ReferenceEquals(a.Outputs, b.Outputs)
        || !ReferenceEquals(a.Inputs, b.Inputs) || !ReferenceEquals(a.Variables, b.Variables) || a.Metadata != b.Metadata
        || a.Trigger != b.Trigger || a.ParentId != b.ParentId || a.OriginalId != b.OriginalId || a.Deleted != b.Deleted
        || a.FlowRevision != b.FlowRevision || a.ScheduleDate != b.ScheduleDate;

    public ExecutionChanges WithTimers(IEnumerable<StoredTimer> add, IEnumerable<string> remove) =>
        this with { AddTimers = [.. AddTimers, .. add], RemoveTimers = [.. RemoveTimers, .. remove] };
}

/// <summary>A row of an execution list: no task runs, inputs or outputs.</summary>
public sealed record ExecutionSummary
{
    public required string Id { get; init; }
    public required string Namespace { get; init; }
    public required string FlowId { get; init; }
    public int FlowRevision { get; init; }
    public required State State { get; init; }
    public DateTimeOffset StartDate { get; init; }
    public DateTimeOffset? EndDate { get; init; }
    public ImmutableArray<ExecutionLabel> Labels { get; init; } = [];
    public string? ParentId { get; init; }
    public string? OriginalId { get; init; }
    public string? TriggerId { get; init; }
    public string? TriggerType { get; init; }

    public TimeSpan? Duration => EndDate is { } end ? end - StartDate : null;

    public static ExecutionSummary Of(Execution execution) => new()
    {
        Id = execution.Id,
        Namespace = execution.Namespace,
        FlowId = execution.FlowId,
        FlowRevision = execution.FlowRevision,
        State = execution.State.Current,
        StartDate = execution.State.StartDate,
        EndDate = execution.State.EndDate,
        Labels = execution.Labels,
        ParentId = execution.ParentId,
        OriginalId = execution.OriginalId,
        TriggerId = execution.Trigger?.Id,
        TriggerType = execution.Trigger?.Type,
    };
}

/// <summary>
/// Execution search. <see cref="Namespace"/> is a prefix (<c>a.b</c> matches <c>a.b</c> and <c>a.b.c</c>);
/// <see cref="StartDate"/> keeps executions started at or after it, <see cref="EndDate"/> those ended at or before it
/// (Kestra's semantics); every label must match. Results are ordered by start date, newest first unless
/// <see cref="Ascending"/>. <see cref="Page"/> is 1-based.
/// </summary>
public sealed record ExecutionQuery
{
    public string? Namespace { get; init; }
    public string? FlowId { get; init; }
    public ImmutableArray<State> States { get; init; } = [];
    public ImmutableArray<ExecutionLabel> Labels { get; init; } = [];
    public DateTimeOffset? StartDate { get; init; }
    public DateTimeOffset? EndDate { get; init; }
    public string? ParentId { get; init; }
    public bool Ascending { get; init; }
    public int Page { get; init; } = 1;
    public int Size { get; init; } = 25;

    /// <summary>
    /// When set, a store may stop counting the total past this many matches: <see cref="PagedResult{T}.Total"/> is exact
    /// up to it and any larger value means "more than <see cref="CountLimit"/>" (the UI's label searches, whose exact
    /// count costs a probe per stored execution). Null: always exact.
    /// </summary>
    public long? CountLimit { get; init; }
}

/// <summary>Executions with their task runs. Writes are per executor step (<see cref="SaveAsync"/>), never the whole execution re-serialised.</summary>
public interface IExecutionStore
{
    Task<Execution?> GetAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Writes <paramref name="execution"/>'s header (when changed), the changed task runs and timer changes in one transaction.</summary>
    Task SaveAsync(Execution execution, ExecutionChanges changes, CancellationToken cancellationToken = default);

    Task<PagedResult<ExecutionSummary>> SearchAsync(ExecutionQuery query, CancellationToken cancellationToken = default);

    /// <summary>Counts without fetching rows (paging ignored).</summary>
    Task<long> CountAsync(ExecutionQuery query, CancellationToken cancellationToken = default);

    /// <summary>Executions whose <see cref="Execution.ParentId"/> is <paramref name="parentId"/>, oldest first.</summary>
    Task<IReadOnlyList<ExecutionSummary>> ChildrenAsync(string parentId, CancellationToken cancellationToken = default);

    /// <summary>Ids of executions that are not terminal (for crash recovery), oldest first.</summary>
    Task<IReadOnlyList<string>> UnfinishedAsync(CancellationToken cancellationToken = default);

    /// <summary>Removes the execution, its task runs and timers.</summary>
    Task<bool> DeleteAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>
    /// Executions started in <c>[from, from + buckets × bucket)</c> counted per bucket and state (the UI's chart), filtered
    /// by <paramref name="query"/>'s namespace and flow. The default pages through <see cref="SearchAsync"/>; stores override
    /// it with an aggregate query.
    /// </summary>
    async Task<IReadOnlyList<ExecutionCountBucket>> CountByStateAsync(ExecutionQuery query, DateTimeOffset from, TimeSpan bucket, int buckets, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(bucket, TimeSpan.Zero);
        var to = from + (bucket * buckets);
        var counts = new Dictionary<(int, State), long>();
        for (var page = 1; ; page++)
        {
            var batch = await SearchAsync(query with { StartDate = from, EndDate = null, States = [], Page = page, Size = 1000, Ascending = true }, cancellationToken).ConfigureAwait(false);
            foreach (var summary in batch.Results)
            {
                if (summary.StartDate < to)
                {
                    var key = ((int)((summary.StartDate - from).Ticks / bucket.Ticks), summary.State);
                    counts[key] = counts.GetValueOrDefault(key) + 1;
                }
            }

            if (batch.Results.Count < 1000 || batch.Results[^1].StartDate >= to)
            {
                break;
            }
        }

        return [.. counts.Select(c => new ExecutionCountBucket(c.Key.Item1, c.Key.Item2, c.Value)).OrderBy(c => c.Bucket).ThenBy(c => c.State)];
    }
}

/// <summary>How many executions in one state started in bucket <see cref="Bucket"/> (0-based) of a histogram.</summary>
public sealed record ExecutionCountBucket(int Bucket, State State, long Count);

/// <summary>
/// A durable timer: an executor timer (<see cref="Kind"/> set) or a CREATE_NEW_EXECUTION retry (<see cref="Kind"/> null).
/// Timers are added and removed inside the execution step transaction (<see cref="ExecutionChanges"/>).
/// </summary>
public sealed record StoredTimer(string Id, string ExecutionId, DateTimeOffset DueAt, TimerKind? Kind, string? TaskRunId)
{
    public bool IsRetryExecution => Kind is null;

    public static StoredTimer From(ExecutorTimer timer) => new(timer.Id, timer.ExecutionId, timer.DueAt, timer.Kind, timer.TaskRunId);

    public static StoredTimer RetryExecution(string executionId, DateTimeOffset dueAt) =>
        new(IdGenerator.Derive(executionId, "retry-execution"), executionId, dueAt, null, null);

    public ExecutorTimer ToExecutorTimer() =>
        Kind is { } kind ? new ExecutorTimer(kind, ExecutionId, TaskRunId, DueAt) : throw new InvalidOperationException("Not an executor timer");
}

public interface ITimerStore
{
    /// <summary>Every pending timer, earliest first.</summary>
    Task<IReadOnlyList<StoredTimer>> ListAsync(CancellationToken cancellationToken = default);

    Task AddAsync(StoredTimer timer, CancellationToken cancellationToken = default);

    Task<bool> DeleteAsync(string id, CancellationToken cancellationToken = default);
}

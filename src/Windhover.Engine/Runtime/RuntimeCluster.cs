using Windhover.Engine.Executions;
using Windhover.Engine.Executor;
using Windhover.Engine.Stores;

namespace Windhover.Engine.Runtime;

/// <summary>What a node of a cluster does besides applying the steps of the events it receives.</summary>
public sealed record ClusterNodeOptions
{
    /// <summary>Claims task runs from the shared queue and runs them (the <c>worker</c> role).</summary>
    public bool Worker { get; init; } = true;

    /// <summary>Fires due timers and resumes stalled executions (the <c>executor</c> role).</summary>
    public bool Executor { get; init; } = true;

    /// <summary>A claimed task run whose worker stopped renewing its lease for this long is dispatched again.</summary>
    public TimeSpan LeaseTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Longest wait between two polls of the queue and of the timers when no notification arrives.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>An unfinished execution with no queued task, no timer and no change for this long is resumed from its stored state.</summary>
    public TimeSpan StallAfter { get; init; } = TimeSpan.FromSeconds(20);
}

/// <summary>A task run claimed from the shared queue by this node's worker.</summary>
public sealed record ClaimedTaskRun(string ExecutionId, string TaskRunId, int Claims);

/// <summary>A notification from another node (or this one) through the shared store.</summary>
public abstract record ClusterSignal
{
    /// <summary>Task runs were queued.</summary>
    public sealed record TasksQueued : ClusterSignal;

    public sealed record ExecutionEnded(string ExecutionId) : ClusterSignal;

    public sealed record KillTaskRun(string TaskRunId) : ClusterSignal;

    public sealed record FlowSaved(string Namespace, string FlowId) : ClusterSignal;

    /// <summary>The notification channel was (re)connected: notifications may have been missed.</summary>
    public sealed record Reconnected : ClusterSignal;
}

/// <summary>
/// The seam that makes <see cref="LocalRuntime"/> one node of many over a shared store (PostgreSQL). Every node may apply
/// the step of an event it holds (a worker's result, an API call, a due timer): the step runs in a transaction that
/// locks the execution's row, so steps of one execution are serialised across nodes, and the task runs it dispatches are
/// queued in the same transaction. Workers claim queued task runs under a lease they renew; a lapsed lease puts the task
/// run back in the queue (at-least-once). Nothing of an execution lives only in one node's memory: what a node held when
/// it died is found again by lease expiry, timer claims and the stalled-execution sweep.
/// </summary>
public interface IRuntimeCluster : IAsyncDisposable
{
    string NodeId { get; }

    ClusterNodeOptions Options { get; }

    /// <summary>Starts listening for notifications; <paramref name="onSignal"/> must not block.</summary>
    Task StartAsync(Action<ClusterSignal> onSignal, CancellationToken cancellationToken);

    /// <summary>
    /// Opens the transaction of one executor step and locks the execution's row until it ends. Returns
    /// <paramref name="cached"/> as the current state when nobody changed the execution since this node committed it,
    /// the stored state otherwise (null when the execution does not exist).
    /// </summary>
    Task<IClusterStep> BeginStepAsync(string executionId, Execution? cached, CancellationToken cancellationToken);

    /// <summary>Claims up to <paramref name="max"/> queued task runs, or task runs whose lease lapsed.</summary>
    Task<IReadOnlyList<ClaimedTaskRun>> ClaimTaskRunsAsync(int max, CancellationToken cancellationToken);

    /// <summary>Extends the leases of the task runs this node is running.</summary>
    Task RenewLeasesAsync(IReadOnlyCollection<string> taskRunIds, CancellationToken cancellationToken);

    /// <summary>Drops a claimed task run that is no longer runnable (finished, killed, execution gone).</summary>
    Task DropTaskRunAsync(string taskRunId, CancellationToken cancellationToken);

    /// <summary>Claims due timers (a claim lapses if the step that consumes the timer never commits).</summary>
    Task<IReadOnlyList<StoredTimer>> ClaimDueTimersAsync(DateTimeOffset now, int max, CancellationToken cancellationToken);

    /// <summary>Unfinished executions that nothing moves (no queued task, no timer, no change for <see cref="ClusterNodeOptions.StallAfter"/>).</summary>
    Task<IReadOnlyList<string>> ClaimStalledExecutionsAsync(int max, CancellationToken cancellationToken);

    /// <summary>A lock of one flow across nodes (its concurrency limit), held until disposed.</summary>
    Task<IAsyncDisposable> LockFlowAsync(string @namespace, string flowId, CancellationToken cancellationToken);

    /// <summary>Asks every node to kill a task run it is running.</summary>
    Task BroadcastKillAsync(string taskRunId, CancellationToken cancellationToken);
}

/// <summary>One executor step's transaction (see <see cref="IRuntimeCluster.BeginStepAsync"/>). Disposing without commit rolls back.</summary>
public interface IClusterStep : IAsyncDisposable
{
    /// <summary>The execution as committed, under the lock.</summary>
    Execution? Current { get; }

    /// <summary>Writes the step (as <see cref="IExecutionStore.SaveAsync"/>) in this transaction.</summary>
    void Save(Execution execution, ExecutionChanges changes);

    /// <summary>
    /// Queues a runnable task run in this transaction; with <paramref name="leaseToSelf"/> it is queued already leased to
    /// this node, which runs it right after the commit (no claim round trip) unless the commit reports otherwise.
    /// </summary>
    void Dispatch(RunTask run, bool leaseToSelf);

    /// <summary>Commits; returns the task runs queued leased to this node (those this node must now run).</summary>
    Task<IReadOnlyCollection<string>> CommitAsync(CancellationToken cancellationToken);
}

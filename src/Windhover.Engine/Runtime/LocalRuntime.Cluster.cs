using System.Collections.Concurrent;
using Windhover.Engine.Executions;
using Windhover.Engine.Executor;
using Windhover.Engine.Inputs;
using Windhover.Engine.Tasks;
using Windhover.Engine.Worker;
using Windhover.Flows.Model;

namespace Windhover.Engine.Runtime;

/// <summary>
/// Cluster mode (<see cref="RuntimeOptions.Cluster"/>): this runtime is one node of many over a shared store.
/// </summary>
/// <remarks>
/// <para>Steps: every step runs inside <see cref="IRuntimeCluster.BeginStepAsync"/>'s transaction, which locks the
/// execution's row, so two nodes never apply steps of one execution at once; a node's cached execution is used only
/// when the stored version is the one it committed. The task runs a step dispatches are queued in that transaction,
/// its timers are rows of the same transaction, and nothing is handed to an in-memory worker or timer.</para>
/// <para>Workers (at-least-once): a node claims queued task runs up to its free worker loops, renews the leases of those
/// it still runs, and stops renewing once the result is reported. The step that applies a terminal result deletes the
/// queue row in its transaction. A node that dies (or whose result step never commits) lets the lease lapse and
/// another node claims the task run again; a result for a task run that is no longer RUNNING is ignored by the executor.</para>
/// <para>Executor duties: due timers are claimed by one node (a claim lapses if the step that consumes the timer never
/// commits); unfinished executions that nothing moves (no queue row, no timer, no change for a while: their last event
/// was in the memory of a node that died, or its step failed while the database was away) are resumed from their
/// stored state as recovery does at start in local mode.</para>
/// </remarks>
public sealed partial class LocalRuntime
{
    /// <summary>Claimed task runs this node's worker loops run now (its capacity).</summary>
    private readonly ConcurrentDictionary<string, byte> _clusterInflight = new(StringComparer.Ordinal);

    /// <summary>Claimed task runs whose lease this node renews: running, or their result not yet committed.</summary>
    private readonly ConcurrentDictionary<string, byte> _clusterLeased = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _clusterWake = new(0, int.MaxValue);

    /// <summary>The last claim found no free worker loop, or took a full batch: a freed loop should claim at once.</summary>
    private bool _clusterSaturated;
    private readonly List<Task> _clusterLoops = [];

    /// <summary>Raised (cluster mode) when any node saved a flow; hosts wake their Schedule trigger loop.</summary>
    public event Action<string, string>? ClusterFlowSaved;

    /// <summary>Raised (cluster mode) when this node claims a task run whose previous lease lapsed: it runs again.</summary>
    public event Action<ClaimedTaskRun, string>? ClusterTaskRunReclaimed;

    /// <summary>This node's id in cluster mode, null otherwise.</summary>
    public string? NodeId => _options.Cluster?.NodeId;

    private async Task StartClusterAsync(IRuntimeCluster cluster, CancellationToken cancellationToken)
    {
        _workers = new WorkerPool(Tasks, Services, OnClusterWorkerReport, cluster.Options.Worker ? _options.Workers : 1, cluster.NodeId);
        await cluster.StartAsync(OnClusterSignal, cancellationToken).ConfigureAwait(false);
        var token = _stopping.Token;
        if (cluster.Options.Worker)
        {
            _clusterLoops.Add(Task.Run(() => ClaimLoopAsync(cluster, token)));
            _clusterLoops.Add(Task.Run(() => LeaseLoopAsync(cluster, token)));
        }

        if (cluster.Options.Executor)
        {
            _clusterLoops.Add(Task.Run(() => TimerLoopAsync(cluster, token)));
            _clusterLoops.Add(Task.Run(() => SweepLoopAsync(cluster, token)));
        }
    }

    private async Task StopClusterAsync()
    {
        try
        {
            await Task.WhenAll(_clusterLoops).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or TimeoutException)
        {
        }

        if (_options.Cluster is { } cluster)
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
        }
    }

    // ================================================================ steps

    private async Task<IClusterStep> BeginClusterStepAsync(IRuntimeCluster cluster, ExecutionActor actor)
    {
        var step = await cluster.BeginStepAsync(actor.Id, actor.Current, _stopping.Token).ConfigureAwait(false);
        if (actor.Unsaved && step.Current is null)
        {
            return step; // a new execution: this step inserts it
        }

        actor.Unsaved = false;
        if (!ReferenceEquals(step.Current, actor.Current))
        {
            actor.Current = step.Current;
        }

        return step;
    }

    /// <summary>
    /// Queues the step's runnable task runs in its transaction and commits it. While this node has free worker loops
    /// the task runs are queued leased to it and start here right after the commit: no claim round trip, no reload.
    /// </summary>
    private async Task CommitClusterStepAsync(IClusterStep step, Flow flow, Execution execution, List<WorkItem> work)
    {
        var cluster = _options.Cluster!;
        Dictionary<string, RunTask>? queued = null;
        foreach (var item in work)
        {
            if (item is RunTask run && execution.FindTaskRun(run.TaskRun.Id)?.State.Current.IsTerminal() != true
                && (queued ??= new Dictionary<string, RunTask>(StringComparer.Ordinal)).TryAdd(run.TaskRun.Id, run))
            {
                // Tasks of a WorkingDirectory share a local folder: they stay on the node that runs the previous one.
                var self = cluster.Options.Worker && (_clusterInflight.Count < _options.Workers || run.WorkingDirectoryTaskRunId is not null)
                    && _clusterInflight.TryAdd(run.TaskRun.Id, 0);
                if (self)
                {
                    _clusterLeased[run.TaskRun.Id] = 0;
                }

                step.Dispatch(run, self);
            }
        }

        IReadOnlyCollection<string> leased;
        try
        {
            leased = await step.CommitAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch
        {
            foreach (var id in queued?.Keys ?? Enumerable.Empty<string>())
            {
                ReleaseLocal(id);
            }

            throw;
        }

        if (queued is null)
        {
            return;
        }

        (IReadOnlyDictionary<string, object?>? Inputs, IReadOnlyList<string> Values)? secrets = null;
        foreach (var (id, run) in queued)
        {
            if (leased.Contains(id))
            {
                secrets ??= FlowInputs.DecryptSecrets(flow.Inputs, execution.Inputs, _encryption);
                _workers!.Enqueue(new WorkerJob(WithInputs(run, secrets.Value.Inputs, execution.Inputs), secrets.Value.Values));
            }
            else if (_clusterInflight.ContainsKey(id))
            {
                ReleaseLocal(id); // already queued (a duplicate dispatch): whoever holds it runs it
            }
        }
    }

    private void ReleaseLocal(string taskRunId)
    {
        if (_clusterInflight.TryRemove(taskRunId, out _))
        {
            _clusterLeased.TryRemove(taskRunId, out _);
            _clusterWake.Release();
        }
    }

    // ================================================================ signals

    private void OnClusterSignal(ClusterSignal signal)
    {
        switch (signal)
        {
            case ClusterSignal.TasksQueued:
                _clusterWake.Release();
                break;
            case ClusterSignal.ExecutionEnded ended when _waiters.ContainsKey(ended.ExecutionId):
                _ = Task.Run(() => CompleteRemoteWaitersAsync([ended.ExecutionId]));
                break;
            case ClusterSignal.KillTaskRun kill when _clusterInflight.ContainsKey(kill.TaskRunId):
                _workers?.Kill(kill.TaskRunId);
                break;
            case ClusterSignal.FlowSaved saved:
                ClusterFlowSaved?.Invoke(saved.Namespace, saved.FlowId);
                break;
            case ClusterSignal.Reconnected:
                _clusterWake.Release();
                _ = Task.Run(() => CompleteRemoteWaitersAsync([.. _waiters.Keys]));
                break;
        }
    }

    /// <summary>Completes the waiters of executions that ended on another node.</summary>
    private async Task CompleteRemoteWaitersAsync(IReadOnlyList<string> executionIds)
    {
        foreach (var id in executionIds)
        {
            try
            {
                if (await _stores.Executions.GetAsync(id).ConfigureAwait(false) is { } execution
                    && execution.State.Current.IsTerminal())
                {
                    CompleteWaiters(execution);
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                ReportBackgroundError(e);
            }
        }
    }

    private static async Task BroadcastKillAsync(IRuntimeCluster cluster, string taskRunId, Action<Exception> onError)
    {
        try
        {
            await cluster.BroadcastKillAsync(taskRunId, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            onError(e);
        }
    }

    // ================================================================ worker

    /// <summary>RUNNING reports held back briefly so that a fast task's RUNNING and result commit as one step.</summary>
    private readonly ConcurrentDictionary<string, WorkerReport> _clusterStarted = new(StringComparer.Ordinal);

    private static readonly TimeSpan StartedReportDelay = TimeSpan.FromMilliseconds(100);

    private ValueTask OnClusterWorkerReport(WorkerReport report)
    {
        var taskRunId = report.Result.TaskRunId;
        if (report.Result.State == State.Running)
        {
            // One commit less per task run when it ends within the delay; a longer one shows RUNNING after it.
            _clusterStarted[taskRunId] = report;
            _ = Task.Delay(StartedReportDelay, Time).ContinueWith(_ =>
            {
                if (_clusterStarted.TryRemove(new KeyValuePair<string, WorkerReport>(taskRunId, report)))
                {
                    Post(report.ExecutionId, new Envelope(report.Result) { Outcome = report.Outcome });
                }
            }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return ValueTask.CompletedTask;
        }

        if (_clusterStarted.TryRemove(taskRunId, out var started))
        {
            Post(started.ExecutionId, new Envelope(started.Result) { Outcome = started.Outcome });
        }

        var envelope = new Envelope(report.Result) { Outcome = report.Outcome };
        Post(report.ExecutionId, envelope);
        if (report.Result.State.IsTerminal() && _clusterInflight.TryRemove(taskRunId, out _))
        {
            if (Volatile.Read(ref _clusterSaturated))
            {
                _clusterWake.Release(); // a worker loop is free and work may be waiting
            }
            // The lease is renewed until the step applying the result ends: committed, it deleted the queue row;
            // failed (the database is away), the lease lapses and the task run is claimed again.
            _ = envelope.Done.Task.ContinueWith(done => _clusterLeased.TryRemove(taskRunId, out var _), CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        return ValueTask.CompletedTask;
    }

    private async Task ClaimLoopAsync(IRuntimeCluster cluster, CancellationToken token)
    {
        while (!token.IsCancellationRequested)
        {
            var free = _options.Workers - _clusterInflight.Count;
            Volatile.Write(ref _clusterSaturated, free <= 0);
            var claimedAll = false;
            if (free > 0)
            {
                try
                {
                    var max = Math.Min(free, 64);
                    var claimed = await cluster.ClaimTaskRunsAsync(max, token).ConfigureAwait(false);
                    foreach (var task in claimed)
                    {
                        if (_clusterInflight.TryAdd(task.TaskRunId, 0))
                        {
                            _clusterLeased[task.TaskRunId] = 0;
                            _ = Task.Run(() => StartClaimedAsync(cluster, task));
                        }
                    }

                    claimedAll = claimed.Count == max;
                    Volatile.Write(ref _clusterSaturated, claimedAll);
                }
                catch (OperationCanceledException) when (token.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    ReportBackgroundError(e);
                }
            }

            if (!claimedAll && !await WaitForWakeAsync(cluster.Options.PollInterval, token).ConfigureAwait(false))
            {
                return;
            }
        }
    }

    private async Task<bool> WaitForWakeAsync(TimeSpan timeout, CancellationToken token)
    {
        try
        {
            await _clusterWake.WaitAsync(timeout, token).ConfigureAwait(false);
            while (_clusterWake.Wait(0))
            {
                // coalesce pending wake-ups: one claim serves them all
            }

            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Turns a claimed queue row back into the worker job the dispatching step built (as recovery does).</summary>
    private async Task StartClaimedAsync(IRuntimeCluster cluster, ClaimedTaskRun claimed)
    {
        try
        {
            var execution = await _stores.Executions.GetAsync(claimed.ExecutionId).ConfigureAwait(false);
            var taskRun = execution?.FindTaskRun(claimed.TaskRunId);
            if (claimed.Claims > 1)
            {
                ClusterTaskRunReclaimed?.Invoke(claimed, execution is null ? "execution gone"
                    : $"execution {execution.State.Current}, task run {taskRun?.State.Current.ToString() ?? "gone"}");
            }

            var flow = execution is null ? null
                : (await _stores.Flows.GetAsync(execution.Namespace, execution.FlowId, execution.FlowRevision).ConfigureAwait(false))?.Flow;
            var index = flow is null ? null : FlowIndex.Of(flow);
            var task = taskRun is null ? null : index?.Find(taskRun.TaskId);
            if (execution is null || taskRun is null || flow is null || index is null || task is null
                || execution.State.Current.IsTerminal() || TaskKinds.Of(task.CanonicalType) != TaskKind.Runnable)
            {
                await DropClaimedAsync(cluster, claimed.TaskRunId).ConfigureAwait(false);
                return;
            }

            switch (taskRun.State.Current)
            {
                case State.Created or State.Restarted or State.Running:
                    var (wdId, wdTask) = WorkingDirectoryOf(index, execution, taskRun);
                    var wdValue = wdId is null ? null : execution.FindTaskRun(wdId)?.Value;
                    var variables = RunVariables.For(flow, execution, taskRun, task, _options.Executor.Envs, _options.Executor.Globals, wdValue);
                    var (inputs, secretValues) = FlowInputs.DecryptSecrets(flow.Inputs, execution.Inputs, _encryption);
                    _workers!.Enqueue(new WorkerJob(WithInputs(new RunTask(taskRun, task, variables, wdId, wdTask), inputs, execution.Inputs), secretValues));
                    break;
                case State.Killing:
                    // killed while its worker was gone: nobody else will report it
                    _clusterInflight.TryRemove(claimed.TaskRunId, out _);
                    _clusterLeased.TryRemove(claimed.TaskRunId, out _);
                    Post(execution.Id, new Envelope(new TaskResult(taskRun.Id, State.Killed, Time.GetUtcNow())));
                    break;
                default:
                    await DropClaimedAsync(cluster, claimed.TaskRunId).ConfigureAwait(false);
                    break;
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // not renewed any more: the lease lapses and the task run is claimed again
            _clusterInflight.TryRemove(claimed.TaskRunId, out _);
            _clusterLeased.TryRemove(claimed.TaskRunId, out _);
            ReportBackgroundError(e);
        }
    }

    private async Task DropClaimedAsync(IRuntimeCluster cluster, string taskRunId)
    {
        _clusterInflight.TryRemove(taskRunId, out _);
        _clusterLeased.TryRemove(taskRunId, out _);
        await cluster.DropTaskRunAsync(taskRunId, CancellationToken.None).ConfigureAwait(false);
        _clusterWake.Release();
    }

    private async Task LeaseLoopAsync(IRuntimeCluster cluster, CancellationToken token)
    {
        var period = cluster.Options.LeaseTimeout / 3;
        while (!token.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(period, Time, token).ConfigureAwait(false);
                if (!_clusterLeased.IsEmpty)
                {
                    await cluster.RenewLeasesAsync([.. _clusterLeased.Keys], token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                ReportBackgroundError(e);
            }
        }
    }

    // ================================================================ executor duties

    private async Task TimerLoopAsync(IRuntimeCluster cluster, CancellationToken token)
    {
        var period = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(100).Ticks, cluster.Options.PollInterval.Ticks / 4));
        while (!token.IsCancellationRequested)
        {
            try
            {
                foreach (var timer in await cluster.ClaimDueTimersAsync(Time.GetUtcNow(), 256, token).ConfigureAwait(false))
                {
                    OnTimerDue(timer);
                }

                await Task.Delay(period, Time, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                ReportBackgroundError(e);
                await DelayQuietly(cluster.Options.PollInterval, token).ConfigureAwait(false);
            }
        }
    }

    private async Task SweepLoopAsync(IRuntimeCluster cluster, CancellationToken token)
    {
        var period = cluster.Options.StallAfter / 4;
        while (!token.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(period, Time, token).ConfigureAwait(false);
                foreach (var id in await cluster.ClaimStalledExecutionsAsync(256, token).ConfigureAwait(false))
                {
                    ResumeStalled(id);
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                ReportBackgroundError(e);
            }
        }
    }

    /// <summary>Resumes an execution from its stored state (under the step lock, whatever its state is by then).</summary>
    private void ResumeStalled(string executionId)
    {
        Post(executionId, new Envelope(Mutate: (_, execution) =>
        {
            var now = Time.GetUtcNow();
            return execution.State.Current switch
            {
                State.Created => (execution, new ExecutionCreated(now)),
                State.Restarted => (execution, new RestartExecution(now)),
                _ => (execution, null),
            };
        }));
        Post(executionId, new Envelope { Recover = true });
    }

    private static async Task DelayQuietly(TimeSpan delay, CancellationToken token)
    {
        try
        {
            await Task.Delay(delay, token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }
}

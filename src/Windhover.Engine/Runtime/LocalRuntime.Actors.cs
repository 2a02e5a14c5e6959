using System.Collections.Concurrent;
using Windhover.Engine.Executions;
using Windhover.Engine.Executor;
using Windhover.Engine.Inputs;
using Windhover.Engine.Stores;
using Windhover.Engine.Tasks;
using Windhover.Engine.Worker;
using Windhover.Flows.Model;
using ExecutorEngine = Windhover.Engine.Executor.Executor;

namespace Windhover.Engine.Runtime;

public sealed partial class LocalRuntime
{
    /// <summary>One message for an execution: an executor event, a mutation, a child's end, or the recovery request.</summary>
    private sealed record Envelope(ExecutorEvent? Event = null, Func<Flow, Execution, (Execution, ExecutorEvent?)>? Mutate = null)
    {
        public TaskCompletionSource<Execution> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>When set: completed once the step that applied this message is durable (before its work is dispatched), failed when it is not.</summary>
        public TaskCompletionSource? Durable { get; init; }
        public TaskOutcome? Outcome { get; init; }
        public string? ChildId { get; init; }
        public ChildExecutionSummary? Child { get; init; }
        public bool Recover { get; init; }

        /// <summary>Answer with the execution as <see cref="Mutate"/> prepared it (Kestra's API answers restart, replay and markAs so), not after the step.</summary>
        public bool AnswerPrepared { get; init; }
        public Execution? Prepared { get; set; }
    }

    /// <summary>
    /// The mailbox of one execution. Messages are applied by at most one drain loop at a time, in order; the loop takes
    /// every message waiting, applies them, commits ONE store transaction for the batch (group commit), then dispatches
    /// the work. Mailboxes of different executions drain in parallel.
    /// </summary>
    private sealed class ExecutionActor(string id)
    {
        public string Id { get; } = id;
        public ConcurrentQueue<Envelope> Queue { get; } = new();
        public bool Running { get; set; }
        public bool Closed { get; set; }
        public Execution? Current { get; set; }
        public Flow? Flow { get; set; }

        /// <summary><see cref="Current"/> is a new execution not stored yet: the next step inserts it (its creation commit).</summary>
        public bool Unsaved { get; set; }

        public async Task IdleAsync()
        {
            while (true)
            {
                lock (this)
                {
                    if (!Running)
                    {
                        return;
                    }
                }

                await Task.Delay(10).ConfigureAwait(false);
            }
        }
    }

    private Task<Execution> PostAsync(string executionId, Envelope envelope, Flow? flow = null, Execution? seed = null)
    {
        Post(executionId, envelope, flow, seed);
        return envelope.Done.Task;
    }

    private void Post(string executionId, Envelope envelope, Flow? flow = null, Execution? seed = null, bool unsaved = false)
    {
        while (true)
        {
            var actor = _actors.GetOrAdd(executionId, static id => new ExecutionActor(id));
            lock (actor)
            {
                if (actor.Closed)
                {
                    continue;
                }

                if (actor.Current is null && seed is not null)
                {
                    actor.Current = seed;
                    actor.Flow = flow;
                    actor.Unsaved = unsaved;
                }

                actor.Queue.Enqueue(envelope);
                if (!actor.Running)
                {
                    actor.Running = true;
                    _ = Task.Run(() => DrainAsync(actor));
                }

                return;
            }
        }
    }

    private ValueTask OnWorkerReport(WorkerReport report)
    {
        Post(report.ExecutionId, new Envelope(report.Result) { Outcome = report.Outcome });
        return ValueTask.CompletedTask;
    }

    private async Task DrainAsync(ExecutionActor actor)
    {
        var batch = new List<Envelope>();
        while (true)
        {
            batch.Clear();
            while (batch.Count < 256 && actor.Queue.TryDequeue(out var envelope))
            {
                batch.Add(envelope);
            }

            if (batch.Count == 0)
            {
                lock (actor)
                {
                    if (!actor.Queue.IsEmpty)
                    {
                        continue;
                    }

                    actor.Running = false;
                    // Cluster mode: the next event may be applied by another node; the cluster keeps what it can cache.
                    if (actor.Current is null || actor.Current.State.Current.IsTerminal() || _options.Cluster is not null)
                    {
                        actor.Closed = true;
                        _actors.TryRemove(new KeyValuePair<string, ExecutionActor>(actor.Id, actor));
                    }

                    return;
                }
            }

            try
            {
                await ProcessAsync(actor, batch).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                ReportBackgroundError(e);
                foreach (var envelope in batch)
                {
                    envelope.Durable?.TrySetException(e);
                    envelope.Done.TrySetException(e);
                }
            }
        }
    }

    private async Task ProcessAsync(ExecutionActor actor, List<Envelope> batch)
    {
        // Cluster mode: the step's transaction locks the execution's row (LocalRuntime.Cluster.cs).
        await using var clusterStep = _options.Cluster is { } cluster ? await BeginClusterStepAsync(cluster, actor).ConfigureAwait(false) : null;
        if (actor.Current is null)
        {
            actor.Current = await _stores.Executions.GetAsync(actor.Id).ConfigureAwait(false);
            if (actor.Current is null)
            {
                var missing = new ExecutionNotFoundException(actor.Id);
                batch.ForEach(e => e.Durable?.TrySetException(missing));
                batch.ForEach(e => e.Done.TrySetException(missing));
                return;
            }
        }

        var before = actor.Current;
        if (actor.Flow is null)
        {
            actor.Flow = (await _stores.Flows.GetAsync(before.Namespace, before.FlowId, before.FlowRevision).ConfigureAwait(false))?.Flow;
            if (actor.Flow is null)
            {
                var missing = new FlowNotFoundException(before.Namespace, before.FlowId, before.FlowRevision);
                batch.ForEach(e => e.Durable?.TrySetException(missing));
                batch.ForEach(e => e.Done.TrySetException(missing));
                return;
            }
        }

        var flow = actor.Flow;
        var execution = before;
        var work = new List<WorkItem>();
        var removeTimers = new List<string>();
        var failures = new Dictionary<Envelope, Exception>();
        foreach (var envelope in batch)
        {
            try
            {
                execution = await ApplyAsync(actor, flow, execution, envelope, work, removeTimers).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                failures[envelope] = e;
            }
        }

        if (execution.Metadata?.ExitState is { } exit && execution.State.Current.IsTerminal())
        {
            execution = (execution.State.Current == exit ? execution : execution.WithState(exit, Time.GetUtcNow()))
                with { Metadata = execution.Metadata with { ExitState = null } };
        }

        var added = new List<StoredTimer>();
        foreach (var item in work)
        {
            if (item is SetTimer timer)
            {
                added.Add(StoredTimer.From(timer.Timer));
            }
            else if (item is RetryExecution retry)
            {
                added.Add(StoredTimer.RetryExecution(retry.ExecutionId, retry.DueAt));
            }
        }

        // A new execution not stored yet is inserted by this step: its creation and first step commit together.
        var stored = actor.Unsaved ? null : before;
        var changes = ExecutionChanges.Between(stored, execution).WithTimers(added, removeTimers);
        if (_options.MaxExecutionSize is { } maxSize && !changes.IsEmpty && TooLarge(before, execution, maxSize, work) is { } failed)
        {
            execution = failed;
            changes = ExecutionChanges.Between(stored, execution).WithTimers([], removeTimers);
        }

        // Children first: a child execution started by this step is stored (CREATED, not started) before the step is
        // durable, so a crash in between leaves a child that recovery starts, never a parent waiting for a lost child.
        // A WorkingDirectory cache is saved before the step that ends it is durable: the next execution finds it.
        HashSet<string>? childrenToStart = null;
        foreach (var item in work)
        {
            if (item is StartChild start && await PrepareChildAsync(execution.Id, start).ConfigureAwait(false) is { State.Current: State.Created } child)
            {
                (childrenToStart ??= new HashSet<string>(StringComparer.Ordinal)).Add(child.Id);
            }
            else if (item is ReleaseWorkingDirectory release && CacheOf(flow, execution, release.TaskRunId) is { } cache)
            {
                await SaveCacheAsync(execution, release.TaskRunId, cache).ConfigureAwait(false);
            }
        }

        if (!changes.IsEmpty)
        {
            // Durable first: nothing of this step leaves the actor before the commit.
            if (clusterStep is not null)
            {
                clusterStep.Save(execution, changes);
            }
            else
            {
                await _stores.Executions.SaveAsync(execution, changes).ConfigureAwait(false);
            }
        }

        if (clusterStep is not null)
        {
            await CommitClusterStepAsync(clusterStep, flow, execution, work).ConfigureAwait(false);
        }

        actor.Unsaved = false;
        actor.Current = execution;
        batch.ForEach(e => e.Durable?.TrySetResult());
        await DispatchAsync(flow, execution, work, childrenToStart).ConfigureAwait(false);
        foreach (var envelope in batch)
        {
            if (failures.TryGetValue(envelope, out var failure))
            {
                envelope.Done.TrySetException(failure);
            }
            else
            {
                envelope.Done.TrySetResult(envelope.Prepared ?? execution);
            }
        }

        if (!ReferenceEquals(before, execution))
        {
            if (before.State.Current != execution.State.Current && !execution.State.Current.IsTerminal() && ExecutionStateChanged is { } changed)
            {
                changed(execution);
            }

            Publish(execution);
            if (execution.State.Current.IsTerminal() && !before.State.Current.IsTerminal())
            {
                OnTerminal(flow, execution);
            }
        }
    }

    /// <summary>
    /// Kestra's queue message protection: when the step's execution serializes beyond <paramref name="maxSize"/> bytes,
    /// the step is dropped and the execution as it was before fails (its unfinished task runs FAILED, an error log).
    /// The work of the dropped step is replaced by kills of the task runs still in the workers.
    /// </summary>
    private Execution? TooLarge(Execution before, Execution execution, long maxSize, List<WorkItem> work)
    {
        var size = System.Text.Encoding.UTF8.GetByteCount(Windhover.Engine.Serialization.KestraJson.Serialize(execution));
        if (size <= maxSize)
        {
            return null;
        }

        var now = Time.GetUtcNow();
        var message = $"Execution is too large: {size} bytes exceed the configured limit of {maxSize} bytes";
        var failed = before;
        work.Clear();
        foreach (var taskRun in before.TaskRunList.Where(t => !t.State.Current.IsTerminal()))
        {
            failed = failed.WithTaskRun(taskRun.WithState(State.Failed, now));
            work.Add(new KillTaskRun(taskRun.Id));
        }

        work.Add(new EmitLog(ExecutorLogLevel.Error, message, now));
        return failed.WithState(State.Failed, now);
    }

    private async Task<Execution> ApplyAsync(ExecutionActor actor, Flow flow, Execution execution, Envelope envelope, List<WorkItem> work, List<string> removeTimers)
    {
        Execution Step(Execution current, ExecutorEvent @event)
        {
            // Flowable tasks (If, Switch, Subflow inputs...) render with SECRET inputs decrypted, as runnable tasks see
            // them; the execution keeps them encrypted.
            var (inputs, _) = FlowInputs.DecryptSecrets(flow.Inputs, current.Inputs, _encryption);
            var view = ReferenceEquals(inputs, current.Inputs) ? current : current with { Inputs = inputs };
            var step = _executor.Apply(flow, view, @event);
            work.AddRange(step.Work);
            return ReferenceEquals(view, current) ? step.Execution : step.Execution with { Inputs = current.Inputs };
        }

        if (envelope.Recover)
        {
            return await RecoverStepAsync(flow, execution, work, Step).ConfigureAwait(false);
        }

        if (envelope.Mutate is { } mutate)
        {
            var (mutated, next) = mutate(flow, execution);
            if (envelope.AnswerPrepared)
            {
                envelope.Prepared = mutated;
            }

            return next is null ? mutated : Step(mutated, next);
        }

        if (envelope.ChildId is { } childId)
        {
            // A Subflow names its child in `executionId`; a ForEachItem's `_items` lists its batches in `executions`.
            var parentRun = execution.TaskRunList.FirstOrDefault(t => t.State.Current is State.Running or State.Killing
                && (t.Outputs?.GetValueOrDefault("executionId") as string == childId
                    || (t.Outputs?.GetValueOrDefault("executions") is IReadOnlyDictionary<string, object?> batches && batches.ContainsKey(childId))));
            return parentRun is null ? execution : Step(execution, new ChildEnded(parentRun.Id, envelope.Child!, Time.GetUtcNow()));
        }

        switch (envelope.Event)
        {
            case TaskResult result when envelope.Outcome is { } outcome:
                if (!outcome.Labels.IsDefaultOrEmpty && execution.FindTaskRun(result.TaskRunId)?.State.Current is State.Running)
                {
                    var labels = execution.Labels.Where(l => outcome.Labels.All(n => n.Key != l.Key)).Concat(outcome.Labels);
                    execution = execution with { Labels = [.. labels] };
                }

                execution = Step(execution, result);
                if (outcome.ExitExecution is { } exit && !execution.State.Current.IsTerminal())
                {
                    execution = execution with { Metadata = (execution.Metadata ?? new ExecutionMetadata()) with { ExitState = exit } };
                    execution = Step(execution, new KillExecution(result.Now));
                }
                else if (outcome.ExitExecution is { } finalState && execution.State.Current != finalState)
                {
                    execution = execution.WithState(finalState, result.Now);
                }

                return execution;
            case TimerFired fired:
                removeTimers.Add(fired.Timer.Id);
                return Step(execution, fired);
            case { } @event:
                return Step(execution, @event);
            default:
                return execution;
        }
    }

    private async Task DispatchAsync(Flow flow, Execution execution, List<WorkItem> work, HashSet<string>? childrenToStart = null)
    {
        if (work.Count == 0)
        {
            return;
        }

        List<EmitLog>? logs = null;
        (IReadOnlyDictionary<string, object?>? Inputs, IReadOnlyList<string> Values)? secrets = null;
        foreach (var item in work)
        {
            switch (item)
            {
                case RunTask or SetTimer or RetryExecution when _options.Cluster is not null:
                    break; // queued and stored in the step's transaction
                case KillTaskRun kill when _options.Cluster is { } cluster:
                    _ = BroadcastKillAsync(cluster, kill.TaskRunId, ReportBackgroundError);
                    break;
                case RunTask run when execution.FindTaskRun(run.TaskRun.Id)?.State.Current.IsTerminal() == true:
                    break; // killed in the same batch (Exit, kill): never start it
                case RunTask run:
                    secrets ??= FlowInputs.DecryptSecrets(flow.Inputs, execution.Inputs, _encryption);
                    _workers!.Enqueue(new WorkerJob(WithInputs(run, secrets.Value.Inputs, execution.Inputs), secrets.Value.Values));
                    break;
                case SetTimer timer:
                    _timers.Add(StoredTimer.From(timer.Timer));
                    break;
                case RetryExecution retry:
                    _timers.Add(StoredTimer.RetryExecution(retry.ExecutionId, retry.DueAt));
                    break;
                case StartChild child when childrenToStart?.Contains(child.Request.ExecutionId) == true:
                    Post(child.Request.ExecutionId, new Envelope(new ExecutionCreated(Time.GetUtcNow())));
                    break;
                case KillTaskRun kill:
                    _workers!.Kill(kill.TaskRunId);
                    break;
                case KillChild killChild:
                    Post(killChild.ChildExecutionId, new Envelope(new KillExecution(Time.GetUtcNow())));
                    break;
                case EmitLog log:
                    (logs ??= []).Add(log);
                    break;
                case CollectOutputFiles collect:
                    _ = Task.Run(() => CollectOutputFilesAsync(execution, collect));
                    break;
                case ReleaseWorkingDirectory release:
                    TryDeleteDirectory(Path.Combine(_options.WorkingDirectoryRoot, release.TaskRunId));
                    break;
            }
        }

        if (logs is not null)
        {
            await AppendLogsAsync(execution, logs).ConfigureAwait(false);
        }
    }

    private void OnTerminal(Flow flow, Execution execution)
    {
        CompleteWaiters(execution);
        if (execution.ParentId is { } parentId)
        {
            var summary = new ChildExecutionSummary(execution.Id, execution.State.Current, execution.Outputs,
                RunVariables.ForExecution(flow, execution, _options.Executor.Envs, _options.Executor.Globals));
            Post(parentId, new Envelope { ChildId = execution.Id, Child = summary });
        }

        if (flow.Concurrency is not null)
        {
            _ = Task.Run(() => DequeueAsync(flow));
        }
    }

    /// <summary>
    /// Stores the child execution of <paramref name="child"/> without starting it and returns it; null when it already
    /// existed (recovery, duplicate work: an ended one is reported to the parent again) or could not be created (the
    /// parent gets <see cref="ChildStartFailed"/> in its next step).
    /// </summary>
    private async Task<Execution?> PrepareChildAsync(string parentId, StartChild child)
    {
        var request = child.Request;
        try
        {
            if (await _stores.Executions.GetAsync(request.ExecutionId).ConfigureAwait(false) is { } existing)
            {
                if (existing.State.Current.IsTerminal())
                {
                    var flow = (await _stores.Flows.GetAsync(existing.Namespace, existing.FlowId, existing.FlowRevision).ConfigureAwait(false))?.Flow;
                    if (flow is not null)
                    {
                        OnTerminal(flow, existing);
                    }
                }

                return null; // already created (recovery, duplicate work): the child reports when it ends
            }

            return await CreateExecutionAsync(new ExecutionRequest
            {
                Namespace = request.Namespace,
                FlowId = request.FlowId,
                Revision = request.Revision,
                Inputs = request.Inputs,
                Labels = request.Labels,
                Trigger = request.Trigger,
                ExecutionId = request.ExecutionId,
                ParentId = request.ParentExecutionId,
                ScheduleDate = request.ScheduleDate,
                DeferStart = true,
            }).ConfigureAwait(false);
        }
        catch (Exception e) when (e is InputValidationException or FlowNotFoundException or InvalidOperationException)
        {
            Post(parentId, new Envelope(new ChildStartFailed(child.TaskRun.Id, e.Message, Time.GetUtcNow())));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            ReportBackgroundError(e);
            Post(parentId, new Envelope(new ChildStartFailed(child.TaskRun.Id, e.Message, Time.GetUtcNow())));
        }

        return null;
    }

    /// <summary>The <c>cache</c> of a WorkingDirectory task run that ended well, or null.</summary>
    private (string TaskId, IReadOnlyList<string> Patterns, TimeSpan? Ttl)? CacheOf(Flow flow, Execution execution, string taskRunId)
    {
        if (execution.FindTaskRun(taskRunId) is not { State.Current: State.Success or State.Warning } taskRun
            || FlowIndex.Of(flow).Find(taskRun.TaskId) is not { } task || !task.Properties.ContainsKey("cache"))
        {
            return null;
        }

        try
        {
            var rendered = Renderer.RenderObject(task.Properties["cache"], RunVariables.For(flow, execution, taskRun, task, _options.Executor.Envs, _options.Executor.Globals));
            return Windhover.Engine.Tasks.Core.WorkingDirectoryCache.Settings(rendered) is { } settings ? (task.Id, settings.Patterns, settings.Ttl) : null;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            ReportBackgroundError(e);
            return null;
        }
    }

    private async Task SaveCacheAsync(Execution execution, string taskRunId, (string TaskId, IReadOnlyList<string> Patterns, TimeSpan? Ttl) cache)
    {
        try
        {
            await Windhover.Engine.Tasks.Core.WorkingDirectoryCache.SaveAsync(_stores.Files, Windhover.Engine.Tasks.Core.WorkingDirectoryCache.UriFor(execution.Namespace, execution.FlowId, cache.TaskId),
                Path.Combine(_options.WorkingDirectoryRoot, taskRunId), cache.Patterns, cache.Ttl, Time.GetUtcNow()).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            ReportBackgroundError(e); // a cache is an optimisation: the execution goes on without it
        }
    }

    /// <summary>Uploads the files of a WorkingDirectory matching its <c>outputFiles</c> globs and reports their URIs.</summary>
    private async Task CollectOutputFilesAsync(Execution execution, CollectOutputFiles collect)
    {
        var files = new Dictionary<string, object?>(StringComparer.Ordinal);
        try
        {
            var root = Path.Combine(_options.WorkingDirectoryRoot, collect.TaskRunId);
            if (Directory.Exists(root))
            {
                foreach (var (relative, path) in Windhover.Engine.Tasks.Core.LocalFilesTask.Match(root, collect.Patterns))
                {
                    var uri = StorageUri.ForTaskRun(execution.Namespace, execution.FlowId, execution.Id, collect.TaskId, collect.TaskRunId, relative);
                    await using var stream = File.OpenRead(path);
                    await _stores.Files.PutAsync(uri, stream).ConfigureAwait(false);
                    files[relative] = uri;
                }
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            ReportBackgroundError(e);
        }

        Post(execution.Id, new Envelope(new OutputFilesCollected(collect.TaskRunId, files, Time.GetUtcNow())));
    }

    // ================================================================ timers

    private void OnTimerDue(StoredTimer timer)
    {
        if (timer.IsRetryExecution)
        {
            _ = Task.Run(() => RetryExecutionAsync(timer));
        }
        else
        {
            Post(timer.ExecutionId, new Envelope(new TimerFired(timer.ToExecutorTimer(), Time.GetUtcNow())));
        }
    }

    private async Task RetryExecutionAsync(StoredTimer timer)
    {
        try
        {
            var retried = await _stores.Executions.GetAsync(timer.ExecutionId).ConfigureAwait(false);
            if (retried is not null)
            {
                var newId = IdGenerator.Derive(retried.Id, "retry-execution");
                if (await _stores.Executions.GetAsync(newId).ConfigureAwait(false) is null)
                {
                    var flow = (await _stores.Flows.GetAsync(retried.Namespace, retried.FlowId, retried.FlowRevision).ConfigureAwait(false))?.Flow
                        ?? throw new FlowNotFoundException(retried.Namespace, retried.FlowId, retried.FlowRevision);
                    var next = ExecutorEngine.CreateRetryExecution(retried, newId, Time.GetUtcNow());
                    await AdmitAsync(flow, next, CancellationToken.None).ConfigureAwait(false);
                }
            }

            await _stores.Timers.DeleteAsync(timer.Id).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            ReportBackgroundError(e);
        }
    }

    // ================================================================ recovery

    /// <summary>
    /// Resumes unfinished executions after a (crash) restart. The store holds the committed state of every step; this
    /// turns its durable traces back into work: CREATED executions start, RESTARTED ones continue their restart,
    /// runnable task runs that were CREATED or RUNNING are dispatched again (at-least-once: only a task that was
    /// interrupted can run twice, since finished tasks have a committed terminal state), KILLING ones end KILLED (their
    /// worker is gone), and RUNNING subflow task runs are matched with their child (ended: its result is delivered; never
    /// created: the start failed). Timers were reloaded from the store before this.
    /// </summary>
    private async Task RecoverAsync(CancellationToken cancellationToken)
    {
        var limited = new Dictionary<string, Flow>(StringComparer.Ordinal);
        foreach (var id in await _stores.Executions.UnfinishedAsync(cancellationToken).ConfigureAwait(false))
        {
            var execution = await _stores.Executions.GetAsync(id, cancellationToken).ConfigureAwait(false);
            if (execution is null)
            {
                continue;
            }

            var flow = (await _stores.Flows.GetAsync(execution.Namespace, execution.FlowId, execution.FlowRevision, cancellationToken).ConfigureAwait(false))?.Flow;
            if (flow is null)
            {
                ReportBackgroundError(new FlowNotFoundException(execution.Namespace, execution.FlowId, execution.FlowRevision));
                continue;
            }

            if (flow.Concurrency is not null)
            {
                limited.TryAdd(flow.Namespace + "\u001f" + flow.Id, flow);
            }

            var now = Time.GetUtcNow();
            switch (execution.State.Current)
            {
                case State.Queued:
                    break;
                case State.Created:
                    Post(id, new Envelope(new ExecutionCreated(now)), flow, execution);
                    break;
                case State.Restarted:
                    Post(id, new Envelope(new RestartExecution(now)), flow, execution);
                    break;
                default:
                    Post(id, new Envelope { Recover = true }, flow, execution);
                    break;
            }
        }

        foreach (var flow in limited.Values)
        {
            _ = Task.Run(() => DequeueAsync(flow));
        }
    }

    private async Task<Execution> RecoverStepAsync(Flow flow, Execution execution, List<WorkItem> work, Func<Execution, ExecutorEvent, Execution> step)
    {
        var index = FlowIndex.Of(flow);
        foreach (var taskRun in execution.TaskRunList.ToList())
        {
            if (index.Find(taskRun.TaskId) is not { } task)
            {
                continue;
            }

            var current = execution.FindTaskRun(taskRun.Id)!;
            var now = Time.GetUtcNow();
            switch (TaskKinds.Of(task.CanonicalType))
            {
                case TaskKind.Runnable when current.State.Current is State.Created or State.Restarted or State.Running:
                    var (wdId, wdTask) = WorkingDirectoryOf(index, execution, current);
                    work.Add(new RunTask(current, task, RunVariables.For(flow, execution, current, task, _options.Executor.Envs, _options.Executor.Globals), wdId, wdTask));
                    break;
                case TaskKind.WorkingDirectory when current.State.Current is State.Running
                    && current.Outputs is { } wdOutputs && wdOutputs.TryGetValue("outputFiles", out var pending) && pending is null:
                    // its outputFiles upload was requested but never answered: ask again
                    var patterns = Renderer.RenderObject(task.Properties.GetValueOrDefault("outputFiles"), RunVariables.ForExecution(flow, execution, _options.Executor.Envs, _options.Executor.Globals));
                    work.Add(new CollectOutputFiles(current.Id, task.Id, patterns is IReadOnlyList<object?> list ? [.. list.Select(Flows.Expressions.ExpressionValues.ToText)] : []));
                    break;
                case TaskKind.Runnable when current.State.Current is State.Killing:
                    execution = step(execution, new TaskResult(current.Id, State.Killed, now));
                    break;
                case TaskKind.Subflow when current.State.Current is State.Running or State.Killing
                    && current.Outputs?.GetValueOrDefault("executionId") is string childId:
                    var child = await _stores.Executions.GetAsync(childId).ConfigureAwait(false);
                    if (child is null)
                    {
                        execution = step(execution, new ChildStartFailed(current.Id, $"The child execution '{childId}' was not created before the runtime stopped", now));
                    }
                    else if (child.State.Current.IsTerminal())
                    {
                        var childFlow = (await _stores.Flows.GetAsync(child.Namespace, child.FlowId, child.FlowRevision).ConfigureAwait(false))?.Flow;
                        var variables = childFlow is null ? null : RunVariables.ForExecution(childFlow, child, _options.Executor.Envs, _options.Executor.Globals);
                        execution = step(execution, new ChildEnded(current.Id, new ChildExecutionSummary(child.Id, child.State.Current, child.Outputs, variables), now));
                    }

                    break;
            }
        }

        return execution;
    }

    private static (string? Id, TaskDefinition? Task) WorkingDirectoryOf(FlowIndex index, Execution execution, TaskRun taskRun)
    {
        for (var parentId = taskRun.ParentTaskRunId; parentId is not null && execution.FindTaskRun(parentId) is { } parent; parentId = parent.ParentTaskRunId)
        {
            if (index.Find(parent.TaskId) is { } parentTask && TaskKinds.Of(parentTask.CanonicalType) == TaskKind.WorkingDirectory)
            {
                return (parent.Id, parentTask);
            }
        }

        return (null, null);
    }

    // ================================================================ misc

    /// <summary>The run with the task-visible inputs (SECRET inputs decrypted) when they differ from the stored ones.</summary>
    private static RunTask WithInputs(RunTask run, IReadOnlyDictionary<string, object?>? inputs, IReadOnlyDictionary<string, object?>? stored)
    {
        if (ReferenceEquals(inputs, stored) || !run.Variables.ContainsKey("inputs"))
        {
            return run;
        }

        var variables = new Dictionary<string, object?>(run.Variables, StringComparer.Ordinal) { ["inputs"] = inputs };
        return run with { Variables = variables };
    }

    private static void TryDeleteDirectory(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

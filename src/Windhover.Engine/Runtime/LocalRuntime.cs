using System.Collections.Concurrent;
using System.Collections.Immutable;
using Windhover.Engine.Executions;
using Windhover.Engine.Executor;
using Windhover.Engine.Expressions;
using Windhover.Engine.Inputs;
using Windhover.Engine.Stores;
using Windhover.Engine.Tasks;
using Windhover.Engine.Worker;
using Windhover.Flows.Expressions;
using Windhover.Flows.Model;
using ExecutorEngine = Windhover.Engine.Executor.Executor;

namespace Windhover.Engine.Runtime;

/// <summary>
/// The single-process runtime: executor steps serialised per execution (different executions in parallel), each step
/// committed to the store (one transaction) before its work is dispatched, an in-process worker pool, durable timers,
/// child executions, flow concurrency limits, and recovery of unfinished executions on start.
/// </summary>
/// <remarks>
/// Durability rule: nothing leaves a step (work to workers, timers, children, notifications, completion of the caller's
/// task) before <see cref="IExecutionStore.SaveAsync"/> returned for it. A crash therefore loses at most in-memory
/// work whose durable trace (a CREATED/RUNNING task run, a timer row, a RUNNING subflow task run) recovery turns back into
/// work: see <see cref="RecoverAsync"/> and the at-least-once notes on <see cref="WorkerPool"/>.
/// </remarks>
public sealed partial class LocalRuntime : IAsyncDisposable, IExecutionControl
{
    private readonly StoreSet _stores;
    private readonly RuntimeOptions _options;
    private readonly ExecutorEngine _executor;
    private readonly SecretEncryption? _encryption;
    private readonly ConcurrentDictionary<string, ExecutionActor> _actors = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, List<TaskCompletionSource<Execution>>> _waiters = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _flowLocks = new(StringComparer.Ordinal);
    private readonly List<ExecutionSubscription> _subscriptions = [];
    private readonly TimerQueue _timers;
    private readonly CancellationTokenSource _stopping = new();
    private WorkerPool? _workers;
    private int _started;

    public LocalRuntime(StoreSet stores, RuntimeOptions? options = null)
    {
        _stores = stores ?? throw new ArgumentNullException(nameof(stores));
        _options = options ?? new RuntimeOptions();
        Expressions = _options.Expressions ?? new ExpressionEngine();
        Tasks = _options.Tasks ?? TaskRegistry.CreateDefault();
        Renderer = new ExpressionRenderer(Expressions, variables =>
            new RuntimeExpressionHost(RuntimeExpressionHost.NamespaceOf(variables) ?? "", _stores.Kv, _stores.Files, _options.Secrets,
                logs: _stores.Logs, executionId: RuntimeExpressionHost.ExecutionIdOf(variables)));
        _executor = new ExecutorEngine(Renderer, _options.Executor);
        _encryption = _options.EncryptionKey is { Length: > 0 } key ? new SecretEncryption(key) : null;
        _timers = new TimerQueue(Time, OnTimerDue);
        Services = new RunContextServices
        {
            Expressions = Expressions,
            Kv = _stores.Kv,
            Files = _stores.Files,
            Logs = _stores.Logs,
            TimeProvider = Time,
            Secrets = _options.Secrets,
            WorkingDirectoryRoot = _options.WorkingDirectoryRoot,
            Metrics = Metrics,
            Executions = this,
        };
    }

    public StoreSet Stores => _stores;

    /// <summary>Metrics recorded by task runs (the store's).</summary>
    public IMetricStore Metrics => _stores.Metrics;
    public ExpressionEngine Expressions { get; }
    public ExpressionRenderer Renderer { get; }
    public TaskRegistry Tasks { get; }
    public RunContextServices Services { get; }
    private TimeProvider Time => _options.TimeProvider;

    /// <summary>Starts the workers and timers and, unless disabled, resumes every unfinished execution of the store.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _started, 1) == 1)
        {
            return;
        }

        if (_options.Cluster is { } cluster)
        {
            await StartClusterAsync(cluster, cancellationToken).ConfigureAwait(false);
            return; // no in-memory timers and no start-up recovery: see LocalRuntime.Cluster.cs
        }

        _workers = new WorkerPool(Tasks, Services, OnWorkerReport, _options.Workers);
        foreach (var timer in await _stores.Timers.ListAsync(cancellationToken).ConfigureAwait(false))
        {
            _timers.Add(timer);
        }

        if (_options.Recover)
        {
            await RecoverAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    // ================================================================ public operations

    /// <summary>
    /// Validates the inputs (throws <see cref="InputValidationException"/>), creates the execution, applies the flow's
    /// concurrency limit (QUEUED, CANCELLED or FAILED when over it) and starts it. Returns the execution as committed.
    /// </summary>
    public async Task<Execution> CreateExecutionAsync(ExecutionRequest request, CancellationToken cancellationToken = default)
    {
        EnsureStarted();
        var record = await _stores.Flows.GetAsync(request.Namespace, request.FlowId, request.Revision, cancellationToken).ConfigureAwait(false)
            ?? throw new FlowNotFoundException(request.Namespace, request.FlowId, request.Revision);
        var flow = record.Flow;
        if (flow.Disabled)
        {
            throw new InvalidOperationException($"Cannot execute disabled flow '{flow.Namespace}.{flow.Id}'");
        }

        var id = request.ExecutionId ?? IdGenerator.Create();
        if (request.ExecutionId is not null && await _stores.Executions.GetAsync(id, cancellationToken).ConfigureAwait(false) is { } existing)
        {
            return existing;
        }

        var now = Time.GetUtcNow();
        var inputs = await FlowInputs.ReadAsync(flow.Inputs, request.Inputs, flow.Namespace, flow.Id, id,
            new InputContext { Files = _stores.Files, Expressions = Expressions, Variables = BaseVariables(flow, id, now), Encryption = _encryption,
                MissingRequiredAllowed = request.MissingRequiredInputsAllowed }, cancellationToken).ConfigureAwait(false);

        var labels = new List<ExecutionLabel>();
        foreach (var label in flow.Labels.Select(l => new ExecutionLabel(l.Key, l.Value)).Concat(request.Labels))
        {
            labels.RemoveAll(l => l.Key == label.Key);
            labels.Add(label);
        }

        if (!labels.Any(l => l.Key == "system.correlationId"))
        {
            labels.Add(new ExecutionLabel("system.correlationId", id));
        }

        var execution = Execution.Create(id, flow.Namespace, flow.Id, record.Revision, now, inputs.Count == 0 && flow.Inputs.IsEmpty ? null : inputs, labels, request.Trigger)
            with { ParentId = request.ParentId, ScheduleDate = request.ScheduleDate };
        return await AdmitAsync(flow, execution, cancellationToken, request.ReturnCreated, request.DeferStart).ConfigureAwait(false);
    }

    /// <summary>Completes when the execution is terminal (immediately if it already is).</summary>
    public async Task<Execution> WaitForTerminalAsync(string executionId, CancellationToken cancellationToken = default)
    {
        var tcs = new TaskCompletionSource<Execution>(TaskCreationOptions.RunContinuationsAsynchronously);
        var list = _waiters.GetOrAdd(executionId, _ => []);
        lock (list)
        {
            list.Add(tcs);
        }

        var stored = await _stores.Executions.GetAsync(executionId, cancellationToken).ConfigureAwait(false) ?? throw new ExecutionNotFoundException(executionId);
        if (stored.State.Current.IsTerminal() && !_actors.ContainsKey(executionId))
        {
            tcs.TrySetResult(stored);
        }

        using var registration = cancellationToken.Register(() => tcs.TrySetCanceled(cancellationToken));
        return await tcs.Task.ConfigureAwait(false);
    }

    /// <summary>Kills the execution; running task runs are cancelled and running children killed (cascade).</summary>
    public Task<Execution> KillAsync(string executionId, CancellationToken cancellationToken = default) =>
        PostAsync(executionId, new Envelope(new KillExecution(Time.GetUtcNow())));

    /// <summary>Restarts a FAILED/KILLED/WARNING execution from its failed task runs (Kestra's restart).</summary>
    public async Task<Execution> RestartAsync(string executionId, CancellationToken cancellationToken = default)
    {
        var execution = await GetRequiredAsync(executionId, cancellationToken).ConfigureAwait(false);
        if (execution.State.Current is not (State.Failed or State.Killed or State.Cancelled or State.Warning))
        {
            throw new InvalidOperationException($"Execution '{executionId}' is {execution.State.Current.ToKestraName()} and cannot be restarted");
        }

        return await PostAsync(executionId, new Envelope(Mutate: (flow, current) =>
        {
            var now = Time.GetUtcNow();
            var prepared = current.State.Current.IsTerminal() ? ExecutorEngine.PrepareRestart(flow, current, now) : current;
            return (prepared, new RestartExecution(now));
        }) { AnswerPrepared = true }).ConfigureAwait(false);
    }

    /// <summary>Resumes a PAUSED execution with validated <c>onResume</c> inputs.</summary>
    public async Task<Execution> ResumeAsync(string executionId, IReadOnlyDictionary<string, object?>? inputs = null, CancellationToken cancellationToken = default)
    {
        var execution = await GetRequiredAsync(executionId, cancellationToken).ConfigureAwait(false);
        if (execution.State.Current != State.Paused)
        {
            throw new InvalidOperationException($"Execution '{executionId}' is {execution.State.Current.ToKestraName()}, only a PAUSED execution can be resumed");
        }

        var flow = (await _stores.Flows.GetAsync(execution.Namespace, execution.FlowId, execution.FlowRevision, cancellationToken).ConfigureAwait(false)
            ?? throw new FlowNotFoundException(execution.Namespace, execution.FlowId, execution.FlowRevision)).Flow;
        var declared = OnResumeInputs(flow, execution);
        if (declared is not null)
        {
            // As Kestra: a Pause with onResume declarations validates (typed, defaults, required) what the resume gives.
            inputs = await FlowInputs.ReadAsync(declared, inputs, execution.Namespace, execution.FlowId, execution.Id,
                new InputContext { Files = _stores.Files, Expressions = Expressions, Variables = BaseVariables(flow, execution.Id, Time.GetUtcNow()), Encryption = _encryption },
                cancellationToken).ConfigureAwait(false);
        }

        return await PostAsync(executionId, new Envelope(new ResumeExecution(Time.GetUtcNow(), inputs))).ConfigureAwait(false);
    }

    /// <summary>The <c>onResume</c> declarations of the paused Pause task runs, or null when none declares any (inputs pass as given).</summary>
    private static List<Windhover.Flows.Model.InputDefinition>? OnResumeInputs(Flow flow, Execution execution)
    {
        var index = FlowIndex.Of(flow);
        List<Windhover.Flows.Model.InputDefinition>? declared = null;
        foreach (var taskRun in execution.TaskRunList.Where(t => t.State.Current == State.Paused))
        {
            if (index.Find(taskRun.TaskId) is { } task && TaskKinds.Of(task.CanonicalType) == TaskKind.Pause
                && task.Properties.GetValueOrDefault("onResume") is IEnumerable<object?> list)
            {
                declared ??= [];
                declared.AddRange(list.OfType<IReadOnlyDictionary<string, object?>>().Select(InputDeclarations.FromProperties)
                    .Where(d => declared.All(existing => existing.Id != d.Id)));
            }
        }

        return declared;
    }

    /// <summary>
    /// Pauses a RUNNING execution (Kestra's POST /executions/{id}/pause): task runs already running finish, nothing new
    /// starts until it is resumed (<see cref="ResumeAsync"/>) or killed.
    /// </summary>
    public Task<Execution> PauseAsync(string executionId, CancellationToken cancellationToken = default) =>
        PostAsync(executionId, new Envelope(Mutate: (_, execution) => execution.State.Current == State.Running
            ? (execution.WithState(State.Paused, Time.GetUtcNow()), null)
            : throw new InvalidOperationException($"Execution '{executionId}' is {execution.State.Current.ToKestraName()}, only a RUNNING execution can be paused")));

    /// <summary>
    /// Changes the state of a terminated execution to another terminal state (Kestra's POST /executions/{id}/change-status),
    /// e.g. a FAILED execution marked WARNING after a manual fix. Task runs are left as they are.
    /// </summary>
    public Task<Execution> ChangeStatusAsync(string executionId, State state, CancellationToken cancellationToken = default)
    {
        if (!state.IsTerminal())
        {
            throw new ArgumentException($"The status of an execution can only be changed to a terminal state, not {state.ToKestraName()}", nameof(state));
        }

        return PostAsync(executionId, new Envelope(Mutate: (_, execution) =>
        {
            if (!execution.State.Current.IsTerminal())
            {
                throw new InvalidOperationException($"Execution '{executionId}' is {execution.State.Current.ToKestraName()}: only a terminated execution can change status");
            }

            return (execution.State.Current == state ? execution : execution.WithState(state, Time.GetUtcNow()), null);
        }));
    }

    /// <summary>
    /// Renders <paramref name="expression"/> with the variables a task of <paramref name="taskRunId"/> sees (Kestra's
    /// POST /executions/{id}/eval/{taskRunId}). Throws <see cref="Windhover.Flows.Expressions.ExpressionException"/> when it does not render.
    /// </summary>
    public async Task<string> EvaluateAsync(string executionId, string taskRunId, string expression, CancellationToken cancellationToken = default)
    {
        var execution = await GetRequiredAsync(executionId, cancellationToken).ConfigureAwait(false);
        var taskRun = execution.FindTaskRun(taskRunId) ?? throw new TaskRunNotFoundException(executionId, taskRunId);
        var flow = (await _stores.Flows.GetAsync(execution.Namespace, execution.FlowId, execution.FlowRevision, cancellationToken).ConfigureAwait(false)
            ?? throw new FlowNotFoundException(execution.Namespace, execution.FlowId, execution.FlowRevision)).Flow;
        var task = FlowIndex.Of(flow).Find(taskRun.TaskId);
        return Renderer.Render(expression, RunVariables.For(flow, execution, taskRun, task, _options.Executor.Envs, _options.Executor.Globals));
    }

    /// <summary>Replaces the execution labels (system labels kept unless given).</summary>
    public Task<Execution> SetLabelsAsync(string executionId, IEnumerable<ExecutionLabel> labels, CancellationToken cancellationToken = default)
    {
        var given = labels.ToList();
        return PostAsync(executionId, new Envelope(Mutate: (_, execution) =>
        {
            var merged = execution.Labels.Where(l => l.Key.StartsWith("system.", StringComparison.Ordinal) && given.All(g => g.Key != l.Key)).Concat(given);
            return (execution with { Labels = [.. merged] }, null);
        }));
    }

    /// <summary>
    /// Forces a task run to <paramref name="state"/> (Kestra's markAs, POST /executions/{id}/state): see
    /// <see cref="ExecutorEngine.PrepareMarkAs"/>; the execution is restarted so the flow continues from there.
    /// </summary>
    public Task<Execution> ForceTaskRunStateAsync(string executionId, string taskRunId, State state, CancellationToken cancellationToken = default) =>
        PostAsync(executionId, new Envelope(Mutate: (flow, execution) =>
        {
            var now = Time.GetUtcNow();
            return (ExecutorEngine.PrepareMarkAs(flow, execution, taskRunId, state, now), new RestartExecution(now));
        }) { AnswerPrepared = true });

    /// <summary>
    /// Replays an execution as a new one (<see cref="ExecutorEngine.PrepareReplay"/>): from the start, or from
    /// <paramref name="taskRunId"/> (earlier task runs are kept, it and its parents run again).
    /// </summary>
    public async Task<Execution> ReplayAsync(string executionId, string? taskRunId = null, CancellationToken cancellationToken = default)
    {
        EnsureStarted();
        var original = await GetRequiredAsync(executionId, cancellationToken).ConfigureAwait(false);
        var flow = (await _stores.Flows.GetAsync(original.Namespace, original.FlowId, original.FlowRevision, cancellationToken).ConfigureAwait(false)
            ?? throw new FlowNotFoundException(original.Namespace, original.FlowId, original.FlowRevision)).Flow;
        var now = Time.GetUtcNow();
        var replay = ExecutorEngine.PrepareReplay(flow, original, taskRunId, IdGenerator.Create(), now);
        if (taskRunId is null)
        {
            return await AdmitAsync(flow, replay, cancellationToken, returnCreated: true).ConfigureAwait(false);
        }

        // As Kestra, the answer is the replay as prepared (RESTARTED); it is durable before it starts.
        await SaveNewAsync(replay, cancellationToken).ConfigureAwait(false);
        Post(replay.Id, new Envelope(new RestartExecution(now)), flow, replay);
        return replay;
    }

    /// <summary>The execution as last committed (the live one while it runs), or null when unknown.</summary>
    public async Task<Execution?> GetExecutionAsync(string executionId, CancellationToken cancellationToken = default)
    {
        try
        {
            return await GetRequiredAsync(executionId, cancellationToken).ConfigureAwait(false);
        }
        catch (ExecutionNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Follows one execution: every committed step, completing after the terminal one.</summary>
    public ExecutionSubscription Subscribe(string? executionId = null)
    {
        var subscription = new ExecutionSubscription(executionId, s =>
        {
            lock (_subscriptions)
            {
                _subscriptions.Remove(s);
            }
        });
        lock (_subscriptions)
        {
            _subscriptions.Add(subscription);
        }

        return subscription;
    }

    // ================================================================ admission and concurrency

    private async Task<Execution> AdmitAsync(Flow flow, Execution execution, CancellationToken cancellationToken, bool returnCreated = false, bool deferStart = false)
    {
        if (flow.Concurrency is not { } concurrency)
        {
            if (_options.Cluster is not null && !deferStart)
            {
                // Cluster mode: the execution is inserted by its first step's transaction (one commit, not two), and
                // answered once that is durable.
                var envelope = new Envelope(new ExecutionCreated(Time.GetUtcNow())) { Durable = new(TaskCreationOptions.RunContinuationsAsynchronously) };
                Post(execution.Id, envelope, flow, execution, unsaved: true);
                if (!returnCreated)
                {
                    return await envelope.Done.Task.ConfigureAwait(false);
                }

                await envelope.Durable.Task.ConfigureAwait(false);
                return execution;
            }

            await SaveNewAsync(execution, cancellationToken).ConfigureAwait(false);
            if (deferStart)
            {
                return execution;
            }

            var started = PostAsync(execution.Id, new Envelope(new ExecutionCreated(Time.GetUtcNow())), flow, execution);
            return returnCreated ? execution : await started.ConfigureAwait(false);
        }

        var gate = FlowLock(flow);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        IAsyncDisposable? clusterGate = null;
        try
        {
            // Cluster mode: the count and the admission are serialised across nodes too.
            clusterGate = _options.Cluster is { } cluster ? await cluster.LockFlowAsync(flow.Namespace, flow.Id, cancellationToken).ConfigureAwait(false) : null;
            var running = await CountActiveAsync(flow, cancellationToken).ConfigureAwait(false);
            if (running >= concurrency.Limit)
            {
                var now = Time.GetUtcNow();
                var limited = concurrency.Behavior switch
                {
                    ConcurrencyBehavior.Queue => execution.WithState(State.Queued, now),
                    ConcurrencyBehavior.Cancel => execution.WithState(State.Cancelled, now),
                    _ => execution.WithState(State.Failed, now),
                };
                await SaveNewAsync(limited, cancellationToken).ConfigureAwait(false);
                if (concurrency.Behavior == ConcurrencyBehavior.Fail)
                {
                    await AppendLogsAsync(limited, [new EmitLog(ExecutorLogLevel.Error, "Flow is FAILED due to concurrency limit exceeded", now)]).ConfigureAwait(false);
                }

                if (limited.State.Current.IsTerminal())
                {
                    Publish(limited);
                    CompleteWaiters(limited);
                }

                // Kestra's API answers CREATED: queueing or refusing is the executor's later decision (in the history).
                return returnCreated ? execution : limited;
            }

            await SaveNewAsync(execution, cancellationToken).ConfigureAwait(false);
            if (deferStart)
            {
                return execution;
            }

            var admitted = PostAsync(execution.Id, new Envelope(new ExecutionCreated(Time.GetUtcNow())), flow, execution);
            return returnCreated ? execution : await admitted.ConfigureAwait(false);
        }
        finally
        {
            if (clusterGate is not null)
            {
                await clusterGate.DisposeAsync().ConfigureAwait(false);
            }

            gate.Release();
        }
    }

    private SemaphoreSlim FlowLock(Flow flow) => _flowLocks.GetOrAdd(flow.Namespace + "\u001f" + flow.Id, _ => new SemaphoreSlim(1, 1));

    private static readonly ImmutableArray<State> ActiveStates =
        [State.Created, State.Running, State.Paused, State.Restarted, State.Killing, State.Retrying];

    private Task<long> CountActiveAsync(Flow flow, CancellationToken cancellationToken) =>
        _stores.Executions.CountAsync(new ExecutionQuery { Namespace = flow.Namespace, FlowId = flow.Id, States = ActiveStates }, cancellationToken);

    /// <summary>After an execution of a concurrency-limited flow ended: start QUEUED ones while under the limit, oldest first.</summary>
    private async Task DequeueAsync(Flow flow)
    {
        if (flow.Concurrency is not { } concurrency)
        {
            return;
        }

        var gate = FlowLock(flow);
        await gate.WaitAsync().ConfigureAwait(false);
        IAsyncDisposable? clusterGate = null;
        try
        {
            clusterGate = _options.Cluster is { } cluster ? await cluster.LockFlowAsync(flow.Namespace, flow.Id, CancellationToken.None).ConfigureAwait(false) : null;
            while (await CountActiveAsync(flow, CancellationToken.None).ConfigureAwait(false) < concurrency.Limit)
            {
                var next = await _stores.Executions.SearchAsync(new ExecutionQuery
                {
                    Namespace = flow.Namespace,
                    FlowId = flow.Id,
                    States = [State.Queued],
                    Ascending = true,
                    Size = 1,
                }).ConfigureAwait(false);
                if (next.Results.Count == 0 || next.Results[0].Namespace != flow.Namespace)
                {
                    return;
                }

                var started = await PostAsync(next.Results[0].Id, new Envelope(new ExecutionCreated(Time.GetUtcNow()))).ConfigureAwait(false);
                if (started.State.Current == State.Queued)
                {
                    return; // the executor would not start it: avoid spinning
                }
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            ReportBackgroundError(e);
        }
        finally
        {
            if (clusterGate is not null)
            {
                await clusterGate.DisposeAsync().ConfigureAwait(false);
            }

            gate.Release();
        }
    }

    // ================================================================ helpers

    private async Task<Execution> GetRequiredAsync(string executionId, CancellationToken cancellationToken)
    {
        if (_actors.TryGetValue(executionId, out var actor) && actor.Current is { } current)
        {
            return current;
        }

        return await _stores.Executions.GetAsync(executionId, cancellationToken).ConfigureAwait(false) ?? throw new ExecutionNotFoundException(executionId);
    }

    private async Task SaveNewAsync(Execution execution, CancellationToken cancellationToken) =>
        await _stores.Executions.SaveAsync(execution, ExecutionChanges.Between(null, execution), cancellationToken).ConfigureAwait(false);

    private Dictionary<string, object?> BaseVariables(Flow flow, string executionId, DateTimeOffset now) => new()
    {
        ["flow"] = new Dictionary<string, object?> { ["id"] = flow.Id, ["namespace"] = flow.Namespace },
        ["execution"] = new Dictionary<string, object?> { ["id"] = executionId, ["startDate"] = now },
        ["envs"] = _options.Executor.Envs,
        ["globals"] = _options.Executor.Globals,
    };

    private void EnsureStarted()
    {
        if (Volatile.Read(ref _started) == 0)
        {
            throw new InvalidOperationException("Call StartAsync before using the runtime");
        }
    }

    /// <summary>
    /// Raised (synchronously, after the step is durable) for every committed step whose state is terminal; unlike
    /// <see cref="Subscribe"/> it never drops. Handlers must not block (Flow triggers queue the execution).
    /// </summary>
    public event Action<Execution>? ExecutionEnded;

    /// <summary>
    /// Raised (synchronously, after the step is durable) for every committed step that moved the execution to another
    /// non-terminal state (RUNNING, PAUSED, ...): Flow triggers with such <c>states</c>. Handlers must not block.
    /// </summary>
    public event Action<Execution>? ExecutionStateChanged;

    private void Publish(Execution execution)
    {
        _options.OnStep?.Invoke(execution);
        if (execution.State.Current.IsTerminal() && ExecutionEnded is { } ended)
        {
            try
            {
                ended(execution);
            }
            catch (Exception e)
            {
                ReportBackgroundError(e);
            }
        }

        ExecutionSubscription[] subscribers;
        lock (_subscriptions)
        {
            if (_subscriptions.Count == 0)
            {
                return;
            }

            subscribers = [.. _subscriptions];
        }

        foreach (var subscription in subscribers)
        {
            if (subscription.ExecutionId is null || subscription.ExecutionId == execution.Id)
            {
                subscription.Publish(execution);
            }
        }
    }

    private void CompleteWaiters(Execution execution)
    {
        if (!_waiters.TryRemove(execution.Id, out var list))
        {
            return;
        }

        lock (list)
        {
            foreach (var waiter in list)
            {
                waiter.TrySetResult(execution);
            }
        }
    }

    private async Task AppendLogsAsync(Execution execution, IReadOnlyList<EmitLog> logs)
    {
        if (logs.Count == 0)
        {
            return;
        }

        try
        {
            await _stores.Logs.AppendAsync([.. logs.Select(l => new LogEntry
            {
                Namespace = execution.Namespace,
                FlowId = execution.FlowId,
                ExecutionId = execution.Id,
                TaskRunId = l.TaskRunId,
                TaskId = l.TaskId,
                Timestamp = l.Timestamp,
                Level = l.Level,
                Message = l.Message,
            })]).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            ReportBackgroundError(e);
        }
    }

    /// <summary>Errors of background work (never thrown to a caller). Visible for tests and hosts.</summary>
    public event Action<Exception>? BackgroundError;

    private void ReportBackgroundError(Exception e) => BackgroundError?.Invoke(e);

    private int _disposeCalls;

    /// <summary>Stops the runtime; a second call (the host and the DI container both dispose it) does nothing.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Increment(ref _disposeCalls) != 1)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        _timers.Dispose();
        if (_options.Cluster is not null)
        {
            await StopClusterAsync().ConfigureAwait(false);
        }

        if (_workers is not null)
        {
            await _workers.DisposeAsync().ConfigureAwait(false);
        }

        foreach (var actor in _actors.Values)
        {
            await actor.IdleAsync().WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }

        _stopping.Dispose();
    }
}

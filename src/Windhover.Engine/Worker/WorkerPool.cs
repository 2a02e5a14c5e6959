using System.Collections.Concurrent;
using System.Threading.Channels;
using Windhover.Engine.Executions;
using Windhover.Engine.Executor;
using Windhover.Engine.Serialization;
using Windhover.Engine.Tasks;
using Windhover.Engine.Tasks.Core;

namespace Windhover.Engine.Worker;

/// <summary>A runnable task run handed to the worker pool, with the secret values to mask in its logs.</summary>
public sealed record WorkerJob(RunTask Work, IReadOnlyCollection<string> Secrets);

/// <summary>What a worker reports back: an executor event plus the host requests of the outcome (labels, exit).</summary>
public sealed record WorkerReport(string ExecutionId, TaskResult Result, TaskOutcome? Outcome);

/// <summary>
/// A pool of in-process workers reading jobs from a channel. Each job: report RUNNING, run the task with a token that
/// fires on kill, on the task's <c>timeout</c> (through the injected TimeProvider) or on shutdown, flush its logs, report
/// the terminal state.
/// <para>
/// At-least-once, in the Hangfire manner: a job lives only in memory. The durable record of "this task must run" is
/// the task run row in the store (CREATED or RUNNING in a non-terminal execution), written by the executor step that
/// dispatched it before the job reached this channel. If the process dies while a job is queued or running, nothing
/// reports a result, the row stays CREATED/RUNNING, and the runtime re-dispatches it on the next start: the task may
/// run twice (it was interrupted), never zero times. Exactly-once state comes from the executor: a result for a task
/// run that is no longer RUNNING (killed, already finished, retried) is ignored, and each result is applied in the
/// execution's serial step order. On shutdown a cancelled task reports nothing, for the same reason.
/// </para>
/// </summary>
public sealed class WorkerPool : IAsyncDisposable
{
    private readonly Channel<WorkerJob> _jobs = Channel.CreateUnbounded<WorkerJob>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _running = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _killed = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _shutdown = new();
    private readonly TaskRegistry _registry;
    private readonly RunContextServices _services;
    private readonly Func<WorkerReport, ValueTask> _report;
    private readonly Task[] _loops;
    private readonly string _workerId;

    public WorkerPool(TaskRegistry registry, RunContextServices services, Func<WorkerReport, ValueTask> report, int workers, string? workerId = null)
    {
        _registry = registry;
        _services = services;
        _report = report;
        _workerId = workerId ?? $"{Environment.MachineName}/{Environment.ProcessId}";
        _loops = new Task[Math.Max(1, workers)];
        for (var i = 0; i < _loops.Length; i++)
        {
            _loops[i] = Task.Run(LoopAsync);
        }
    }

    private TimeProvider Time => _services.TimeProvider;

    public int Running => _running.Count;

    public void Enqueue(WorkerJob job) => _jobs.Writer.TryWrite(job);

    /// <summary>Stops a running (or still queued) task run; it reports KILLED.</summary>
    public void Kill(string taskRunId)
    {
        _killed[taskRunId] = 0;
        if (_running.TryGetValue(taskRunId, out var cts))
        {
            try
            {
                cts.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    private async Task LoopAsync()
    {
        try
        {
            await foreach (var job in _jobs.Reader.ReadAllAsync(_shutdown.Token).ConfigureAwait(false))
            {
                await RunAsync(job).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_shutdown.IsCancellationRequested)
        {
        }
    }

    private async Task RunAsync(WorkerJob job)
    {
        var run = job.Work;
        var taskRunId = run.TaskRun.Id;
        if (_killed.TryRemove(taskRunId, out _))
        {
            await Report(run, State.Killed, null).ConfigureAwait(false);
            return;
        }

        await Report(run, State.Running, null).ConfigureAwait(false);
        var context = new RunContext(run, _services, job.Secrets, _workerId);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(_shutdown.Token);
        _running[taskRunId] = cts;
        CancellationTokenSource? timeoutCts = null;
        TimeSpan? timeout = null;
        TaskOutcome? outcome = null;
        var state = State.Failed;
        try
        {
            if (!string.IsNullOrWhiteSpace(run.Task.Timeout))
            {
                timeout = KestraJson.ParseDuration(context.RenderString(run.Task.Timeout));
                timeoutCts = new CancellationTokenSource(timeout.Value, Time);
                timeoutCts.Token.Register(static s => ((CancellationTokenSource)s!).Cancel(), cts);
            }

            if (_killed.ContainsKey(taskRunId))
            {
                await cts.CancelAsync().ConfigureAwait(false);
            }

            if (!_registry.TryGet(run.Task.CanonicalType, out var task) && !_registry.TryGet(run.Task.Type, out task))
            {
                throw new TaskFailedException($"No worker implementation for task type '{run.Task.Type}'");
            }

            cts.Token.ThrowIfCancellationRequested();
            outcome = await task.RunAsync(context, cts.Token).ConfigureAwait(false);
            state = outcome.State;
        }
        catch (OperationCanceledException) when (_killed.ContainsKey(taskRunId))
        {
            context.Logger.Warn($"Task '{run.Task.Id}' was killed");
            state = State.Killed;
        }
        catch (OperationCanceledException) when (timeoutCts?.IsCancellationRequested == true)
        {
            context.Logger.Error($"Timeout after {KestraJson.FormatDuration(timeout!.Value)}");
            state = State.Failed;
        }
        catch (OperationCanceledException) when (_shutdown.IsCancellationRequested)
        {
            // Shutting down: report nothing; the task run stays RUNNING in the store and is re-dispatched on restart.
            _running.TryRemove(taskRunId, out _);
            await FlushQuietly(context).ConfigureAwait(false);
            context.CleanUp();
            return;
        }
        catch (Exception e) when (e is TaskFailedException or TaskPropertyException or Flows.Expressions.ExpressionException)
        {
            context.Logger.Error(e.Message);
            state = State.Failed;
        }
        catch (Exception e)
        {
            context.Logger.Error($"{e.GetType().Name}: {e.Message}");
            state = State.Failed;
        }
        finally
        {
            timeoutCts?.Dispose();
            _running.TryRemove(taskRunId, out _);
            _killed.TryRemove(taskRunId, out _);
        }

        await FlushQuietly(context).ConfigureAwait(false);
        var logFile = run.Task.LogToFile ? await WriteLogFileQuietly(context).ConfigureAwait(false) : null;
        context.CleanUp();
        await Report(run, state, state is State.Success or State.Warning ? outcome : null, logFile).ConfigureAwait(false);
    }

    /// <summary><c>logToFile</c>: the attempt's log lines go to a file of internal storage (the attempt's <c>logFile</c>).</summary>
    private static async Task<string?> WriteLogFileQuietly(RunContext context)
    {
        try
        {
            var text = new System.Text.StringBuilder();
            lock (context.Logger.Entries)
            {
                foreach (var entry in context.Logger.Entries)
                {
                    text.Append(KestraJson.FormatDate(entry.Timestamp)).Append(' ')
                        .Append(entry.Level.ToString().ToUpperInvariant()).Append(' ')
                        .Append(entry.Message).Append('\n');
                }
            }

            await using var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(text.ToString()));
            return await context.PutFileAsync($"log-{context.AttemptNumber - 1}.txt", stream).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return null; // logs are best effort
        }
    }

    private static async Task FlushQuietly(RunContext context)
    {
        try
        {
            await context.Logger.FlushAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Logs are best effort; the result matters more.
        }
    }

    private ValueTask Report(RunTask run, State state, TaskOutcome? outcome, string? logFile = null) =>
        _report(new WorkerReport(run.TaskRun.ExecutionId, new TaskResult(run.TaskRun.Id, state, Time.GetUtcNow(), outcome?.Outputs, LogFile: logFile, WorkerId: _workerId), outcome));

    public async ValueTask DisposeAsync()
    {
        _jobs.Writer.TryComplete();
        await _shutdown.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_loops).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }

        _shutdown.Dispose();
    }
}

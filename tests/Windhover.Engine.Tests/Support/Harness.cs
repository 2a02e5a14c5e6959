using System.Collections.Immutable;
using Windhover.Engine.Executions;
using Windhover.Engine.Executor;
using Windhover.Engine.Expressions;
using Windhover.Flows.Model;
using ExecutorType = Windhover.Engine.Executor.Executor;

namespace Windhover.Engine.Tests.Support;

/// <summary>The result a simulated worker produces for one attempt.</summary>
internal sealed record WorkerOutcome(State State, IReadOnlyDictionary<string, object?>? Outputs = null);

/// <summary>
/// Drives the pure executor without a database: plays the worker for runnable tasks (Return, Log, Fail, OutputValues,
/// or a per-task override), fires timers in due order on a fake clock, and answers child executions in-test.
/// </summary>
internal sealed class Harness
{
    private readonly List<ExecutorTimer> _timers = [];
    private readonly Queue<WorkItem> _queue = new();

    public Harness(Flow flow, IReadOnlyDictionary<string, object?>? inputs = null, IEnumerable<ExecutionLabel>? labels = null)
    {
        Flow = flow;
        Execution = Execution.Create("exec0000000000000000001", flow.Namespace, flow.Id, flow.Revision ?? 1, Now, inputs, labels);
    }

    public static IRenderer Renderer { get; } = new ExpressionRenderer();

    public ExecutorType Executor { get; } = new(Renderer);
    public Flow Flow { get; }
    public Execution Execution { get; private set; }
    public DateTimeOffset Now { get; private set; } = new(2024, 12, 20, 10, 0, 0, TimeSpan.Zero);
    public TimeSpan TaskDuration { get; set; } = TimeSpan.FromMilliseconds(10);
    public List<WorkItem> AllWork { get; } = [];
    public List<ExecutorStep> Steps { get; } = [];
    public TimeSpan ApplyTime { get; private set; }

    /// <summary>Per task id: the outcome of the n-th attempt (0-based) given the dispatched work.</summary>
    public Dictionary<string, Func<RunTask, int, WorkerOutcome>> Workers { get; } = [];

    /// <summary>Answers StartChild work; null leaves the child running.</summary>
    public Func<StartChild, ChildExecutionSummary?>? Children { get; set; }

    /// <summary>When false, RunTask work stays queued in <see cref="Pending"/> (to test kill and stale results).</summary>
    public bool AutoRun { get; set; } = true;

    public List<RunTask> Pending { get; } = [];

    public Harness Start() => Apply(new ExecutionCreated(Now));

    public Harness Apply(ExecutorEvent @event)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var step = Executor.Apply(Flow, Execution, @event);
        ApplyTime += watch.Elapsed;
        Steps.Add(step);
        Execution = step.Execution;
        foreach (var item in step.Work)
        {
            AllWork.Add(item);
            if (!AutoRun && item is RunTask pending)
            {
                Pending.Add(pending);
                continue;
            }

            _queue.Enqueue(item);
        }

        return this;
    }

    /// <summary>Processes work and timers until nothing is left (or the execution waits for someone outside).</summary>
    public Harness Run(int maxEvents = 10_000)
    {
        for (var i = 0; i < maxEvents; i++)
        {
            if (_queue.TryDequeue(out var item))
            {
                Process(item);
                continue;
            }

            if (_timers.Count > 0)
            {
                var timer = _timers.OrderBy(t => t.DueAt).First();
                _timers.Remove(timer);
                if (timer.DueAt > Now)
                {
                    Now = timer.DueAt;
                }

                Apply(new TimerFired(timer, Now));
                continue;
            }

            return this;
        }

        throw new InvalidOperationException("The harness did not finish");
    }

    public Harness RunToEnd(int maxEvents = 10_000) => Start().Run(maxEvents);

    private void Process(WorkItem item)
    {
        switch (item)
        {
            case RunTask run when AutoRun:
                RunWorker(run);
                break;
            case RunTask run:
                Pending.Add(run);
                break;
            case SetTimer timer:
                _timers.Add(timer.Timer);
                break;
            case StartChild child when Children?.Invoke(child) is { } summary:
                Tick();
                Apply(new ChildEnded(child.TaskRun.Id, summary, Now));
                break;
        }
    }

    public void RunWorker(RunTask run)
    {
        var attempt = run.TaskRun.AttemptCount;
        Tick();
        Apply(new TaskResult(run.TaskRun.Id, State.Running, Now));
        Now += TaskDuration;
        var outcome = Workers.TryGetValue(run.Task.Id, out var worker) ? worker(run, attempt) : DefaultWorker(run);
        Apply(new TaskResult(run.TaskRun.Id, outcome.State, Now, outcome.Outputs));
    }

    private void Tick() => Now += TimeSpan.FromMilliseconds(1);

    public static WorkerOutcome DefaultWorker(RunTask run)
    {
        try
        {
            return run.Task.CanonicalType switch
            {
                F.Return => new WorkerOutcome(State.Success, new Dictionary<string, object?>
                {
                    ["value"] = Renderer.Render(run.Task.Properties["format"] as string ?? "", run.Variables),
                }),
                F.Fail => new WorkerOutcome(State.Failed),
                F.OutputValues => new WorkerOutcome(State.Success, new Dictionary<string, object?>
                {
                    ["values"] = Renderer.RenderObject(run.Task.Properties["values"], run.Variables),
                }),
                _ => RenderAll(run),
            };
        }
        catch (Windhover.Flows.Expressions.ExpressionException)
        {
            return new WorkerOutcome(State.Failed);
        }
    }

    private static WorkerOutcome RenderAll(RunTask run)
    {
        foreach (var (_, value) in run.Task.Properties)
        {
            if (value is string)
            {
                Renderer.RenderObject(value, run.Variables);
            }
        }

        return new WorkerOutcome(State.Success);
    }

    // ------------------------------------------------------------ assertions helpers

    public TaskRun Run(string taskId, string? value = null) =>
        Execution.TaskRunList.Single(t => t.TaskId == taskId && (value is null || t.Value == value));

    public IEnumerable<TaskRun> Runs(string taskId) => Execution.TaskRunList.Where(t => t.TaskId == taskId);

    public State StateOf(string taskId) => Run(taskId).State.Current;

    public int Count => Execution.TaskRunList.Length;

    public IEnumerable<T> WorkOf<T>() where T : WorkItem => AllWork.OfType<T>();

    public State[] History(string? taskId = null) =>
        [.. (taskId is null ? Execution.State : Run(taskId).State).Histories.Select(h => h.State)];
}

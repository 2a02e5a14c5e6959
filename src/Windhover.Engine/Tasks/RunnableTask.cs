using System.Collections.Frozen;
using System.Collections.Immutable;
using Windhover.Engine.Executions;

namespace Windhover.Engine.Tasks;

/// <summary>
/// A runnable task type (the part of a task that runs on a worker). Implementations are stateless singletons: every
/// property comes from <see cref="RunContext"/> (rendered on demand), every result goes into the returned
/// <see cref="TaskOutcome"/>. Throwing fails the attempt (the exception message is logged at ERROR); cancellation
/// of <paramref name="cancellationToken"/> means kill or timeout, which the worker reports itself.
/// </summary>
public interface IRunnableTask
{
    Task<TaskOutcome> RunAsync(RunContext context, CancellationToken cancellationToken);
}

/// <summary>How an attempt ended: its state (SUCCESS, WARNING, FAILED), outputs, and requests to the host.</summary>
public sealed record TaskOutcome
{
    public State State { get; init; } = State.Success;
    public IReadOnlyDictionary<string, object?>? Outputs { get; init; }

    /// <summary>Labels to merge into the execution (same key replaced), applied by the host with the result.</summary>
    public ImmutableArray<ExecutionLabel> Labels { get; init; } = [];

    /// <summary>Ends the execution in this state (Exit task): remaining task runs are killed.</summary>
    public State? ExitExecution { get; init; }

    public static TaskOutcome Success(IReadOnlyDictionary<string, object?>? outputs = null) => new() { Outputs = outputs };

    public static TaskOutcome Warning(IReadOnlyDictionary<string, object?>? outputs = null) => new() { State = State.Warning, Outputs = outputs };

    public static TaskOutcome Failed(IReadOnlyDictionary<string, object?>? outputs = null) => new() { State = State.Failed, Outputs = outputs };
}

/// <summary>Canonical task type name (see Windhover.Flows.TaskTypes) → implementation. Freeze-free: register before the runtime starts.</summary>
public sealed class TaskRegistry
{
    private readonly Dictionary<string, IRunnableTask> _tasks = new(StringComparer.Ordinal);
    private FrozenDictionary<string, IRunnableTask>? _frozen;

    /// <summary>Registers <paramref name="task"/> under a canonical type name and any aliases.</summary>
    public TaskRegistry Register(string canonicalType, IRunnableTask task, params string[] aliases)
    {
        ArgumentNullException.ThrowIfNull(task);
        _tasks[canonicalType] = task;
        foreach (var alias in aliases)
        {
            _tasks[alias] = task;
        }

        _frozen = null;
        return this;
    }

    public bool TryGet(string type, out IRunnableTask task)
    {
        var map = _frozen ??= _tasks.ToFrozenDictionary(StringComparer.Ordinal);
        return map.TryGetValue(type, out task!);
    }

    public IReadOnlyCollection<string> Types => _tasks.Keys;

    /// <summary>A registry with the core runnable tasks (Tasks/Core).</summary>
    public static TaskRegistry CreateDefault() => Core.CoreTasks.RegisterAll(new TaskRegistry());
}

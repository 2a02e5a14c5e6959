using System.Collections.Immutable;
using Windhover.Engine.Executions;
using Windhover.Flows.Model;

namespace Windhover.Engine.Executor;

/// <summary>One input of <see cref="Executor.Apply"/>. "Now" always arrives inside the event: the executor never reads a clock.</summary>
public abstract record ExecutorEvent(DateTimeOffset Now);

/// <summary>The execution was created (state CREATED, inputs already validated): start it.</summary>
public sealed record ExecutionCreated(DateTimeOffset Now) : ExecutorEvent(Now);

/// <summary>
/// A worker reports on a task run. <see cref="State"/> RUNNING means the attempt started; a terminal state
/// (SUCCESS, WARNING, FAILED, KILLED) ends the attempt. Results for task runs that are no longer running are ignored.
/// </summary>
public sealed record TaskResult(
    string TaskRunId,
    State State,
    DateTimeOffset Now,
    IReadOnlyDictionary<string, object?>? Outputs = null,
    string? LogFile = null,
    string? WorkerId = null) : ExecutorEvent(Now);

/// <summary>Resume a PAUSED execution; <see cref="Inputs"/> are the validated <c>onResume</c> inputs.</summary>
public sealed record ResumeExecution(DateTimeOffset Now, IReadOnlyDictionary<string, object?>? Inputs = null) : ExecutorEvent(Now);

/// <summary>Kill the execution: running task runs get <see cref="KillTaskRun"/> work, the rest end KILLED.</summary>
public sealed record KillExecution(DateTimeOffset Now) : ExecutorEvent(Now);

/// <summary>A timer requested by <see cref="SetTimer"/> is due.</summary>
public sealed record TimerFired(ExecutorTimer Timer, DateTimeOffset Now) : ExecutorEvent(Now);

/// <summary>A child execution started by <see cref="StartChild"/> reached a terminal state.</summary>
public sealed record ChildEnded(string TaskRunId, ChildExecutionSummary Child, DateTimeOffset Now) : ExecutorEvent(Now);

/// <summary>The host could not create the child execution (flow not found, invalid inputs...).</summary>
/// <summary>The <c>outputFiles</c> of a WorkingDirectory task run were uploaded (<see cref="CollectOutputFiles"/>): name → URI.</summary>
public sealed record OutputFilesCollected(string TaskRunId, IReadOnlyDictionary<string, object?> Files, DateTimeOffset Now) : ExecutorEvent(Now);

public sealed record ChildStartFailed(string TaskRunId, string Message, DateTimeOffset Now) : ExecutorEvent(Now);

/// <summary>Restart a failed or killed execution (or continue one already prepared by <see cref="Executor.PrepareRestart"/>).</summary>
public sealed record RestartExecution(DateTimeOffset Now) : ExecutorEvent(Now);

/// <summary>
/// What the parent needs of a terminated child execution. <see cref="Variables"/> are the child's run variables
/// (<see cref="RunVariables.ForExecution"/>), used to render a Subflow's legacy <c>outputs</c> property.
/// </summary>
public sealed record ChildExecutionSummary(
    string ExecutionId,
    State State,
    IReadOnlyDictionary<string, object?>? Outputs = null,
    IReadOnlyDictionary<string, object?>? Variables = null);

public enum TimerKind
{
    /// <summary>Pause <c>delay</c> elapsed: resume the paused task run.</summary>
    PauseDelay,
    /// <summary>Pause <c>timeout</c> elapsed: fail the paused task run.</summary>
    PauseTimeout,
    /// <summary>Retry backoff elapsed: start a new attempt of the task run (RETRY_FAILED_TASK).</summary>
    RetryTask,
    /// <summary>WaitFor <c>checkFrequency.interval</c> elapsed: run the next iteration.</summary>
    WaitForNext,
    /// <summary>A flow <c>sla</c> of type MAX_DURATION elapsed (<c>TaskRunId</c> holds the SLA id): apply its behavior.</summary>
    SlaMaxDuration,
}

public sealed record ExecutorTimer(TimerKind Kind, string ExecutionId, string? TaskRunId, DateTimeOffset DueAt)
{
    public string Id => IdGenerator.Derive(ExecutionId, Kind.ToString(), TaskRunId, DueAt.UtcTicks.ToString(System.Globalization.CultureInfo.InvariantCulture));
}

public enum ExecutorLogLevel { Trace, Debug, Info, Warn, Error }

/// <summary>The result of one executor step: the new execution and the work the host must do, in order.</summary>
public sealed record ExecutorStep(Execution Execution, ImmutableArray<WorkItem> Work);

public abstract record WorkItem;

/// <summary>
/// Dispatch a runnable task run to a worker. <see cref="Variables"/> are the run variables at dispatch time
/// (properties are rendered by the worker). Tasks inside a WorkingDirectory carry its task run id: the worker runs
/// them in the directory of that task run (one directory per WorkingDirectory run, kept until
/// <see cref="ReleaseWorkingDirectory"/>).
/// </summary>
public sealed record RunTask(
    TaskRun TaskRun,
    TaskDefinition Task,
    IReadOnlyDictionary<string, object?> Variables,
    string? WorkingDirectoryTaskRunId = null,
    TaskDefinition? WorkingDirectory = null) : WorkItem;

/// <summary>Create a child execution (Subflow). The host validates the inputs and answers with events.</summary>
public sealed record StartChild(TaskRun TaskRun, ChildExecutionRequest Request) : WorkItem;

public sealed record ChildExecutionRequest
{
    public required string ExecutionId { get; init; }
    public required string Namespace { get; init; }
    public required string FlowId { get; init; }
    public int? Revision { get; init; }
    public IReadOnlyDictionary<string, object?> Inputs { get; init; } = new Dictionary<string, object?>();
    public ImmutableArray<ExecutionLabel> Labels { get; init; } = [];
    public required ExecutionTrigger Trigger { get; init; }
    public bool Wait { get; init; } = true;
    public bool TransmitFailed { get; init; } = true;
    public DateTimeOffset? ScheduleDate { get; init; }
    public required string ParentExecutionId { get; init; }
    public required string ParentTaskRunId { get; init; }
}

public sealed record SetTimer(ExecutorTimer Timer) : WorkItem;

/// <summary>Ask the worker running this task run to stop it; it answers with a KILLED <see cref="TaskResult"/>.</summary>
public sealed record KillTaskRun(string TaskRunId) : WorkItem;

/// <summary>Kill a running child execution (kill cascade through Subflow).</summary>
public sealed record KillChild(string ChildExecutionId) : WorkItem;

public sealed record EmitLog(ExecutorLogLevel Level, string Message, DateTimeOffset Timestamp, string? TaskRunId = null, string? TaskId = null) : WorkItem;

/// <summary>
/// Retry behavior CREATE_NEW_EXECUTION: the execution ended RETRIED; at <see cref="DueAt"/> the host creates
/// <see cref="Executor.CreateRetryExecution"/> of it and starts it.
/// </summary>
public sealed record RetryExecution(string ExecutionId, DateTimeOffset DueAt) : WorkItem;

/// <summary>
/// A WorkingDirectory task run with <c>outputFiles</c> finished its tasks: upload the files of its directory matching
/// <see cref="Patterns"/> and answer with <see cref="OutputFilesCollected"/>.
/// </summary>
public sealed record CollectOutputFiles(string TaskRunId, string TaskId, ImmutableArray<string> Patterns) : WorkItem;

/// <summary>A WorkingDirectory task run ended: its directory can be deleted.</summary>
public sealed record ReleaseWorkingDirectory(string TaskRunId) : WorkItem;

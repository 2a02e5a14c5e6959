using System.Collections.Immutable;

namespace Windhover.Engine.Executions;

/// <summary>One attempt of a task run: its own state history and the log file the worker wrote, if any.</summary>
public sealed record TaskRunAttempt
{
    public required StateInfo State { get; init; }
    public string? LogFile { get; init; }
    public string? WorkerId { get; init; }
}

/// <summary>The run of one task of a flow (once per loop value for tasks inside loops).</summary>
public sealed record TaskRun
{
    public required string Id { get; init; }
    public required string ExecutionId { get; init; }
    public required string Namespace { get; init; }
    public required string FlowId { get; init; }
    public required string TaskId { get; init; }
    public string? TenantId { get; init; }
    public string? ParentTaskRunId { get; init; }
    public string? Value { get; init; }
    public int? Iteration { get; init; }
    /// <summary>Attempts of runnable tasks (and subflows); null for flowable tasks, as in Kestra.</summary>
    public ImmutableArray<TaskRunAttempt>? Attempts { get; init; }
    public IReadOnlyDictionary<string, object?>? Outputs { get; init; }
    public required StateInfo State { get; init; }
    /// <summary>ForEachItem: the storage URI of the batch this run handles.</summary>
    public string? Items { get; init; }
    public bool? Dynamic { get; init; }

    [System.Text.Json.Serialization.JsonIgnore]
    public int AttemptCount => Attempts?.Length ?? 0;

    [System.Text.Json.Serialization.JsonIgnore]
    public TaskRunAttempt? LastAttempt => Attempts is { IsDefaultOrEmpty: false } list ? list[^1] : null;

    public TaskRun WithState(State state, DateTimeOffset now) => this with { State = State.With(state, now) };

    public TaskRun WithAttempts(ImmutableArray<TaskRunAttempt> attempts) => this with { Attempts = attempts };
}

using Windhover.Engine.Executor;

namespace Windhover.Engine.Stores;

/// <summary>One log line of an execution (Kestra's LogEntry).</summary>
public sealed record LogEntry
{
    public required string Namespace { get; init; }
    public required string FlowId { get; init; }
    public required string ExecutionId { get; init; }
    public string? TaskRunId { get; init; }
    public string? TaskId { get; init; }
    public int? AttemptNumber { get; init; }
    public string? TriggerId { get; init; }
    public required DateTimeOffset Timestamp { get; init; }
    public required ExecutorLogLevel Level { get; init; }
    public required string Message { get; init; }
    public string? Thread { get; init; }
}

public interface ILogStore
{
    Task AppendAsync(IReadOnlyList<LogEntry> entries, CancellationToken cancellationToken = default);

    /// <summary>Logs of an execution in the order they were appended, at <paramref name="minLevel"/> or above, optionally of one task run or task.</summary>
    Task<IReadOnlyList<LogEntry>> FindAsync(
        string executionId,
        ExecutorLogLevel? minLevel = null,
        string? taskRunId = null,
        string? taskId = null,
        CancellationToken cancellationToken = default);

    /// <summary>Deletes the logs of an execution; returns how many were removed.</summary>
    Task<int> DeleteAsync(string executionId, CancellationToken cancellationToken = default);
}

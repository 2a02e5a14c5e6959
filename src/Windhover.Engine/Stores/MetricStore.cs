using System.Collections.Concurrent;

namespace Windhover.Engine.Stores;

/// <summary>One metric recorded by a task run (Kestra's MetricEntry): a <c>counter</c> or a <c>timer</c> (value in seconds).</summary>
public sealed record MetricEntry
{
    public required string Namespace { get; init; }
    public required string FlowId { get; init; }
    public required string ExecutionId { get; init; }
    public string? TaskId { get; init; }
    public string? TaskRunId { get; init; }
    public required string Type { get; init; }
    public required string Name { get; init; }
    public required double Value { get; init; }
    public required DateTimeOffset Timestamp { get; init; }
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();
}

/// <summary>Metrics of executions.</summary>
public interface IMetricStore
{
    void Add(MetricEntry entry);

    /// <summary>The metrics of an execution in the order they were recorded.</summary>
    IReadOnlyList<MetricEntry> Find(string executionId);

    /// <summary>As <see cref="Find"/>, for stores that read asynchronously.</summary>
    Task<IReadOnlyList<MetricEntry>> FindAsync(string executionId, CancellationToken cancellationToken = default) => Task.FromResult(Find(executionId));

    /// <summary>Removes the metrics of an execution (when it is deleted).</summary>
    Task DeleteAsync(string executionId, CancellationToken cancellationToken = default) => Task.CompletedTask;
}

/// <summary>A process-local metric store (tests, in-memory runtimes).</summary>
public sealed class InMemoryMetricStore : IMetricStore
{
    private readonly ConcurrentDictionary<string, List<MetricEntry>> _byExecution = new(StringComparer.Ordinal);

    public void Add(MetricEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var list = _byExecution.GetOrAdd(entry.ExecutionId, _ => []);
        lock (list)
        {
            list.Add(entry);
        }
    }

    public IReadOnlyList<MetricEntry> Find(string executionId)
    {
        if (!_byExecution.TryGetValue(executionId, out var list))
        {
            return [];
        }

        lock (list)
        {
            return [.. list];
        }
    }

    public Task DeleteAsync(string executionId, CancellationToken cancellationToken = default)
    {
        _byExecution.TryRemove(executionId, out _);
        return Task.CompletedTask;
    }
}

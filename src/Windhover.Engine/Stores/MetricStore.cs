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
}

/// <summary>A process-local metric store (metrics are not persisted).</summary>
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
}

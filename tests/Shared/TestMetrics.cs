using Windhover.Engine.Stores;

namespace Windhover.Testing;

/// <summary>Task run metrics as the store tests record them (linked into the SQLite and PostgreSQL store tests).</summary>
internal static class TestMetrics
{
    /// <summary>A metric of task <c>t</c> of <paramref name="executionId"/>: a timer when named "duration", a counter otherwise.</summary>
    public static MetricEntry Entry(string executionId, string name, double value, DateTimeOffset at, IReadOnlyDictionary<string, string> tags) => new()
    {
        Namespace = "company.team",
        FlowId = "metrics",
        ExecutionId = executionId,
        TaskId = "t",
        TaskRunId = executionId + "-t",
        Type = name == "duration" ? "timer" : "counter",
        Name = name,
        Value = value,
        Timestamp = at,
        Tags = tags,
    };
}

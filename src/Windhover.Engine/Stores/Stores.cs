namespace Windhover.Engine.Stores;

/// <summary>The stores a runtime needs, from one backend.</summary>
public sealed record StoreSet(
    IFlowStore Flows,
    IExecutionStore Executions,
    ILogStore Logs,
    IKvStore Kv,
    IFileStorage Files,
    ITimerStore Timers)
{
    /// <summary>Task run metrics; in memory unless the backend stores them.</summary>
    public IMetricStore Metrics { get; init; } = new InMemoryMetricStore();
}

namespace Windhover.Engine.Stores;

/// <summary>The stores a runtime needs, from one backend.</summary>
public sealed record StoreSet(
    IFlowStore Flows,
    IExecutionStore Executions,
    ILogStore Logs,
    IKvStore Kv,
    IFileStorage Files,
    ITimerStore Timers);

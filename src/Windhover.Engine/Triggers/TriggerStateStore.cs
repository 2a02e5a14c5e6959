using System.Collections.Concurrent;

namespace Windhover.Engine.Triggers;

/// <summary>
/// The persisted state of one trigger: the last tick fired, the next tick due, the enable/disable override and, for
/// Flow triggers with preconditions, the satisfied upstream conditions (JSON in <see cref="Data"/>).
/// </summary>
public sealed record TriggerState
{
    public required string Namespace { get; init; }
    public required string FlowId { get; init; }
    public required string TriggerId { get; init; }

    /// <summary>The scheduled date of the last tick fired (or skipped by conditions).</summary>
    public DateTimeOffset? LastFire { get; init; }

    /// <summary>The next tick due; every tick before it has been handled.</summary>
    public DateTimeOffset? NextFire { get; init; }

    /// <summary>The execution created for <see cref="LastFire"/> (deterministic id, so a re-issue after a crash is idempotent).</summary>
    public string? LastExecutionId { get; init; }

    /// <summary>Enable/disable override set through the API; null follows the flow definition.</summary>
    public bool? Disabled { get; init; }

    /// <summary>Free-form JSON state (Flow trigger preconditions).</summary>
    public string? Data { get; init; }

    public DateTimeOffset Updated { get; init; }

    public (string, string, string) Key => (Namespace, FlowId, TriggerId);
}

/// <summary>Trigger state, one row per (namespace, flow, trigger).</summary>
public interface ITriggerStateStore
{
    Task<TriggerState?> GetAsync(string @namespace, string flowId, string triggerId, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<TriggerState>> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>Inserts or replaces the state (durable when the task completes).</summary>
    Task SaveAsync(TriggerState state, CancellationToken cancellationToken = default);

    Task<bool> DeleteAsync(string @namespace, string flowId, string triggerId, CancellationToken cancellationToken = default);
}

public sealed class InMemoryTriggerStateStore : ITriggerStateStore
{
    private readonly ConcurrentDictionary<(string, string, string), TriggerState> _states = new();

    public Task<TriggerState?> GetAsync(string @namespace, string flowId, string triggerId, CancellationToken cancellationToken = default) =>
        Task.FromResult(_states.TryGetValue((@namespace, flowId, triggerId), out var state) ? state : null);

    public Task<IReadOnlyList<TriggerState>> ListAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<TriggerState>>([.. _states.Values.OrderBy(s => s.Namespace, StringComparer.Ordinal).ThenBy(s => s.FlowId, StringComparer.Ordinal).ThenBy(s => s.TriggerId, StringComparer.Ordinal)]);

    public Task SaveAsync(TriggerState state, CancellationToken cancellationToken = default)
    {
        _states[state.Key] = state;
        return Task.CompletedTask;
    }

    public Task<bool> DeleteAsync(string @namespace, string flowId, string triggerId, CancellationToken cancellationToken = default) =>
        Task.FromResult(_states.TryRemove((@namespace, flowId, triggerId), out _));
}

using System.Collections.Immutable;

namespace Windhover.Engine.Executions;

/// <summary>Kestra's execution and task run states. Serialised as upper-case names.</summary>
public enum State
{
    Created,
    Queued,
    Running,
    Paused,
    Restarted,
    Killing,
    Success,
    Warning,
    Failed,
    Killed,
    Cancelled,
    Retrying,
    Retried,
    Skipped,
}

public static class StateExtensions
{
    /// <summary>Terminal as Kestra's <c>State.Type.isTerminated()</c>.</summary>
    public static bool IsTerminal(this State state) => state is State.Success or State.Warning or State.Failed
        or State.Killed or State.Cancelled or State.Retried or State.Skipped;

    public static bool IsFailed(this State state) => state is State.Failed;

    /// <summary>Waiting to be picked up: CREATED or RESTARTED.</summary>
    public static bool IsCreated(this State state) => state is State.Created or State.Restarted;

    public static bool IsRunning(this State state) => state is State.Running or State.Killing;

    public static bool IsPaused(this State state) => state is State.Paused;

    public static bool IsRetrying(this State state) => state is State.Retrying or State.Retried;

    /// <summary>Ended in a way that is neither success nor warning.</summary>
    public static bool IsFailureLike(this State state) => state is State.Failed or State.Killed or State.Cancelled;

    public static string ToKestraName(this State state) => state switch
    {
        State.Created => "CREATED",
        State.Queued => "QUEUED",
        State.Running => "RUNNING",
        State.Paused => "PAUSED",
        State.Restarted => "RESTARTED",
        State.Killing => "KILLING",
        State.Success => "SUCCESS",
        State.Warning => "WARNING",
        State.Failed => "FAILED",
        State.Killed => "KILLED",
        State.Cancelled => "CANCELLED",
        State.Retrying => "RETRYING",
        State.Retried => "RETRIED",
        State.Skipped => "SKIPPED",
        _ => throw new ArgumentOutOfRangeException(nameof(state)),
    };

    public static State ParseKestraName(string name) => name.ToUpperInvariant() switch
    {
        "CREATED" => State.Created,
        "QUEUED" => State.Queued,
        "RUNNING" => State.Running,
        "PAUSED" => State.Paused,
        "RESTARTED" => State.Restarted,
        "KILLING" => State.Killing,
        "SUCCESS" => State.Success,
        "WARNING" => State.Warning,
        "FAILED" => State.Failed,
        "KILLED" => State.Killed,
        "CANCELLED" => State.Cancelled,
        "RETRYING" => State.Retrying,
        "RETRIED" => State.Retried,
        "SKIPPED" => State.Skipped,
        _ => throw new FormatException($"Unknown state '{name}'"),
    };
}

public sealed record StateHistory(State State, DateTimeOffset Date);

/// <summary>A state and its history, as Kestra's <c>State</c> object.</summary>
public sealed record StateInfo
{
    public State Current { get; init; }
    public ImmutableArray<StateHistory> Histories { get; init; } = [];

    /// <summary>Date of the first history entry.</summary>
    public DateTimeOffset StartDate => Histories.IsDefaultOrEmpty ? default : Histories[0].Date;

    /// <summary>Date of the last history entry once terminal; absent otherwise.</summary>
    public DateTimeOffset? EndDate => Current.IsTerminal() && !Histories.IsDefaultOrEmpty ? Histories[^1].Date : null;

    /// <summary>From the first to the last history entry (Kestra computes it to "now" while running; we stay pure).</summary>
    public TimeSpan Duration => Histories.IsDefaultOrEmpty ? TimeSpan.Zero : Histories[^1].Date - Histories[0].Date;

    public static StateInfo Of(State state, DateTimeOffset now) => new() { Current = state, Histories = [new StateHistory(state, now)] };

    /// <summary>Moves to <paramref name="state"/>, appending a history entry (even when unchanged, as Kestra does).</summary>
    public StateInfo With(State state, DateTimeOffset now) =>
        this with { Current = state, Histories = (Histories.IsDefault ? [] : Histories).Add(new StateHistory(state, now)) };

    public int Count(State state) => Histories.Count(h => h.State == state);

    /// <summary>Date of the last history entry.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public DateTimeOffset MaxDate => Histories.IsDefaultOrEmpty ? default : Histories[^1].Date;
}

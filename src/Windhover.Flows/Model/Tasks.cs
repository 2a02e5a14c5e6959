using System.Collections.Immutable;

namespace Windhover.Flows.Model;

/// <summary>
/// A task as written in the flow. <see cref="Properties"/> holds every type-specific property in the value model,
/// except that properties holding tasks are parsed: a list of tasks becomes <see cref="ImmutableArray{T}"/> of
/// <see cref="TaskDefinition"/> (e.g. <c>tasks</c>, <c>then</c>, <c>else</c>, <c>defaults</c>), a map of task lists
/// (Switch <c>cases</c>) becomes <see cref="IReadOnlyDictionary{TKey,TValue}"/> of string to
/// ImmutableArray&lt;TaskDefinition&gt;, and Dag's <c>tasks</c> becomes ImmutableArray&lt;DagTaskDefinition&gt;.
/// Task-level <c>errors</c> and <c>finally</c> are typed members.
/// </summary>
public sealed record TaskDefinition
{
    public required string Id { get; init; }
    /// <summary>The type as written in YAML.</summary>
    public required string Type { get; init; }
    /// <summary>The canonical type name (aliases resolved), e.g. io.kestra.plugin.core.debug.Return.</summary>
    public required string CanonicalType { get; init; }
    public string? Description { get; init; }
    public RetryDefinition? Retry { get; init; }
    /// <summary>Raw timeout (ISO-8601 duration or an expression).</summary>
    public string? Timeout { get; init; }
    public bool AllowFailure { get; init; }
    public bool AllowWarning { get; init; }
    /// <summary>Raw runIf expression.</summary>
    public string? RunIf { get; init; }
    public bool Disabled { get; init; }
    public string? LogLevel { get; init; }
    public bool LogToFile { get; init; }
    public string? WorkerGroup { get; init; }
    public ImmutableArray<TaskDefinition> Errors { get; init; } = [];
    public ImmutableArray<TaskDefinition> Finally { get; init; } = [];
    public IReadOnlyDictionary<string, object?> Properties { get; init; } = ImmutableDictionary<string, object?>.Empty;
    public SourcePosition Position { get; init; }
    public IReadOnlyDictionary<string, SourcePosition> PropertyPositions { get; init; } = ImmutableDictionary<string, SourcePosition>.Empty;

    public ImmutableArray<TaskDefinition> TaskList(string property) =>
        Properties.TryGetValue(property, out var value) && value is ImmutableArray<TaskDefinition> tasks ? tasks : [];
}

/// <summary>One entry of a Dag's <c>tasks</c>: the task and the ids it depends on.</summary>
public sealed record DagTaskDefinition(TaskDefinition Task, ImmutableArray<string> DependsOn);

public enum RetryKind { Constant, Exponential, Random }

public enum RetryBehavior { RetryFailedTask, CreateNewExecution }

public sealed record RetryDefinition
{
    public required RetryKind Kind { get; init; }
    public int? MaxAttempt { get; init; }
    public TimeSpan? MaxDuration { get; init; }
    public TimeSpan? Interval { get; init; }
    public TimeSpan? MinInterval { get; init; }
    public TimeSpan? MaxInterval { get; init; }
    public double? DelayFactor { get; init; }
    public bool WarningOnRetry { get; init; }
    public RetryBehavior Behavior { get; init; } = RetryBehavior.RetryFailedTask;
}

public sealed record TriggerDefinition
{
    public required string Id { get; init; }
    public required string Type { get; init; }
    public required string CanonicalType { get; init; }
    public string? Description { get; init; }
    public bool Disabled { get; init; }
    public ImmutableArray<ConditionDefinition> Conditions { get; init; } = [];
    public IReadOnlyDictionary<string, object?> Properties { get; init; } = ImmutableDictionary<string, object?>.Empty;
    public SourcePosition Position { get; init; }
    /// <summary>Where each property's value starts (keyed by property name).</summary>
    public IReadOnlyDictionary<string, SourcePosition> PropertyPositions { get; init; } = ImmutableDictionary<string, SourcePosition>.Empty;
}

public sealed record ConditionDefinition
{
    public required string Type { get; init; }
    public required string CanonicalType { get; init; }
    public IReadOnlyDictionary<string, object?> Properties { get; init; } = ImmutableDictionary<string, object?>.Empty;
    public SourcePosition Position { get; init; }
}

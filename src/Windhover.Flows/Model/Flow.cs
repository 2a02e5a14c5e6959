using System.Collections.Immutable;

namespace Windhover.Flows.Model;

/// <summary>
/// A validated, immutable flow as Kestra defines it. Property values that are not modelled as typed members
/// use the expression value model: null, bool, long, double, string, <see cref="IReadOnlyList{T}"/> of object?
/// and <see cref="IReadOnlyDictionary{TKey,TValue}"/> of string to object? (insertion-ordered).
/// </summary>
public sealed record Flow
{
    public required string Id { get; init; }
    public required string Namespace { get; init; }
    public int? Revision { get; init; }
    public string? Description { get; init; }
    public ImmutableArray<Label> Labels { get; init; } = [];
    public ImmutableArray<InputDefinition> Inputs { get; init; } = [];
    public IReadOnlyDictionary<string, object?> Variables { get; init; } = ImmutableDictionary<string, object?>.Empty;
    public ImmutableArray<TaskDefinition> Tasks { get; init; } = [];
    public ImmutableArray<TaskDefinition> Errors { get; init; } = [];
    public ImmutableArray<TaskDefinition> Finally { get; init; } = [];
    public ImmutableArray<TaskDefinition> AfterExecution { get; init; } = [];
    public ImmutableArray<TriggerDefinition> Triggers { get; init; } = [];
    public ImmutableArray<OutputDefinition> Outputs { get; init; } = [];
    public ConcurrencyDefinition? Concurrency { get; init; }
    public RetryDefinition? Retry { get; init; }
    public ImmutableArray<PluginDefault> PluginDefaults { get; init; } = [];
    public ImmutableArray<SlaDefinition> Sla { get; init; } = [];
    public bool Disabled { get; init; }
    public bool Deleted { get; init; }

    /// <summary>Legacy <c>listeners</c> (deprecated in Kestra, still accepted and validated).</summary>
    public ImmutableArray<ListenerDefinition> Listeners { get; init; } = [];

    /// <summary>Where each top-level property's value starts in <see cref="Source"/>'s file (keyed by property name).</summary>
    public IReadOnlyDictionary<string, SourcePosition> PropertyPositions { get; init; } = ImmutableDictionary<string, SourcePosition>.Empty;

    /// <summary>The original YAML text of this flow (one document).</summary>
    public string Source { get; init; } = "";

    public SourcePosition Position { get; init; }
}

public sealed record Label(string Key, string Value);

/// <summary>A legacy flow listener: tasks run at the end of an execution when its conditions match.</summary>
public sealed record ListenerDefinition
{
    public string? Description { get; init; }
    public ImmutableArray<ConditionDefinition> Conditions { get; init; } = [];
    public ImmutableArray<TaskDefinition> Tasks { get; init; } = [];
    public SourcePosition Position { get; init; }
    public IReadOnlyDictionary<string, SourcePosition> PropertyPositions { get; init; } = ImmutableDictionary<string, SourcePosition>.Empty;
}

public enum ConcurrencyBehavior { Queue, Cancel, Fail }

public sealed record ConcurrencyDefinition(int Limit, ConcurrencyBehavior Behavior);

public sealed record PluginDefault(string Type, bool Forced, IReadOnlyDictionary<string, object?> Values);

public sealed record SlaDefinition
{
    public required string Id { get; init; }
    public required string Type { get; init; }
    public string? Behavior { get; init; }
    public TimeSpan? Duration { get; init; }
    public string? Condition { get; init; }
    public IReadOnlyDictionary<string, object?> Properties { get; init; } = ImmutableDictionary<string, object?>.Empty;
}

public sealed record OutputDefinition
{
    public required string Id { get; init; }
    public required InputType Type { get; init; }
    /// <summary>The value, usually a Pebble expression string, rendered at the end of the execution.</summary>
    public object? Value { get; init; }
    public string? Description { get; init; }
    public bool Required { get; init; } = true;
    public SourcePosition Position { get; init; }
}

using System.Collections.Immutable;

namespace Windhover.Flows.Model;

public enum InputType
{
    String, Int, Float, Boolean, Select, Multiselect, Enum, DateTime, Date, Time, Duration,
    File, Json, Uri, Secret, Array, Yaml, Email, Bool,
}

public sealed record InputDefinition
{
    public required string Id { get; init; }
    public required InputType Type { get; init; }
    public string? Description { get; init; }
    public string? DisplayName { get; init; }
    public bool Required { get; init; } = true;
    /// <summary>The declared default, in the value model (may be a string holding an expression).</summary>
    public object? Defaults { get; init; }
    public bool HasDefaults { get; init; }
    /// <summary>Regular expression for STRING (and ARRAY of STRING) values.</summary>
    public string? Validator { get; init; }
    /// <summary>Raw <c>min</c>/<c>max</c>/<c>after</c>/<c>before</c> as written, parsed per input type by the engine.</summary>
    public object? Min { get; init; }
    public object? Max { get; init; }
    public object? After { get; init; }
    public object? Before { get; init; }
    /// <summary>Allowed values of SELECT, MULTISELECT and ENUM.</summary>
    public ImmutableArray<string> Values { get; init; } = [];
    public bool AllowCustomValue { get; init; }
    /// <summary>Item type of ARRAY inputs.</summary>
    public InputType? ItemType { get; init; }
    /// <summary>Every property as written, for types or properties not modelled above.</summary>
    public IReadOnlyDictionary<string, object?> Properties { get; init; } = ImmutableDictionary<string, object?>.Empty;
    public SourcePosition Position { get; init; }
    /// <summary>Where each property's value starts (keyed by property name).</summary>
    public IReadOnlyDictionary<string, SourcePosition> PropertyPositions { get; init; } = ImmutableDictionary<string, SourcePosition>.Empty;
}

using System.Collections.Immutable;
using Windhover.Flows.Model;

namespace Windhover.Engine.Inputs;

/// <summary>Input declarations written inside a task (a Pause task's <c>onResume</c>), read from the task's property values.</summary>
public static class InputDeclarations
{
    /// <summary>An <see cref="InputDefinition"/> from one declaration map (<c>id</c>, <c>type</c>, <c>required</c>, <c>defaults</c>...).</summary>
    public static InputDefinition FromProperties(IReadOnlyDictionary<string, object?> properties)
    {
        ArgumentNullException.ThrowIfNull(properties);
        var typeText = Text(properties.GetValueOrDefault("type")) ?? "STRING";
        if (!Enum.TryParse<InputType>(typeText, ignoreCase: true, out var type) || int.TryParse(typeText, out _))
        {
            throw new InvalidOperationException($"Invalid type: {typeText}");
        }

        InputType? itemType = Text(properties.GetValueOrDefault("itemType")) is { } item && Enum.TryParse<InputType>(item, ignoreCase: true, out var parsed) ? parsed : null;
        return new InputDefinition
        {
            Id = Text(properties.GetValueOrDefault("id")) ?? Text(properties.GetValueOrDefault("name")) ?? throw new InvalidOperationException("An input declaration has no id"),
            Type = type,
            Description = Text(properties.GetValueOrDefault("description")),
            DisplayName = Text(properties.GetValueOrDefault("displayName")),
            Required = properties.GetValueOrDefault("required") is not (false or "false"),
            Defaults = properties.GetValueOrDefault("defaults"),
            HasDefaults = properties.ContainsKey("defaults"),
            Validator = Text(properties.GetValueOrDefault("validator")),
            Min = properties.GetValueOrDefault("min"),
            Max = properties.GetValueOrDefault("max"),
            After = properties.GetValueOrDefault("after"),
            Before = properties.GetValueOrDefault("before"),
            Values = properties.GetValueOrDefault("values") is IEnumerable<object?> values ? [.. values.Select(v => Text(v) ?? "")] : ImmutableArray<string>.Empty,
            AllowCustomValue = properties.GetValueOrDefault("allowCustomValue") is true or "true",
            ItemType = itemType,
            Properties = properties,
        };
    }

    private static string? Text(object? value) => value switch
    {
        null => null,
        string s => s,
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };
}

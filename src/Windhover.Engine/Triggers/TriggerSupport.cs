using System.Collections.Immutable;
using System.Globalization;
using Windhover.Engine.Executions;
using Windhover.Flows.Expressions;
using Windhover.Flows.Model;

namespace Windhover.Engine.Triggers;

/// <summary>Helpers shared by the Schedule and Flow triggers: property access, labels, inputs, conditions.</summary>
public static class TriggerSupport
{
    public const string ScheduleType = "io.kestra.plugin.core.trigger.Schedule";
    public const string FlowType = "io.kestra.plugin.core.trigger.Flow";
    private const string ConditionPrefix = "io.kestra.plugin.core.condition.";

    public static bool IsSchedule(TriggerDefinition trigger) =>
        trigger.CanonicalType is ScheduleType || trigger.Type is "io.kestra.core.models.triggers.types.Schedule";

    public static bool IsFlow(TriggerDefinition trigger) =>
        trigger.CanonicalType is FlowType || trigger.Type is "io.kestra.core.models.triggers.types.Flow";

    public static object? Prop(IReadOnlyDictionary<string, object?> properties, string name) =>
        properties.TryGetValue(name, out var value) ? value : null;

    public static string? Str(IReadOnlyDictionary<string, object?> properties, string name) => Prop(properties, name)?.ToString();

    public static bool Flag(IReadOnlyDictionary<string, object?> properties, string name, bool fallback = false) => Prop(properties, name) switch
    {
        bool b => b,
        string s when bool.TryParse(s, out var b) => b,
        _ => fallback,
    };

    public static IEnumerable<string> Strings(object? value) => value switch
    {
        null => [],
        string s => [s],
        IEnumerable<object?> list => list.Where(v => v is not null).Select(v => v!.ToString()!),
        _ => [value.ToString()!],
    };

    public static IReadOnlyDictionary<string, object?>? Map(object? value) => value as IReadOnlyDictionary<string, object?>;

    /// <summary>The trigger's <c>inputs</c>, each value rendered against <paramref name="context"/>.</summary>
    public static IReadOnlyDictionary<string, object?> RenderInputs(TriggerDefinition trigger, ExpressionEngine expressions, IReadOnlyDictionary<string, object?> context) =>
        Map(Prop(trigger.Properties, "inputs")) is { } inputs
            ? inputs.ToDictionary(kv => kv.Key, kv => expressions.RenderObject(kv.Value, context), StringComparer.Ordinal)
            : ImmutableDictionary<string, object?>.Empty;

    /// <summary>The trigger's <c>labels</c> (map or list of key/value), values rendered.</summary>
    public static ImmutableArray<ExecutionLabel> Labels(TriggerDefinition trigger, ExpressionEngine expressions, IReadOnlyDictionary<string, object?> context)
    {
        var result = ImmutableArray.CreateBuilder<ExecutionLabel>();
        switch (Prop(trigger.Properties, "labels"))
        {
            case IReadOnlyDictionary<string, object?> map:
                foreach (var (k, v) in map)
                {
                    result.Add(new ExecutionLabel(k, expressions.Render(v?.ToString() ?? "", context)));
                }

                break;
            case IEnumerable<object?> list:
                foreach (var item in list)
                {
                    if (item is IReadOnlyDictionary<string, object?> pair && pair.TryGetValue("key", out var k) && pair.TryGetValue("value", out var v))
                    {
                        result.Add(new ExecutionLabel(k?.ToString() ?? "", expressions.Render(v?.ToString() ?? "", context)));
                    }
                }

                break;
        }

        return result.ToImmutable();
    }

    public static bool Truthy(object? value) => value switch
    {
        null => false,
        bool b => b,
        string s => s.Trim().Equals("true", StringComparison.OrdinalIgnoreCase),
        long l => l != 0,
        int i => i != 0,
        double d => d != 0,
        _ => true,
    };

    /// <summary>An Expression condition: true when it renders truthy; false when it fails to render.</summary>
    public static bool Expression(ExpressionEngine expressions, string? template, IReadOnlyDictionary<string, object?> context)
    {
        if (template is null)
        {
            return true;
        }

        try
        {
            return Truthy(expressions.RenderTyped(template, context));
        }
        catch (ExpressionException)
        {
            return false;
        }
    }

    /// <summary>The short name of a core condition (<c>ExecutionStatus</c>, <c>DayWeek</c>...), or the full type.</summary>
    public static string ConditionName(ConditionDefinition condition) => ConditionName(condition.CanonicalType);

    /// <summary>
    /// Schedule conditions (Kestra's scheduleConditions) evaluated for one tick date in the trigger's zone:
    /// Expression, DayWeek, DayWeekInMonth, Weekend, TimeBetween, DateTimeBetween, Not, Or. Unknown types are met.
    /// </summary>
    public static bool ScheduleConditionsMet(IEnumerable<ConditionDefinition> conditions, DateTimeOffset date, ExpressionEngine expressions, IReadOnlyDictionary<string, object?> context) =>
        conditions.All(c => ScheduleConditionMet(c.CanonicalType, c.Properties, date, expressions, context));

    internal static bool ScheduleConditionMet(string type, IReadOnlyDictionary<string, object?> p, DateTimeOffset date, ExpressionEngine expressions, IReadOnlyDictionary<string, object?> context)
    {
        var dot = type.LastIndexOf('.');
        var name = dot >= 0 ? type[(dot + 1)..] : type;
        if (name.EndsWith("Condition", StringComparison.Ordinal))
        {
            name = name[..^"Condition".Length];
        }

        switch (name)
        {
            case "Expression":
                return Expression(expressions, Str(p, "expression"), context);
            case "DayWeek":
                return Str(p, "dayOfWeek") is not { } dow || string.Equals(date.DayOfWeek.ToString(), dow, StringComparison.OrdinalIgnoreCase);
            case "DayWeekInMonth":
            {
                if (Str(p, "dayOfWeek") is { } day && !string.Equals(date.DayOfWeek.ToString(), day, StringComparison.OrdinalIgnoreCase))
                {
                    return false;
                }

                var nth = (date.Day - 1) / 7;
                var daysInMonth = DateTime.DaysInMonth(date.Year, date.Month);
                return Str(p, "dayInMonth")?.ToUpperInvariant() switch
                {
                    "FIRST" => nth == 0,
                    "SECOND" => nth == 1,
                    "THIRD" => nth == 2,
                    "FOURTH" => nth == 3,
                    "LAST" => date.Day + 7 > daysInMonth,
                    _ => true,
                };
            }

            case "Weekend":
                return date.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday;
            case "Weekday":
                return date.DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday);
            case "TimeBetween":
            {
                var time = TimeOnly.FromDateTime(date.DateTime);
                var after = ParseTime(Str(p, "after"));
                var before = ParseTime(Str(p, "before"));
                return (after is null || time >= after) && (before is null || time <= before);
            }

            case "DateTimeBetween":
            {
                var after = ParseDate(Str(p, "after"));
                var before = ParseDate(Str(p, "before"));
                return (after is null || date >= after) && (before is null || date <= before);
            }

            case "Not":
                return !Conditions(p).Any(c => ScheduleConditionMet(c.Type, c.Props, date, expressions, context));
            case "Or":
                return Conditions(p).Any(c => ScheduleConditionMet(c.Type, c.Props, date, expressions, context));
            default:
                return true;
        }
    }

    internal static IEnumerable<(string Type, IReadOnlyDictionary<string, object?> Props)> Conditions(IReadOnlyDictionary<string, object?> p) =>
        (Prop(p, "conditions") as IEnumerable<object?> ?? []).OfType<IReadOnlyDictionary<string, object?>>()
            .Select(c => (Str(c, "type") ?? "", c));

    private static TimeOnly? ParseTime(string? text) =>
        text is null ? null : TimeOnly.TryParse(text.Length > 8 && text.Contains('+', StringComparison.Ordinal) ? text[..text.IndexOf('+', StringComparison.Ordinal)] : text, CultureInfo.InvariantCulture, out var t) ? t : null;

    private static DateTimeOffset? ParseDate(string? text) =>
        text is not null && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var d) ? d : null;

    /// <summary>ISO-8601 as Kestra renders trigger dates.</summary>
    public static string Iso(DateTimeOffset date) => date.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzzz", CultureInfo.InvariantCulture).Replace("+00:00", "Z", StringComparison.Ordinal);

    /// <summary>A condition type's short name: <c>io.kestra.plugin.core.condition.ExecutionLabelsCondition</c> → <c>ExecutionLabels</c>.</summary>
    public static string ConditionName(string type)
    {
        var dot = type.LastIndexOf('.');
        var name = dot >= 0 ? type[(dot + 1)..] : type;
        return name.EndsWith("Condition", StringComparison.Ordinal) ? name[..^"Condition".Length] : name;
    }

    /// <summary>The labels a condition expects, written as a map or as a list of <c>{key, value}</c>.</summary>
    public static IEnumerable<KeyValuePair<string, string?>> ExpectedLabels(object? labels) => labels switch
    {
        IReadOnlyDictionary<string, object?> map => map.Select(kv => new KeyValuePair<string, string?>(kv.Key, kv.Value?.ToString())),
        IEnumerable<object?> list => list.OfType<IReadOnlyDictionary<string, object?>>()
            .Select(pair => new KeyValuePair<string, string?>(Str(pair, "key") ?? "", Str(pair, "value"))),
        _ => [],
    };
}

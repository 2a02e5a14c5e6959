using Windhover.Engine.Executions;
using Windhover.Flows.Expressions;
using Windhover.Flows.Model;

namespace Windhover.Engine.Triggers;

/// <summary>
/// The <c>conditions</c> of a Webhook trigger, evaluated when a request arrives (Kestra's ConditionService on the
/// execution the request would create): Expression, the date conditions (DayWeek, DayWeekInMonth, Weekend, Weekday,
/// TimeBetween, DateTimeBetween; on the request time unless <c>date</c> is given), ExecutionFlow / FlowCondition,
/// ExecutionNamespace / FlowNamespaceCondition and ExecutionLabels (on the new execution), Not and Or. Any other type
/// (ExecutionStatus, ExecutionOutputs, MultipleCondition, PublicHoliday...) cannot be decided for a webhook:
/// <see cref="Unsupported"/> names it so flows using it are refused when saved.
/// </summary>
public static class WebhookConditions
{
    private static readonly HashSet<string> Supported = new(StringComparer.Ordinal)
    {
        "Expression", "DayWeek", "DayWeekInMonth", "Weekend", "Weekday", "TimeBetween", "DateTimeBetween",
        "ExecutionFlow", "Flow", "ExecutionNamespace", "FlowNamespace", "ExecutionLabels", "Not", "Or",
    };

    private static readonly HashSet<string> DateConditions = new(StringComparer.Ordinal)
    {
        "DayWeek", "DayWeekInMonth", "Weekend", "Weekday", "TimeBetween", "DateTimeBetween",
    };

    /// <summary>The type of the first condition (nested ones too) a Webhook trigger cannot evaluate, or null.</summary>
    public static string? Unsupported(IEnumerable<ConditionDefinition> conditions)
    {
        foreach (var condition in conditions)
        {
            if (Unsupported(condition.CanonicalType, condition.Properties) is { } type)
            {
                return type;
            }
        }

        return null;
    }

    private static string? Unsupported(string type, IReadOnlyDictionary<string, object?> properties)
    {
        var name = TriggerSupport.ConditionName(type);
        if (!Supported.Contains(name))
        {
            return type;
        }

        return name is "Not" or "Or"
            ? TriggerSupport.Conditions(properties).Select(c => Unsupported(c.Type, c.Props)).FirstOrDefault(t => t is not null)
            : null;
    }

    /// <summary>True when every condition is met by a request at <paramref name="now"/> creating an execution of <paramref name="flow"/> with <paramref name="labels"/>.</summary>
    public static bool Met(IEnumerable<ConditionDefinition> conditions, Flow flow, IReadOnlyList<ExecutionLabel> labels, DateTimeOffset now,
        ExpressionEngine expressions, IReadOnlyDictionary<string, object?> context) =>
        conditions.All(c => Met(c.CanonicalType, c.Properties, flow, labels, now, expressions, context));

    private static bool Met(string type, IReadOnlyDictionary<string, object?> p, Flow flow, IReadOnlyList<ExecutionLabel> labels, DateTimeOffset now,
        ExpressionEngine expressions, IReadOnlyDictionary<string, object?> context)
    {
        var name = TriggerSupport.ConditionName(type);
        switch (name)
        {
            case "Expression":
                return TriggerSupport.Expression(expressions, TriggerSupport.Str(p, "expression"), context);
            case var _ when DateConditions.Contains(name):
                var date = now;
                if (TriggerSupport.Str(p, "date") is { } dateText)
                {
                    var rendered = dateText.Contains("{{", StringComparison.Ordinal) ? Render(expressions, dateText, context) : dateText;
                    if (rendered is null || !DateTimeOffset.TryParse(rendered, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out date))
                    {
                        date = now; // `{{ trigger.date }}` (the default) has no value for a webhook: the request time
                    }
                }

                return TriggerSupport.ScheduleConditionMet(type, p, date, expressions, context);
            case "ExecutionFlow" or "Flow":
                return TriggerSupport.Str(p, "namespace") == flow.Namespace && TriggerSupport.Str(p, "flowId") == flow.Id;
            case "ExecutionNamespace" or "FlowNamespace":
            {
                var ns = TriggerSupport.Str(p, "namespace") ?? "";
                var comparison = TriggerSupport.Str(p, "comparison")?.ToUpperInvariant() ?? (TriggerSupport.Flag(p, "prefix") ? "PREFIX" : "EQUALS");
                return comparison switch
                {
                    "PREFIX" => flow.Namespace.StartsWith(ns, StringComparison.Ordinal),
                    "SUFFIX" => flow.Namespace.EndsWith(ns, StringComparison.Ordinal),
                    _ => flow.Namespace == ns,
                };
            }

            case "ExecutionLabels":
                return TriggerSupport.ExpectedLabels(TriggerSupport.Prop(p, "labels")).All(expected => labels.Any(l => l.Key == expected.Key && l.Value == expected.Value));
            case "Not":
                return !TriggerSupport.Conditions(p).Any(c => Met(c.Type, c.Props, flow, labels, now, expressions, context));
            case "Or":
                return TriggerSupport.Conditions(p).Any(c => Met(c.Type, c.Props, flow, labels, now, expressions, context));
            default:
                return false; // refused when the flow is saved; never silently met
        }
    }

    private static string? Render(ExpressionEngine expressions, string template, IReadOnlyDictionary<string, object?> context)
    {
        try
        {
            return expressions.Render(template, context);
        }
        catch (ExpressionException)
        {
            return null;
        }
    }
}

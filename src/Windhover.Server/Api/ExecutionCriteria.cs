using System.Collections.Immutable;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Windhover.Engine.Executions;
using Windhover.Engine.Serialization;
using Windhover.Engine.Stores;

namespace Windhover.Server.Api;

/// <summary>Execution search criteria from Kestra's legacy query parameters and its <c>filters[field][OP]=value</c> form.</summary>
internal sealed partial record ExecutionCriteria
{
    public string? Namespace { get; init; }
    public string? NamespaceExact { get; init; }
    public string? NamespaceContains { get; init; }
    public string? FlowId { get; init; }
    public string? FlowIdContains { get; init; }
    public ImmutableArray<State> States { get; init; } = [];
    public ImmutableArray<State> NotStates { get; init; } = [];
    public ImmutableArray<ExecutionLabel> Labels { get; init; } = [];
    public DateTimeOffset? StartDate { get; init; }
    public DateTimeOffset? EndDate { get; init; }
    public string? TriggerExecutionId { get; init; }
    public string? Query { get; init; }
    public string? ChildFilter { get; init; }

    [GeneratedRegex(@"^filters\[(?<field>[A-Za-z]+)\]\[(?<op>[A-Z_]+)\](?:\[(?<sub>[^\]]*)\])?$")]
    private static partial Regex FilterKey();

    public static ExecutionCriteria FromQuery(IQueryCollection query, DateTimeOffset now)
    {
        var c = new ExecutionCriteria
        {
            Namespace = NullIfEmpty(query["namespace"]),
            FlowId = NullIfEmpty(query["flowId"]),
            States = [.. query["state"].Where(s => !string.IsNullOrEmpty(s)).SelectMany(s => s!.Split(',')).Select(ApiHelpers.ParseState)],
            Labels = ApiHelpers.ParseLabels(query["labels"], allowSystem: true),
            StartDate = ApiHelpers.ParseDate(query["startDate"], "startDate"),
            EndDate = ApiHelpers.ParseDate(query["endDate"], "endDate"),
            TriggerExecutionId = NullIfEmpty(query["triggerExecutionId"]),
            Query = NullIfEmpty(query["q"]),
            ChildFilter = NullIfEmpty(query["childFilter"]),
        };
        if (NullIfEmpty(query["timeRange"]) is { } range)
        {
            c = c with { StartDate = now - Duration(range) };
        }

        foreach (var (key, values) in query)
        {
            var match = FilterKey().Match(key);
            if (!match.Success)
            {
                continue;
            }

            var field = match.Groups["field"].Value;
            var op = match.Groups["op"].Value;
            var sub = match.Groups["sub"].Success ? match.Groups["sub"].Value : null;
            foreach (var raw in values)
            {
                if (raw is null)
                {
                    continue;
                }

                c = c.WithFilter(field, op, sub, raw, now);
            }
        }

        return c;
    }

    private ExecutionCriteria WithFilter(string field, string op, string? sub, string value, DateTimeOffset now)
    {
        switch (field)
        {
            case "namespace":
                return op switch
                {
                    "EQUALS" => this with { NamespaceExact = value },
                    "CONTAINS" => this with { NamespaceContains = value },
                    _ => this with { Namespace = value },   // PREFIX, STARTS_WITH
                };
            case "flowId":
                return op is "CONTAINS" ? this with { FlowIdContains = value } : this with { FlowId = value };
            case "state":
                var states = value.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(ApiHelpers.ParseState).ToArray();
                return op is "NOT_EQUALS" or "NOT_IN" ? this with { NotStates = NotStates.AddRange(states) } : this with { States = States.AddRange(states) };
            case "labels":
                if (sub is not null)
                {
                    return this with { Labels = Labels.Add(new ExecutionLabel(sub, value)) };
                }

                return this with { Labels = Labels.AddRange(ApiHelpers.ParseLabels(value.Split(',', StringSplitOptions.RemoveEmptyEntries), allowSystem: true)) };
            case "startDate":
                var start = ApiHelpers.ParseDate(value, "startDate");
                return op is "LESS_THAN" or "LESS_THAN_OR_EQUAL_TO" ? this with { EndDate = start } : this with { StartDate = start };
            case "endDate":
                return this with { EndDate = ApiHelpers.ParseDate(value, "endDate") };
            case "timeRange":
                return this with { StartDate = now - Duration(value) };
            case "triggerExecutionId":
                return this with { TriggerExecutionId = value };
            case "childFilter":
                return this with { ChildFilter = value };
            case "q":
                return this with { Query = value };
            default:
                throw new BadRequestException($"Unknown filter field '{field}'");
        }
    }

    private static TimeSpan Duration(string text) =>
        KestraJson.TryParseDuration(text, out var d) ? d : throw new BadRequestException($"Invalid timeRange '{text}'");

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    public ExecutionQuery ToStoreQuery(bool ascending) => new()
    {
        Namespace = Namespace,
        FlowId = FlowId,
        States = States,
        Labels = Labels,
        StartDate = StartDate,
        Ascending = ascending,
        Page = 1,
        Size = 100_000,
    };

    /// <summary>What the store query cannot express.</summary>
    public bool Matches(Execution e) =>
        (NamespaceExact is null || e.Namespace == NamespaceExact)
        && (NamespaceContains is null || e.Namespace.Contains(NamespaceContains, StringComparison.Ordinal))
        && (FlowIdContains is null || e.FlowId.Contains(FlowIdContains, StringComparison.Ordinal))
        && (NotStates.IsDefaultOrEmpty || !NotStates.Contains(e.State.Current))
        // Executions still running have no end date: an endDate bound is on their start, as Kestra does.
        && (EndDate is null || e.State.StartDate <= EndDate)
        && (TriggerExecutionId is null || e.ParentId == TriggerExecutionId || TriggerVariable(e, "executionId") == TriggerExecutionId)
        && (ChildFilter is null || (ChildFilter == "CHILD" ? e.ParentId is not null || e.Trigger?.Type?.EndsWith("Subflow", StringComparison.Ordinal) == true : e.ParentId is null))
        && (Query is null || e.Id.Contains(Query, StringComparison.OrdinalIgnoreCase) || e.FlowId.Contains(Query, StringComparison.OrdinalIgnoreCase)
            || e.Namespace.Contains(Query, StringComparison.OrdinalIgnoreCase) || e.Labels.Any(l => l.Value.Contains(Query, StringComparison.OrdinalIgnoreCase)));

    private static string? TriggerVariable(Execution e, string name) =>
        e.Trigger?.Variables is { } variables && variables.TryGetValue(name, out var value) ? value?.ToString() : null;
}

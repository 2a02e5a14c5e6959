using Windhover.Engine.Stores;
using Windhover.Flows.Model;
using Windhover.Flows.Validation;
using Windhover.Flows.Yaml;

namespace Windhover.Server.Backend;

/// <summary>Flow validation failed (HTTP 422 <c>Invalid entity: ...</c>).</summary>
public sealed class InvalidFlowException(string constraints) : Exception("Invalid entity: " + constraints)
{
    public string Constraints { get; } = constraints;
}

/// <summary>Parses, validates and saves flow sources; shared by the API and the flow folder watcher.</summary>
public sealed class FlowService(IFlowStore store, FlowParser parser)
{
    public IFlowStore Store => store;

    public FlowParser Parser => parser;

    /// <summary>Kestra's constraint text: one violation per line.</summary>
    public static string Constraints(IEnumerable<FlowProblem> problems) => string.Join("\n", problems.Select(p => p.Message).Distinct());

    public Flow ParseOne(string source)
    {
        var result = parser.Parse(source);
        if (!result.IsValid || result.Flow is null)
        {
            throw new InvalidFlowException(result.Problems.IsEmpty ? "invalid flow" : Constraints(result.Problems));
        }

        return result.Flow;
    }

    public IReadOnlyList<FlowParseResult> ParseAll(string source) => parser.ParseAll(source);

    public async Task<FlowRecord> CreateAsync(string source, CancellationToken cancellationToken)
    {
        var flow = ParseOne(source);
        if (await store.GetAsync(flow.Namespace, flow.Id, cancellationToken: cancellationToken) is not null)
        {
            throw new InvalidFlowException($"Flow id already exists: {flow.Namespace}.{flow.Id}");
        }

        return await SaveAsync(flow, cancellationToken);
    }

    public async Task<FlowRecord> UpdateAsync(string @namespace, string id, string source, CancellationToken cancellationToken)
    {
        if (await store.GetAsync(@namespace, id, cancellationToken: cancellationToken) is null)
        {
            throw new NotFoundException($"Flow not found: {@namespace}.{id}");
        }

        var flow = ParseOne(source);
        if (flow.Namespace != @namespace || flow.Id != id)
        {
            throw new InvalidFlowException($"id: Illegal flow id update: {@namespace}.{id} cannot become {flow.Namespace}.{flow.Id}");
        }

        return await SaveAsync(flow, cancellationToken);
    }

    /// <summary>Creates or updates (used by the flow folder and namespace replace).</summary>
    public async Task<FlowRecord> UpsertAsync(Flow flow, CancellationToken cancellationToken) =>
        await SaveAsync(flow, cancellationToken);

    /// <summary>Raised after a flow revision is saved through this service (the trigger scheduler re-scans).</summary>
    public event Action<FlowRecord>? Saved;

    private async Task<FlowRecord> SaveAsync(Flow flow, CancellationToken cancellationToken)
    {
        foreach (var trigger in flow.Triggers.Where(t => t.CanonicalType == Api.WebhooksApi.WebhookType))
        {
            if (Windhover.Engine.Triggers.WebhookConditions.Unsupported(trigger.Conditions) is { } unsupported)
            {
                throw new InvalidFlowException($"triggers[{trigger.Id}].conditions: condition type '{unsupported}' cannot be evaluated for a Webhook trigger " +
                    "(supported: Expression, DayWeek, DayWeekInMonth, Weekend, Weekday, TimeBetween, DateTimeBetween, ExecutionFlow, ExecutionNamespace, ExecutionLabels, Not, Or)");
            }
        }

        var record = await store.SaveAsync(flow, cancellationToken);
        Saved?.Invoke(record);
        return record;
    }
}

using System.Collections.Concurrent;
using Cronos;
using Windhover.Engine.Stores;
using Windhover.Flows.Model;

namespace Windhover.Server.Backend;

/// <summary>
/// Triggers as declared by the flows, with the next fire time of schedules (Cronos) and enable/disable overrides kept
/// by the server. Used until the runtime's scheduler exposes its own trigger state.
/// </summary>
public sealed class FlowTriggerService(IFlowStore flows, TimeProvider timeProvider) : ITriggerService
{
    private const string Schedule = "io.kestra.plugin.core.trigger.Schedule";
    private readonly ConcurrentDictionary<(string Ns, string Flow, string Trigger), bool> _disabled = new();

    public async Task<IReadOnlyList<TriggerInfo>> ListAsync(CancellationToken cancellationToken = default)
    {
        var result = new List<TriggerInfo>();
        var now = timeProvider.GetUtcNow();
        for (var page = 1; ; page++)
        {
            var batch = await flows.SearchAsync(new FlowQuery { Page = page, Size = 1000 }, cancellationToken);
            foreach (var flow in batch.Results)
            {
                foreach (var trigger in flow.Flow.Triggers)
                {
                    result.Add(Describe(flow.Flow, trigger, now));
                }
            }

            if (batch.Results.Count < 1000)
            {
                return result;
            }
        }
    }

    public async Task<TriggerInfo?> SetDisabledAsync(string @namespace, string flowId, string triggerId, bool disabled, CancellationToken cancellationToken = default)
    {
        var flow = await flows.GetAsync(@namespace, flowId, cancellationToken: cancellationToken);
        var trigger = flow?.Flow.Triggers.FirstOrDefault(t => t.Id == triggerId);
        if (flow is null || trigger is null)
        {
            return null;
        }

        _disabled[(@namespace, flowId, triggerId)] = disabled;
        return Describe(flow.Flow, trigger, timeProvider.GetUtcNow());
    }

    public bool IsDisabled(Flow flow, TriggerDefinition trigger) =>
        _disabled.TryGetValue((flow.Namespace, flow.Id, trigger.Id), out var disabled) ? disabled : trigger.Disabled || flow.Disabled;

    private TriggerInfo Describe(Flow flow, TriggerDefinition trigger, DateTimeOffset now) => new()
    {
        Namespace = flow.Namespace,
        FlowId = flow.Id,
        TriggerId = trigger.Id,
        Type = trigger.CanonicalType,
        Disabled = IsDisabled(flow, trigger),
        Date = now,
        NextExecutionDate = trigger.CanonicalType == Schedule ? NextFire(trigger, now) : null,
    };

    public static DateTimeOffset? NextFire(TriggerDefinition trigger, DateTimeOffset now)
    {
        if (!trigger.Properties.TryGetValue("cron", out var cronValue) || cronValue is not string cron)
        {
            return null;
        }

        cron = cron.Trim() switch
        {
            "@yearly" or "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" or "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            var other => other,
        };
        var withSeconds = trigger.Properties.TryGetValue("withSeconds", out var ws) && ws is true;
        try
        {
            var expression = CronExpression.Parse(cron, withSeconds ? CronFormat.IncludeSeconds : CronFormat.Standard);
            var zone = TimeZoneInfo.Utc;
            if (trigger.Properties.TryGetValue("timezone", out var tz) && tz is string tzName && TimeZoneInfo.TryFindSystemTimeZoneById(tzName, out var found))
            {
                zone = found;
            }

            return expression.GetNextOccurrence(now, zone);
        }
        catch (CronFormatException)
        {
            return null;
        }
    }
}

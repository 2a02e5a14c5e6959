using Windhover.Engine.Scheduling;
using Windhover.Engine.Stores;
using Windhover.Engine.Triggers;
using Windhover.Flows.Model;

namespace Windhover.Server.Backend;

/// <summary>
/// Triggers as declared by the flows, with the persisted trigger state (last fire, next fire, enable/disable override)
/// kept by the <see cref="TriggerScheduler"/> and the <see cref="FlowTriggerListener"/>.
/// </summary>
public sealed class FlowTriggerService(IFlowStore flows, TimeProvider timeProvider, ITriggerStateStore states, TriggerScheduler? scheduler = null) : ITriggerService
{
    public async Task<IReadOnlyList<TriggerInfo>> ListAsync(CancellationToken cancellationToken = default)
    {
        var result = new List<TriggerInfo>();
        var now = timeProvider.GetUtcNow();
        var saved = (await states.ListAsync(cancellationToken)).ToDictionary(s => s.Key);
        for (var page = 1; ; page++)
        {
            var batch = await flows.SearchAsync(new FlowQuery { Page = page, Size = 1000 }, cancellationToken);
            foreach (var flow in batch.Results)
            {
                foreach (var trigger in flow.Flow.Triggers)
                {
                    result.Add(Describe(flow.Flow, trigger, saved.GetValueOrDefault((flow.Namespace, flow.Id, trigger.Id)), now));
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

        var now = timeProvider.GetUtcNow();
        var state = (await states.GetAsync(@namespace, flowId, triggerId, cancellationToken)
            ?? new TriggerState { Namespace = @namespace, FlowId = flowId, TriggerId = triggerId }) with { Disabled = disabled, Updated = now };
        await states.SaveAsync(state, cancellationToken);
        scheduler?.Wake();
        return Describe(flow.Flow, trigger, state, now);
    }

    private static TriggerInfo Describe(Flow flow, TriggerDefinition trigger, TriggerState? state, DateTimeOffset now)
    {
        var disabled = state?.Disabled ?? (trigger.Disabled || flow.Disabled);
        return new TriggerInfo
        {
            Namespace = flow.Namespace,
            FlowId = flow.Id,
            TriggerId = trigger.Id,
            Type = trigger.CanonicalType,
            Disabled = disabled,
            Date = state?.LastFire ?? state?.Updated ?? now,
            NextExecutionDate = TriggerSupport.IsSchedule(trigger) && !disabled ? state?.NextFire ?? NextFire(trigger, now) : null,
            ExecutionId = state?.LastExecutionId,
        };
    }

    public static DateTimeOffset? NextFire(TriggerDefinition trigger, DateTimeOffset now) => CronSchedule.From(trigger)?.Next(now);
}

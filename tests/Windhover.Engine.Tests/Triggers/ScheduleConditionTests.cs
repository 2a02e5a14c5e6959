using Microsoft.Extensions.Time.Testing;
using Windhover.Engine.Runtime;
using Windhover.Engine.Scheduling;
using Windhover.Engine.Stores;
using Windhover.Engine.Triggers;
using Windhover.Flows.Yaml;

namespace Windhover.Engine.Tests.Triggers;

/// <summary>Schedule conditions, the legacy type and disabling, on in-memory stores and a fake clock.</summary>
public sealed class ScheduleConditionTests
{
    [Fact]
    public async Task Legacy_schedule_with_a_weekend_condition_fires_only_on_weekend_ticks_and_not_when_disabled()
    {
        // 2026-01-02 is a Friday: daily ticks on Sat 3rd and Sun 4th pass, Mon 5th does not
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 2, 12, 0, 0, TimeSpan.Zero));
        var stores = InMemoryStores.Create(time);
        await using var runtime = new LocalRuntime(stores, new RuntimeOptions { TimeProvider = time, WorkingDirectoryRoot = Path.Combine(Path.GetTempPath(), "windhover-work-tests") });
        await runtime.StartAsync();
        var states = new InMemoryTriggerStateStore();
        await using var scheduler = new TriggerScheduler(runtime, states, time);
        var errors = new List<Exception>();
        scheduler.Error += errors.Add;
        await stores.Flows.SaveAsync(FlowParser.Default.Parse("""
            id: weekend
            namespace: company.team
            tasks:
              - id: log
                type: io.kestra.plugin.core.log.Log
                message: "{{ trigger.date }}"
            triggers:
              - id: daily
                type: io.kestra.core.models.triggers.types.Schedule
                cron: "@daily"
                conditions:
                  - type: io.kestra.plugin.core.condition.Weekend
            """).Flow!);

        Assert.Equal(0, (await scheduler.RunOnceAsync()).Created);
        var created = 0;
        for (var day = 0; day < 3; day++)
        {
            time.Advance(TimeSpan.FromDays(1));
            created += (await scheduler.RunOnceAsync()).Created;
        }

        Assert.Equal(2, created);
        var state = await states.GetAsync("company.team", "weekend", "daily");
        Assert.Equal(new DateTimeOffset(2026, 1, 6, 0, 0, 0, TimeSpan.Zero), state!.NextFire);

        await states.SaveAsync(state with { Disabled = true });
        time.Advance(TimeSpan.FromDays(7));
        Assert.Equal(0, (await scheduler.RunOnceAsync()).Created);
        Assert.Empty(errors);
    }
}

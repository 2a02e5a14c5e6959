using System.Collections.Immutable;
using System.Globalization;
using Windhover.Engine.Executions;
using Windhover.Engine.Runtime;
using Windhover.Engine.Stores;
using Windhover.Engine.Triggers;
using Windhover.Flows.Model;

namespace Windhover.Engine.Scheduling;

public sealed record TriggerSchedulerOptions
{
    /// <summary>Longest sleep between two scans of the flows (new or changed schedules are picked up then, or on <see cref="TriggerScheduler.Wake"/>).</summary>
    public TimeSpan MaxSleep { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Upper bound of ticks fired for one trigger in one pass (a backfill over years continues on the next pass).</summary>
    public int MaxTicksPerPass { get; init; } = 1000;
}

/// <summary>
/// The Schedule trigger loop: one per process (one leader per cluster later). It sleeps on the
/// <see cref="TimeProvider"/> until the earliest due tick of all schedules (never one timer per trigger), then fires every
/// due tick once.
/// </summary>
/// <remarks>
/// Exactly-once per tick: before an execution is created, the trigger state (last fire = the tick, next fire = the
/// following tick, the execution id) is saved; the execution id is derived from (flow, trigger, tick) so creating it is
/// idempotent. At start, the last saved tick is re-issued (a no-op unless the process died between the save and the
/// create) and ticks missed while stopped follow <c>recoverMissedSchedules</c>: ALL fires each, LAST only the latest,
/// NONE none.
/// </remarks>
public sealed class TriggerScheduler : IAsyncDisposable
{
    private readonly LocalRuntime _runtime;
    private readonly ITriggerStateStore _states;
    private readonly TriggerSchedulerOptions _options;
    private readonly HashSet<(string, string, string)> _seen = [];
    private readonly SemaphoreSlim _wake = new(0, int.MaxValue);
    private CancellationTokenSource? _stopping;
    private Task? _loop;

    public TriggerScheduler(LocalRuntime runtime, ITriggerStateStore states, TimeProvider? timeProvider = null, TriggerSchedulerOptions? options = null)
    {
        _runtime = runtime;
        _states = states;
        Time = timeProvider ?? runtime.Services.TimeProvider;
        _options = options ?? new TriggerSchedulerOptions();
    }

    public TimeProvider Time { get; }

    /// <summary>Raised for a failure to evaluate or create a tick's execution (the loop goes on).</summary>
    public event Action<Exception>? Error;

    /// <summary>Raised after each pass with the number of executions created (tests wait on it).</summary>
    public event Action<int>? PassCompleted;

    public void Start()
    {
        if (_loop is not null)
        {
            return;
        }

        _stopping = new CancellationTokenSource();
        _loop = Task.Run(() => RunAsync(_stopping.Token));
    }

    public async Task StopAsync()
    {
        if (_loop is null || _stopping is null)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _loop = null;
        _stopping.Dispose();
        _stopping = null;
    }

    /// <summary>Re-scans now (a flow was saved or a trigger enabled).</summary>
    public void Wake() => _wake.Release();

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _wake.Dispose();
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            DateTimeOffset? next = null;
            try
            {
                (next, var created) = await RunOnceAsync(cancellationToken).ConfigureAwait(false);
                PassCompleted?.Invoke(created);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                Error?.Invoke(e);
            }

            var now = Time.GetUtcNow();
            var delay = next is { } due ? due - now : _options.MaxSleep;
            if (delay > _options.MaxSleep)
            {
                delay = _options.MaxSleep;
            }

            if (delay <= TimeSpan.Zero)
            {
                continue;
            }

            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var sleep = Task.Delay(delay, Time, linked.Token);
            if (next is { } dueAt && Time.GetUtcNow() >= dueAt)
            {
                // the clock moved between reading it and arming the timer (the timer would wait a full delay too long)
                await linked.CancelAsync().ConfigureAwait(false);
                continue;
            }

            var woken = _wake.WaitAsync(linked.Token);
            await Task.WhenAny(sleep, woken).ConfigureAwait(false);
            await linked.CancelAsync().ConfigureAwait(false);
            try
            {
                await Task.WhenAll(sleep, woken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            if (woken.IsCompletedSuccessfully)
            {
                while (_wake.CurrentCount > 0 && _wake.Wait(0))
                {
                }
            }
        }
    }

    /// <summary>One pass over every schedule: fires the due ticks; returns the earliest next tick and the executions created.</summary>
    public async Task<(DateTimeOffset? Next, int Created)> RunOnceAsync(CancellationToken cancellationToken = default)
    {
        DateTimeOffset? earliest = null;
        var created = 0;
        var flows = _runtime.Stores.Flows;
        for (var page = 1; ; page++)
        {
            var batch = await flows.SearchAsync(new FlowQuery { Page = page, Size = 500 }, cancellationToken).ConfigureAwait(false);
            foreach (var record in batch.Results)
            {
                foreach (var trigger in record.Flow.Triggers)
                {
                    if (!TriggerSupport.IsSchedule(trigger))
                    {
                        continue;
                    }

                    try
                    {
                        var (next, count) = await EvaluateAsync(record.Flow, trigger, cancellationToken).ConfigureAwait(false);
                        created += count;
                        if (next is { } n && (earliest is null || n < earliest))
                        {
                            earliest = n;
                        }
                    }
                    catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                    {
                        Error?.Invoke(e);
                    }
                }
            }

            if (batch.Results.Count < 500)
            {
                return (earliest, created);
            }
        }
    }

    private async Task<(DateTimeOffset? Next, int Created)> EvaluateAsync(Flow flow, TriggerDefinition trigger, CancellationToken cancellationToken)
    {
        var key = (flow.Namespace, flow.Id, trigger.Id);
        var firstLook = _seen.Add(key);
        var state = await _states.GetAsync(flow.Namespace, flow.Id, trigger.Id, cancellationToken).ConfigureAwait(false);
        if (flow.Disabled || (state?.Disabled ?? trigger.Disabled) || CronSchedule.From(trigger) is not { } schedule)
        {
            // when enabled again, the ticks missed meanwhile follow recoverMissedSchedules
            _seen.Remove(key);
            return (null, 0);
        }

        var now = Time.GetUtcNow();
        var created = 0;
        var recovering = false;
        DateTimeOffset? previous = state?.LastFire;
        DateTimeOffset? cursor;
        DateTimeOffset? backfillEnd = null;
        var backfilling = false;
        if (state?.NextFire is { } saved)
        {
            cursor = saved;
            if (firstLook)
            {
                // the tick saved last may have been saved without its execution (crash between the two): re-issue it (idempotent)
                if (state.LastFire is { } last && state.LastExecutionId is { } lastId
                    && await _runtime.Stores.Executions.GetAsync(lastId, cancellationToken).ConfigureAwait(false) is null)
                {
                    created += await FireAsync(flow, trigger, schedule, last, schedule.Previous(last), lastId, backfill: false, cancellationToken).ConfigureAwait(false) ? 1 : 0;
                }

                recovering = saved <= now;
            }
        }
        else if (TriggerSupport.Map(TriggerSupport.Prop(trigger.Properties, "backfill")) is { } backfill
                 && ParseDate(TriggerSupport.Str(backfill, "start")) is { } start)
        {
            cursor = schedule.NextOrSame(start);
            backfilling = true;
            backfillEnd = ParseDate(TriggerSupport.Str(backfill, "end"));
        }
        else
        {
            cursor = schedule.Next(now);
            if (state is null || state.NextFire != cursor)
            {
                await SaveAsync(flow, trigger, state, state?.LastFire, cursor, state?.LastExecutionId, cancellationToken).ConfigureAwait(false);
            }

            return (cursor, created);
        }

        var policy = (TriggerSupport.Str(trigger.Properties, "recoverMissedSchedules") ?? "ALL").ToUpperInvariant();
        var fired = 0;
        while (cursor is { } tick && tick <= now && fired < _options.MaxTicksPerPass)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var isBackfill = backfilling;
            if (backfillEnd is { } end && tick > end)
            {
                // backfill done: continue from now
                cursor = schedule.Next(now);
                break;
            }

            var nextTick = schedule.Next(tick);
            var skip = recovering && !isBackfill && policy switch
            {
                "NONE" => true,
                "LAST" => nextTick is { } n && n <= now,
                _ => false,
            };
            string? executionId = null;
            if (!skip)
            {
                executionId = IdGenerator.Derive("schedule", flow.Namespace, flow.Id, trigger.Id, tick.UtcTicks.ToString(CultureInfo.InvariantCulture));
            }

            // durable before the execution exists: a restart re-issues this tick (same id) instead of losing or repeating it
            state = await SaveAsync(flow, trigger, state, skip ? state?.LastFire : tick, nextTick, skip ? state?.LastExecutionId : executionId, cancellationToken).ConfigureAwait(false);
            if (!skip && await FireAsync(flow, trigger, schedule, tick, previous, executionId!, isBackfill, cancellationToken).ConfigureAwait(false))
            {
                created++;
            }

            previous = tick;
            cursor = nextTick;
            fired++;
        }

        if (cursor is { } c && c <= now && recovering && policy == "NONE")
        {
            cursor = schedule.Next(now);
        }

        if (state?.NextFire != cursor)
        {
            await SaveAsync(flow, trigger, state, state?.LastFire, cursor, state?.LastExecutionId, cancellationToken).ConfigureAwait(false);
        }

        return (cursor, created);
    }

    private async Task<TriggerState> SaveAsync(Flow flow, TriggerDefinition trigger, TriggerState? state, DateTimeOffset? lastFire, DateTimeOffset? nextFire, string? executionId, CancellationToken cancellationToken)
    {
        var updated = (state ?? new TriggerState { Namespace = flow.Namespace, FlowId = flow.Id, TriggerId = trigger.Id })
            with { LastFire = lastFire, NextFire = nextFire, LastExecutionId = executionId, Updated = Time.GetUtcNow() };
        await _states.SaveAsync(updated, cancellationToken).ConfigureAwait(false);
        return updated;
    }

    /// <summary>Creates the execution of one tick unless the schedule conditions reject it. False when skipped or failed.</summary>
    private async Task<bool> FireAsync(Flow flow, TriggerDefinition trigger, CronSchedule schedule, DateTimeOffset tick, DateTimeOffset? previous, string executionId,
        bool backfill, CancellationToken cancellationToken)
    {
        var zoned = TimeZoneInfo.ConvertTime(tick, schedule.Zone);
        var variables = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["date"] = TriggerSupport.Iso(zoned),
            ["next"] = schedule.Next(tick) is { } next ? TriggerSupport.Iso(TimeZoneInfo.ConvertTime(next, schedule.Zone)) : null,
            ["previous"] = (previous ?? schedule.Previous(tick)) is { } prev ? TriggerSupport.Iso(TimeZoneInfo.ConvertTime(prev, schedule.Zone)) : null,
        };
        var context = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["flow"] = new Dictionary<string, object?>(StringComparer.Ordinal) { ["id"] = flow.Id, ["namespace"] = flow.Namespace, ["revision"] = (long)(flow.Revision ?? 1) },
            ["trigger"] = variables,
        };
        var expressions = _runtime.Expressions;
        var conditions = trigger.Conditions.AsEnumerable();
        if (TriggerSupport.Prop(trigger.Properties, "scheduleConditions") is IEnumerable<object?> legacy)
        {
            conditions = conditions.Concat(legacy.OfType<IReadOnlyDictionary<string, object?>>().Select(c => new ConditionDefinition
            {
                Type = TriggerSupport.Str(c, "type") ?? "",
                CanonicalType = TriggerSupport.Str(c, "type") ?? "",
                Properties = c,
            }));
        }

        if (!TriggerSupport.ScheduleConditionsMet(conditions, zoned, expressions, context))
        {
            return false;
        }

        try
        {
            var labels = TriggerSupport.Labels(trigger, expressions, context);
            if (backfill && TriggerSupport.Map(TriggerSupport.Prop(trigger.Properties, "backfill")) is { } b)
            {
                labels = labels.AddRange(TriggerSupport.Labels(new TriggerDefinition { Id = trigger.Id, Type = trigger.Type, CanonicalType = trigger.CanonicalType, Properties = b }, expressions, context));
                labels = labels.Add(new ExecutionLabel("system.backfill", "true"));
            }

            await _runtime.CreateExecutionAsync(new ExecutionRequest
            {
                Namespace = flow.Namespace,
                FlowId = flow.Id,
                ExecutionId = executionId,
                Inputs = TriggerSupport.RenderInputs(trigger, expressions, context),
                Labels = labels,
                Trigger = new ExecutionTrigger { Id = trigger.Id, Type = trigger.CanonicalType, Variables = variables },
                ScheduleDate = tick,
            }, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Error?.Invoke(new InvalidOperationException($"Schedule {flow.Namespace}.{flow.Id}.{trigger.Id} at {TriggerSupport.Iso(tick)}: {e.Message}", e));
            return false;
        }
    }

    private static DateTimeOffset? ParseDate(string? text) =>
        text is not null && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var d) ? d : null;

    internal static ImmutableArray<string> Policies => ["ALL", "LAST", "NONE"];
}

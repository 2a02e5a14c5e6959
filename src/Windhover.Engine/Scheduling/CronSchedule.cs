using Cronos;
using Windhover.Flows.Model;
using Windhover.Engine.Triggers;

namespace Windhover.Engine.Scheduling;

/// <summary>A Schedule trigger's cron (Cronos, with Kestra's @-aliases) in its time zone.</summary>
public sealed class CronSchedule
{
    private readonly CronExpression _expression;

    private CronSchedule(CronExpression expression, TimeZoneInfo zone)
    {
        _expression = expression;
        Zone = zone;
    }

    public TimeZoneInfo Zone { get; }

    /// <summary>Parses the trigger's <c>cron</c>, <c>withSeconds</c> and <c>timezone</c>; null when it has no valid cron.</summary>
    public static CronSchedule? From(TriggerDefinition trigger)
    {
        if (TriggerSupport.Str(trigger.Properties, "cron") is not { } cron)
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
        var withSeconds = TriggerSupport.Flag(trigger.Properties, "withSeconds");
        var zone = TimeZoneInfo.Utc;
        if (TriggerSupport.Str(trigger.Properties, "timezone") is { } tz && TimeZoneInfo.TryFindSystemTimeZoneById(tz, out var found))
        {
            zone = found;
        }

        try
        {
            return new CronSchedule(CronExpression.Parse(cron, withSeconds ? CronFormat.IncludeSeconds : CronFormat.Standard), zone);
        }
        catch (CronFormatException)
        {
            return null;
        }
    }

    /// <summary>The first occurrence strictly after <paramref name="from"/>, in the schedule's zone.</summary>
    public DateTimeOffset? Next(DateTimeOffset from) => _expression.GetNextOccurrence(from, Zone);

    /// <summary>The first occurrence at or after <paramref name="from"/>.</summary>
    public DateTimeOffset? NextOrSame(DateTimeOffset from) => _expression.GetNextOccurrence(from, Zone, inclusive: true);

    /// <summary>The last occurrence strictly before <paramref name="date"/> (searched back up to a year), for <c>trigger.previous</c>.</summary>
    public DateTimeOffset? Previous(DateTimeOffset date)
    {
        for (var span = TimeSpan.FromMinutes(2); span <= TimeSpan.FromDays(800); span *= 8)
        {
            DateTimeOffset? last = null;
            foreach (var occurrence in _expression.GetOccurrences(date - span, date, Zone, fromInclusive: true, toInclusive: false))
            {
                last = occurrence;
            }

            if (last is not null)
            {
                return last;
            }
        }

        return null;
    }
}

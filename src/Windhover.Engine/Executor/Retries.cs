using Windhover.Engine.Executions;
using Windhover.Flows.Model;

namespace Windhover.Engine.Executor;

/// <summary>Kestra's AbstractRetry arithmetic. <c>maxAttempt</c> counts every attempt, the first one included.</summary>
internal static class Retries
{
    /// <summary>When the next attempt of <paramref name="taskRun"/> may start, or null when the retry is exhausted.</summary>
    public static DateTimeOffset? NextRetryDate(RetryDefinition retry, TaskRun taskRun, DateTimeOffset now)
    {
        var attempts = taskRun.AttemptCount;
        if (attempts == 0 || (retry.MaxAttempt is { } max && attempts >= max))
        {
            return null;
        }

        var lastEnd = taskRun.LastAttempt?.State.MaxDate ?? now;
        var next = lastEnd + Delay(retry, attempts, taskRun.Id);
        var firstStart = taskRun.Attempts!.Value[0].State.StartDate;
        if (retry.MaxDuration is { } maxDuration && next > firstStart + maxDuration)
        {
            return null;
        }

        return next;
    }

    /// <summary>CREATE_NEW_EXECUTION: attempts are executions (<c>metadata.attemptNumber</c>).</summary>
    public static DateTimeOffset? NextExecutionRetryDate(RetryDefinition retry, Execution execution, DateTimeOffset now)
    {
        var attempts = execution.Metadata?.AttemptNumber ?? 1;
        if (retry.MaxAttempt is { } max && attempts >= max)
        {
            return null;
        }

        var next = now + Delay(retry, attempts, execution.Id);
        var firstStart = execution.Metadata?.OriginalCreatedDate ?? execution.State.StartDate;
        if (retry.MaxDuration is { } maxDuration && next > firstStart + maxDuration)
        {
            return null;
        }

        return next;
    }

    /// <summary>The wait before attempt <paramref name="attemptCount"/> + 1. Random intervals are derived from the seed (pure).</summary>
    public static TimeSpan Delay(RetryDefinition retry, int attemptCount, string seed)
    {
        switch (retry.Kind)
        {
            case RetryKind.Exponential:
                var interval = retry.Interval ?? TimeSpan.FromSeconds(1);
                var factor = retry.DelayFactor ?? 2d;
                var delay = TimeSpan.FromTicks((long)Math.Min(interval.Ticks * Math.Pow(factor, attemptCount - 1), TimeSpan.MaxValue.Ticks / 2d));
                return retry.MaxInterval is { } cap && delay > cap ? cap : delay;
            case RetryKind.Random:
                var min = retry.MinInterval ?? TimeSpan.Zero;
                var maxInterval = retry.MaxInterval ?? min;
                if (maxInterval <= min)
                {
                    return min;
                }

                var hash = IdGenerator.Derive(seed, attemptCount.ToString(System.Globalization.CultureInfo.InvariantCulture));
                var fraction = Deterministic(hash);
                return min + TimeSpan.FromTicks((long)((maxInterval - min).Ticks * fraction));
            default:
                return retry.Interval ?? TimeSpan.Zero;
        }
    }

    private static double Deterministic(string id)
    {
        ulong value = 0;
        foreach (var c in id.AsSpan(0, 10))
        {
            value = (value * 62) + (ulong)c;
        }

        return value % 1_000_000 / 1_000_000d;
    }
}

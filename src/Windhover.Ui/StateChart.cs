using System.Globalization;
using Windhover.Engine.Executions;
using Windhover.Engine.Stores;

namespace Windhover.Ui;

/// <summary>Stacked bars of executions per time bucket and state group, laid out for an SVG.</summary>
internal static class StateChart
{
    /// <summary>State groups, bottom to top, with their CSS class.</summary>
    public static readonly string[] Series = ["SUCCESS", "WARNING", "FAILED", "KILLED", "RUNNING", "OTHER"];

    public sealed record Segment(double X, double Y, double Width, double Height, string Series, long Count, string Tooltip);

    public sealed record Label(double X, string Text);

    public sealed record Chart(IReadOnlyList<Segment> Segments, IReadOnlyList<Label> Labels, long Max, IReadOnlyDictionary<string, long> Totals, double Width, double Height);

    public const double PlotTop = 10, PlotHeight = 160, Left = 44, Width = 860;

    public static string SeriesOf(State state) => state switch
    {
        State.Success => "SUCCESS",
        State.Warning => "WARNING",
        State.Failed => "FAILED",
        State.Killed => "KILLED",
        State.Cancelled or State.Retried or State.Skipped => "OTHER",
        _ => "RUNNING",
    };

    public static Chart Of(IReadOnlyList<ExecutionCountBucket> counts, DateTimeOffset from, TimeSpan bucket, int buckets)
    {
        var grid = new long[buckets, Series.Length];
        foreach (var c in counts.Where(c => c.Bucket >= 0 && c.Bucket < buckets))
        {
            grid[c.Bucket, Array.IndexOf(Series, SeriesOf(c.State))] += c.Count;
        }

        long max = 1;
        for (var b = 0; b < buckets; b++)
        {
            long sum = 0;
            for (var s = 0; s < Series.Length; s++)
            {
                sum += grid[b, s];
            }

            max = Math.Max(max, sum);
        }

        var slot = (Width - Left) / buckets;
        var barWidth = Math.Max(2, slot * 0.75);
        var segments = new List<Segment>();
        var totals = Series.ToDictionary(s => s, _ => 0L, StringComparer.Ordinal);
        for (var b = 0; b < buckets; b++)
        {
            var y = PlotTop + PlotHeight;
            var x = Left + (b * slot) + ((slot - barWidth) / 2);
            for (var s = 0; s < Series.Length; s++)
            {
                var count = grid[b, s];
                if (count == 0)
                {
                    continue;
                }

                totals[Series[s]] += count;
                var height = count * PlotHeight / max;
                y -= height;
                segments.Add(new Segment(x, y, barWidth, height, Series[s], count, $"{Format.Date(from + (bucket * b))}: {count} {Series[s]}"));
            }
        }

        var every = Math.Max(1, buckets / 6);
        var labels = Enumerable.Range(0, buckets).Where(b => b % every == 0)
            .Select(b => new Label(Left + (b * slot), (from + (bucket * b)).ToUniversalTime().ToString(bucket < TimeSpan.FromDays(1) ? "MM-dd HH:mm" : "MM-dd", CultureInfo.InvariantCulture)))
            .ToList();
        return new Chart(segments, labels, max, totals, Width, PlotTop + PlotHeight + 24);
    }
}

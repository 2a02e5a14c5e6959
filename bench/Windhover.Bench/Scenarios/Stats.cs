namespace Windhover.Bench.Scenarios;

/// <summary>Medians and percentiles (linear interpolation between the closest ranks), rounded to 3 decimals.</summary>
internal static class Stats
{
    public static double Median(List<double> values) => Percentile(values, 0.5);

    public static double Percentile(List<double> values, double p)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToArray();
        var rank = p * (sorted.Length - 1);
        var low = (int)Math.Floor(rank);
        var high = (int)Math.Ceiling(rank);
        return Math.Round(sorted[low] + ((sorted[high] - sorted[low]) * (rank - low)), 3);
    }
}

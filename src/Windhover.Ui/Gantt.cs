using Windhover.Engine.Executions;

namespace Windhover.Ui;

/// <summary>
/// A Gantt timeline of an execution's task runs for an SVG: one row per task run (tree order), a bar from its first to
/// its last state change (to <c>now</c> while it runs), on a shared time axis from the execution's start. At most
/// <see cref="MaxRows"/> rows are drawn (a ForEach of thousands would make an SVG nobody can read or load);
/// <see cref="Chart.Hidden"/> counts the rest, while the time axis still spans them all.
/// </summary>
internal static class Gantt
{
    public sealed record Bar(string TaskRunId, string Label, int Depth, double X, double Width, double Y, State State, string Tooltip);

    public sealed record Tick(double X, string Label);

    public sealed record Chart(IReadOnlyList<Bar> Bars, IReadOnlyList<Tick> Ticks, double Width, double Height, double LabelWidth, int Hidden);

    public const double RowHeight = 24, BarHeight = 14, Top = 22;
    public const int MaxRows = 300;
    private const double LabelWidth = 220, PlotWidth = 640;

    public static Chart Of(Execution execution, IEnumerable<(TaskRun Run, int Depth)> tree, DateTimeOffset now)
    {
        var start = execution.State.StartDate;
        var rows = tree.ToList();
        var end = execution.State.EndDate ?? now;
        foreach (var (run, _) in rows)
        {
            var runEnd = RunEnd(run, now);
            if (runEnd > end)
            {
                end = runEnd;
            }
        }

        var total = Math.Max((end - start).TotalMilliseconds, 1);
        var drawn = Math.Min(rows.Count, MaxRows);
        var bars = new List<Bar>(drawn);
        for (var i = 0; i < drawn; i++)
        {
            var (run, depth) = rows[i];
            var runStart = run.State.StartDate == default ? start : run.State.StartDate;
            var runEnd = RunEnd(run, now);
            var x = LabelWidth + (Math.Max(0, (runStart - start).TotalMilliseconds) / total * PlotWidth);
            var width = Math.Max(2, (runEnd - runStart).TotalMilliseconds / total * PlotWidth);
            var label = run.TaskId + (run.Value is { } v ? $" [{v}]" : "");
            var tooltip = $"{label}: {run.State.Current.ToKestraName()}, {Format.Duration(runEnd - runStart)} from +{Format.Duration(runStart - start)}";
            bars.Add(new Bar(run.Id, label, depth, x, Math.Min(width, LabelWidth + PlotWidth - x + 2), Top + (i * RowHeight), run.State.Current, tooltip));
        }

        var ticks = Enumerable.Range(0, 5).Select(i => new Tick(LabelWidth + (i * PlotWidth / 4), "+" + Format.Duration(TimeSpan.FromMilliseconds(total * i / 4)))).ToList();
        return new Chart(bars, ticks, LabelWidth + PlotWidth + 60, Top + (drawn * RowHeight) + 6, LabelWidth, rows.Count - drawn);
    }

    private static DateTimeOffset RunEnd(TaskRun run, DateTimeOffset now) =>
        run.State.EndDate ?? (run.State.Histories.IsDefaultOrEmpty ? now : (run.State.Current.IsTerminal() ? run.State.Histories[^1].Date : now));
}

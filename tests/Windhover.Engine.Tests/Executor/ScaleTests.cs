using System.Diagnostics;
using Windhover.Engine.Executions;
using Windhover.Engine.Tests.Support;
using static Windhover.Engine.Tests.Support.F;

namespace Windhover.Engine.Tests.Executor;

public sealed class ScaleTests
{
    /// <summary>A guard against accidental cubic behaviour (each step is linear in the task run count), loose enough for a loaded CI machine.</summary>
    [Fact]
    public void Large_foreach_settles_in_reasonable_time()
    {
        var values = Enumerable.Range(0, 300).Select(i => (object?)("v" + i)).ToList();
        var each = Flowable("each", "ForEach", L(LogT("a"), LogT("b")), ("values", values), ("concurrencyLimit", 0L));
        var watch = Stopwatch.StartNew();
        var h = new Harness(Of(each)).RunToEnd(maxEvents: 100_000);
        watch.Stop();
        Assert.Equal(State.Success, h.Execution.State.Current);
        Assert.Equal(601, h.Count);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(120), $"took {watch.Elapsed}, executor {h.ApplyTime}");
    }
}

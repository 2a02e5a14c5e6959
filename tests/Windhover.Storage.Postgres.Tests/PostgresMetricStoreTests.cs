using Windhover.Engine.Stores;
using Windhover.Testing;

namespace Windhover.Storage.Postgres.Tests;

/// <summary>Task run metrics in the shared database: what one node records, another node reads and deletes.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresMetricStoreTests
{
    private static MetricEntry Metric(string executionId, string name, double value, DateTimeOffset at) =>
        TestMetrics.Entry(executionId, name, value, at, name == "duration" ? new Dictionary<string, string>() : new Dictionary<string, string> { ["format"] = "x" });

    [PostgresFact]
    public async Task Metrics_recorded_on_one_node_are_read_in_recording_order_and_deleted_on_another()
    {
        await using var test = await TestDatabase.CreateAsync();
        await using var nodeA = await PostgresDatabase.OpenAsync(test.ConnectionString);
        await using var nodeB = await PostgresDatabase.OpenAsync(test.ConnectionString);
        var a = nodeA.CreateStores().Metrics;
        var b = nodeB.CreateStores().Metrics;
        Assert.IsType<PostgresMetricStore>(a);
        var at = new DateTimeOffset(2026, 1, 2, 3, 4, 5, 678, TimeSpan.Zero).AddTicks(9);

        a.Add(Metric("e1", "length", 3, at));
        a.Add(Metric("e2", "length", 7, at));
        a.Add(Metric("e1", "duration", 0.25, at.AddSeconds(1)));
        // A read on the recording node flushes first.
        Assert.Equal(["length", "duration"], (await a.FindAsync("e1")).Select(m => m.Name));

        var e1 = await b.FindAsync("e1");
        Assert.Equal(2, e1.Count);
        Assert.Equal(new[] { 3d, 0.25 }, e1.Select(m => m.Value));
        Assert.Equal(at, e1[0].Timestamp);
        Assert.Equal(["counter", "timer"], e1.Select(m => m.Type));
        Assert.Equal("e1-t", e1[0].TaskRunId);
        Assert.Equal("t", e1[0].TaskId);
        Assert.Equal(("company.team", "metrics"), (e1[0].Namespace, e1[0].FlowId));
        Assert.Equal("x", e1[0].Tags["format"]);
        Assert.Empty(e1[1].Tags);
        Assert.Single(b.Find("e2"));

        // Nobody reads on node A: its background flush alone makes the metric visible to node B.
        a.Add(Metric("e3", "length", 11, at));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        IReadOnlyList<MetricEntry> e3 = [];
        while (e3.Count == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
            e3 = await b.FindAsync("e3");
        }

        Assert.Equal(11, Assert.Single(e3).Value);

        await b.DeleteAsync("e1");
        Assert.Empty(await a.FindAsync("e1"));
        Assert.Single(await a.FindAsync("e2"));
    }
}

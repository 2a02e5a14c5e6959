using Windhover.Engine.Stores;
using Windhover.Testing;

namespace Windhover.Storage.Sqlite.Tests;

/// <summary>Task run metrics kept in the SQLite file: written in batches, read back after a reopen, deleted with their execution.</summary>
public sealed class SqliteMetricStoreTests
{
    private static MetricEntry Metric(string executionId, string name, double value, DateTimeOffset at) =>
        TestMetrics.Entry(executionId, name, value, at, new Dictionary<string, string> { ["format"] = "x" });

    [Fact]
    public async Task Metrics_survive_a_reopen_in_recording_order_and_are_deleted_per_execution()
    {
        var folder = RuntimeHost.NewFolder();
        var path = Path.Combine(folder, "metrics.db");
        var at = new DateTimeOffset(2026, 1, 2, 3, 4, 5, 678, TimeSpan.Zero);
        try
        {
            using (var database = SqliteDatabase.Open(path))
            {
                var metrics = database.CreateStores().Metrics;
                Assert.IsType<SqliteMetricStore>(metrics);
                metrics.Add(Metric("e1", "length", 3, at));
                metrics.Add(Metric("e2", "length", 7, at));
                metrics.Add(Metric("e1", "duration", 0.25, at.AddSeconds(1)));
                var first = await metrics.FindAsync("e1");
                Assert.Equal(["length", "duration"], first.Select(m => m.Name));
            }

            using (var reopened = SqliteDatabase.Open(path))
            {
                var metrics = reopened.CreateStores().Metrics;
                var e1 = await metrics.FindAsync("e1");
                Assert.Equal(2, e1.Count);
                Assert.Equal(new[] { 3d, 0.25 }, e1.Select(m => m.Value));
                Assert.Equal(at, e1[0].Timestamp);
                Assert.Equal("timer", e1[1].Type);
                Assert.Equal("e1-t", e1[0].TaskRunId);
                Assert.Equal("x", e1[0].Tags["format"]);
                Assert.Single(metrics.Find("e2"));

                await metrics.DeleteAsync("e1");
                Assert.Empty(await metrics.FindAsync("e1"));
                Assert.Single(await metrics.FindAsync("e2"));
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task A_runtime_on_SQLite_stores_the_metrics_its_tasks_record()
    {
        await using var host = await RuntimeHost.StartAsync();
        var execution = await host.RunAsync("""
            id: metrics
            namespace: company.team
            tasks:
              - id: r
                type: io.kestra.plugin.core.debug.Return
                format: hello
            """);
        var metrics = await host.Stores.Metrics.FindAsync(execution.Id);
        Assert.IsType<SqliteMetricStore>(host.Stores.Metrics);
        var length = Assert.Single(metrics, m => m.Name == "length");
        Assert.Equal(5, length.Value);
        Assert.Equal(execution.TaskRunList.Single().Id, length.TaskRunId);
        Assert.Contains(metrics, m => m.Name == "duration" && m.Type == "timer");
    }
}

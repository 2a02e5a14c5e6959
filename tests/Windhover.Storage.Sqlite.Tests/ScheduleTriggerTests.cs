using Microsoft.Extensions.Time.Testing;
using Windhover.Engine.Executions;
using Windhover.Engine.Runtime;
using Windhover.Engine.Scheduling;
using Windhover.Engine.Stores;
using Windhover.Flows.Yaml;

namespace Windhover.Storage.Sqlite.Tests;

/// <summary>The Schedule trigger over a SQLite file: one execution per tick, none lost or repeated across a restart.</summary>
public sealed class ScheduleTriggerTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static string Flow(string policy) => $$$"""
        id: every_second
        namespace: company.team
        inputs:
          - id: at
            type: STRING
            defaults: none
        tasks:
          - id: log
            type: io.kestra.plugin.core.log.Log
            message: "{{ trigger.date }}"
        triggers:
          - id: tick
            type: io.kestra.plugin.core.trigger.Schedule
            cron: "* * * * * *"
            withSeconds: true
            recoverMissedSchedules: {{{policy}}}
            inputs:
              at: "{{ trigger.date }}"
            labels:
              source: schedule
        """;

    /// <summary>A runtime and scheduler over one database file, kept when disposed (a process that stops).</summary>
    private sealed class Node : IAsyncDisposable
    {
        public required SqliteDatabase Database { get; init; }
        public required LocalRuntime Runtime { get; init; }
        public required TriggerScheduler Scheduler { get; init; }
        public List<Exception> Errors { get; } = [];

        public static async Task<Node> StartAsync(string folder, TimeProvider time)
        {
            var database = SqliteDatabase.Open(Path.Combine(folder, "windhover.db"), new SqliteStoreOptions { TimeProvider = time });
            var runtime = new LocalRuntime(database.CreateStores(), new RuntimeOptions { TimeProvider = time, WorkingDirectoryRoot = Path.Combine(folder, "work") });
            await runtime.StartAsync();
            var node = new Node { Database = database, Runtime = runtime, Scheduler = new TriggerScheduler(runtime, new SqliteTriggerStateStore(database), time) };
            node.Scheduler.Error += node.Errors.Add;
            return node;
        }

        public async Task<List<ExecutionSummary>> ExecutionsAsync() =>
            [.. (await Runtime.Stores.Executions.SearchAsync(new ExecutionQuery { Namespace = "company.team", FlowId = "every_second", Size = 1000, Ascending = true })).Results];

        public async ValueTask DisposeAsync()
        {
            await Scheduler.DisposeAsync();
            await Runtime.DisposeAsync();
            Database.Dispose();
        }
    }

    [Theory]
    [InlineData("ALL", 5)]
    [InlineData("LAST", 1)]
    [InlineData("NONE", 0)]
    public async Task Every_second_fires_once_per_tick_and_recovers_missed_ticks_after_a_restart(string policy, int recovered)
    {
        var folder = RuntimeHost.NewFolder();
        var time = new FakeTimeProvider(Start);
        var node = await Node.StartAsync(folder, time);
        await node.Runtime.Stores.Flows.SaveAsync(FlowParser.Default.Parse(Flow(policy)).Flow!);

        Assert.Equal(0, (await node.Scheduler.RunOnceAsync()).Created); // first sight: next tick at 00:00:01
        for (var i = 0; i < 3; i++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            Assert.Equal(1, (await node.Scheduler.RunOnceAsync()).Created);
            Assert.Equal(0, (await node.Scheduler.RunOnceAsync()).Created); // same tick never twice
        }

        var before = await node.ExecutionsAsync();
        Assert.Equal(3, before.Count);
        await node.DisposeAsync();

        // stopped for 5 s, then a new process on the same file
        time.Advance(TimeSpan.FromSeconds(5));
        node = await Node.StartAsync(folder, time);
        try
        {
            Assert.Equal(recovered, (await node.Scheduler.RunOnceAsync()).Created);
            Assert.Equal(0, (await node.Scheduler.RunOnceAsync()).Created);
            time.Advance(TimeSpan.FromSeconds(1));
            Assert.Equal(1, (await node.Scheduler.RunOnceAsync()).Created);

            var all = await node.ExecutionsAsync();
            Assert.Equal(3 + recovered + 1, all.Count);
            var full = new List<Execution>();
            foreach (var summary in all)
            {
                full.Add((await node.Runtime.Stores.Executions.GetAsync(summary.Id))!);
            }

            var dates = full.Select(e => (string)e.Trigger!.Variables!["date"]!).ToList();
            Assert.Equal(dates.Count, dates.Distinct().Count());
            var expected = new List<string> { "2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z", "2026-01-01T00:00:03Z" };
            expected.AddRange(policy switch
            {
                "ALL" => ["2026-01-01T00:00:04Z", "2026-01-01T00:00:05Z", "2026-01-01T00:00:06Z", "2026-01-01T00:00:07Z", "2026-01-01T00:00:08Z"],
                "LAST" => ["2026-01-01T00:00:08Z"],
                _ => [],
            });
            expected.Add("2026-01-01T00:00:09Z");
            Assert.Equal(expected, dates.Order(StringComparer.Ordinal).ToList());
            var first = full.Single(e => (string)e.Trigger!.Variables!["date"]! == "2026-01-01T00:00:02Z");
            Assert.Equal("tick", first.Trigger!.Id);
            Assert.Equal("io.kestra.plugin.core.trigger.Schedule", first.Trigger.Type);
            Assert.Equal("2026-01-01T00:00:01Z", first.Trigger.Variables!["previous"]);
            Assert.Equal("2026-01-01T00:00:03Z", first.Trigger.Variables!["next"]);
            Assert.Equal("2026-01-01T00:00:02Z", first.Inputs!["at"]);
            Assert.Contains(first.Labels, l => l.Key == "source" && l.Value == "schedule");
            Assert.Equal(new DateTimeOffset(2026, 1, 1, 0, 0, 2, TimeSpan.Zero), first.ScheduleDate);

            var state = await new SqliteTriggerStateStore(node.Database).GetAsync("company.team", "every_second", "tick");
            Assert.Equal(new DateTimeOffset(2026, 1, 1, 0, 0, 10, TimeSpan.Zero), state!.NextFire);
            Assert.Empty(node.Errors);
        }
        finally
        {
            await node.DisposeAsync();
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task The_loop_sleeps_on_the_time_provider_until_the_next_tick()
    {
        var folder = RuntimeHost.NewFolder();
        var time = new FakeTimeProvider(Start);
        await using var node = await Node.StartAsync(folder, time);
        await node.Runtime.Stores.Flows.SaveAsync(FlowParser.Default.Parse(Flow("ALL")).Flow!);
        var passes = System.Threading.Channels.Channel.CreateUnbounded<int>();
        node.Scheduler.PassCompleted += n => passes.Writer.TryWrite(n);
        node.Scheduler.Start();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Assert.Equal(0, await passes.Reader.ReadAsync(cts.Token));
        var created = 0;
        for (var i = 0; i < 4; i++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            created += await passes.Reader.ReadAsync(cts.Token);
        }

        await node.Scheduler.StopAsync();
        Assert.Equal(4, created);
        Assert.Equal(4, (await node.ExecutionsAsync()).Count);
        Assert.Empty(node.Errors);
    }

    [Fact]
    public async Task Backfill_fires_every_tick_from_start_then_follows_the_cron()
    {
        var folder = RuntimeHost.NewFolder();
        var time = new FakeTimeProvider(Start.AddMinutes(10));
        await using var node = await Node.StartAsync(folder, time);
        await node.Runtime.Stores.Flows.SaveAsync(FlowParser.Default.Parse("""
            id: every_second
            namespace: company.team
            tasks:
              - id: log
                type: io.kestra.plugin.core.log.Log
                message: hi
            triggers:
              - id: minutely
                type: io.kestra.plugin.core.trigger.Schedule
                cron: "*/2 * * * *"
                backfill:
                  start: "2026-01-01T00:00:00Z"
            """).Flow!);
        Assert.Equal(6, (await node.Scheduler.RunOnceAsync()).Created); // 00:00, 02, 04, 06, 08, 10
        Assert.Equal(0, (await node.Scheduler.RunOnceAsync()).Created);
        var executions = await node.ExecutionsAsync();
        var one = await node.Runtime.Stores.Executions.GetAsync(executions[0].Id);
        Assert.Contains(one!.Labels, l => l.Key == "system.backfill");
        Assert.Empty(node.Errors);
    }
}

using System.Diagnostics;
using Windhover.Engine.Executions;
using Windhover.Engine.Runtime;
using Windhover.Flows.Yaml;
using Windhover.Storage.Sqlite;

namespace Windhover.Bench.Scenarios;

/// <summary>
/// benchmark01's flow (OutputValues then Log) driven through the in-process runtime on SQLite without HTTP, closed
/// loop with a fixed number in flight: the engine's and store's capacity in executions per minute and the CPU time per
/// execution. CPU per execution is the figure to compare on a loaded machine (wall clock is shared with other work).
/// </summary>
internal static class Throughput
{
    private const string Flow = Benchmark01.Flow;

    public static async Task<object> RunAsync(int count, int inFlight)
    {
        var folder = Directory.CreateTempSubdirectory("windhover-throughput-");
        try
        {
            var stores = SqliteDatabase.OpenStores(Path.Combine(folder.FullName, "bench.db"));
            await stores.Flows.SaveAsync(FlowParser.Default.Parse(Flow).Flow!);
            await using var runtime = new LocalRuntime(stores, new RuntimeOptions { WorkingDirectoryRoot = Path.Combine(folder.FullName, "work") });
            await runtime.StartAsync();
            await Drive(runtime, 500, inFlight); // warm-up
            var process = Process.GetCurrentProcess();
            process.Refresh();
            var cpuBefore = process.TotalProcessorTime;
            var gcBefore = GC.CollectionCount(0);
            var allocatedBefore = GC.GetTotalAllocatedBytes();
            var stopwatch = Stopwatch.StartNew();
            var durations = await Drive(runtime, count, inFlight);
            stopwatch.Stop();
            process.Refresh();
            var cpu = process.TotalProcessorTime - cpuBefore;
            return new
            {
                scenario = $"throughput: benchmark01 flow in-process on SQLite, {count} executions, {inFlight} in flight",
                executionsPerMinute = Math.Round(count / stopwatch.Elapsed.TotalMinutes),
                cpuMsPerExecution = Math.Round(cpu.TotalMilliseconds / count, 3),
                allocatedKbPerExecution = Math.Round((GC.GetTotalAllocatedBytes() - allocatedBefore) / 1024.0 / count, 1),
                gen0Collections = GC.CollectionCount(0) - gcBefore,
                clientLatencyMedianMs = Stats.Median(durations),
                clientLatencyP99Ms = Stats.Percentile(durations, 0.99),
            };
        }
        finally
        {
            try { folder.Delete(recursive: true); } catch (IOException) { }
        }
    }

    private static async Task<List<double>> Drive(LocalRuntime runtime, int count, int inFlight)
    {
        var durations = new List<double>(count);
        var next = -1;
        async Task Loop()
        {
            while (Interlocked.Increment(ref next) < count)
            {
                var stopwatch = Stopwatch.StartNew();
                var created = await runtime.CreateExecutionAsync(new ExecutionRequest
                {
                    Namespace = "bench",
                    FlowId = "benchmark01",
                    Trigger = new ExecutionTrigger
                    {
                        Id = "webhook",
                        Type = "io.kestra.plugin.core.trigger.Webhook",
                        Variables = new Dictionary<string, object?> { ["body"] = new Dictionary<string, object?> { ["request"] = (long)next } },
                    },
                });
                var done = await runtime.WaitForTerminalAsync(created.Id);
                if (done.State.Current != State.Success)
                {
                    throw new InvalidOperationException($"ended {done.State.Current}");
                }

                lock (durations)
                {
                    durations.Add(stopwatch.Elapsed.TotalMilliseconds);
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, inFlight).Select(_ => Task.Run(Loop)));
        return durations;
    }
}

using System.Diagnostics;
using Windhover.Engine.Executions;
using Windhover.Engine.Runtime;
using Windhover.Engine.Stores;
using Windhover.Storage.Sqlite;

namespace Windhover.Bench.Scenarios;

/// <summary>
/// Memory with many finished executions stored: a SQLite database holding <c>count</c> finished executions of
/// benchmark01's shape (two task runs, a webhook trigger with a body), then the runtime started over it (recovery
/// scans for unfinished executions) and a first page of the execution list read. Reports the process working set and
/// managed heap before and after, and the database size. Finished executions must cost no memory.
/// </summary>
internal static class StoredExecutionsMemory
{
    public static async Task<object> RunAsync(int count)
    {
        var folder = Directory.CreateTempSubdirectory("windhover-bench-memory-");
        try
        {
            var path = Path.Combine(folder.FullName, "bench.db");
            var database = SqliteDatabase.Open(path);
            var stores = database.CreateStores();
            var before = Snapshot();

            var fill = Stopwatch.StartNew();
            var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
            const int batch = 500;
            for (var offset = 0; offset < count; offset += batch)
            {
                var writes = new List<Task>(batch);
                for (var i = offset; i < Math.Min(count, offset + batch); i++)
                {
                    var execution = Finished(i, start.AddMilliseconds(i * 10));
                    writes.Add(stores.Executions.SaveAsync(execution, ExecutionChanges.Between(null, execution)));
                }

                await Task.WhenAll(writes);
            }

            fill.Stop();
            await using (var runtime = new LocalRuntime(stores, new RuntimeOptions { WorkingDirectoryRoot = Path.Combine(folder.FullName, "work") }))
            {
                var startup = Stopwatch.StartNew();
                await runtime.StartAsync();
                startup.Stop();
                var page = await stores.Executions.SearchAsync(new ExecutionQuery { Namespace = "bench", Size = 25 });
                var after = Snapshot();
                return new
                {
                    scenario = $"memory with {count:N0} finished executions stored (SQLite), runtime started over them",
                    storedExecutions = count,
                    fillSeconds = Math.Round(fill.Elapsed.TotalSeconds, 1),
                    databaseMb = Math.Round(new FileInfo(path).Length / 1048576.0 + (File.Exists(path + "-wal") ? new FileInfo(path + "-wal").Length / 1048576.0 : 0), 1),
                    runtimeStartMs = Math.Round(startup.Elapsed.TotalMilliseconds, 1),
                    firstPageTotal = page.Total,
                    workingSetMbEmpty = before.WorkingSetMb,
                    workingSetMbWithStoredExecutions = after.WorkingSetMb,
                    managedHeapMbEmpty = before.HeapMb,
                    managedHeapMbWithStoredExecutions = after.HeapMb,
                    anchor = "Kestra: at least 4 GiB of memory",
                };
            }
        }
        finally
        {
            try { folder.Delete(recursive: true); } catch (IOException) { }
        }
    }

    private static (double WorkingSetMb, double HeapMb) Snapshot()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using var process = Process.GetCurrentProcess();
        return (Math.Round(process.WorkingSet64 / 1048576.0, 1), Math.Round(GC.GetTotalMemory(forceFullCollection: true) / 1048576.0, 1));
    }

    private static Execution Finished(int i, DateTimeOffset at)
    {
        var id = IdGenerator.Create();
        var trigger = new ExecutionTrigger
        {
            Id = "webhook",
            Type = "io.kestra.plugin.core.trigger.Webhook",
            Variables = new Dictionary<string, object?> { ["body"] = new Dictionary<string, object?> { ["request"] = (long)i } },
        };
        TaskRun Run(string taskId, int offsetMs, IReadOnlyDictionary<string, object?>? outputs) => new()
        {
            Id = IdGenerator.Derive(id, taskId),
            ExecutionId = id,
            Namespace = "bench",
            FlowId = "benchmark01",
            TaskId = taskId,
            Outputs = outputs,
            Attempts = [new TaskRunAttempt { State = StateInfo.Of(State.Running, at.AddMilliseconds(offsetMs)).With(State.Success, at.AddMilliseconds(offsetMs + 1)) }],
            State = StateInfo.Of(State.Created, at.AddMilliseconds(offsetMs)).With(State.Running, at.AddMilliseconds(offsetMs)).With(State.Success, at.AddMilliseconds(offsetMs + 1)),
        };

        var execution = Execution.Create(id, "bench", "benchmark01", 1, at, labels: [new ExecutionLabel("system.correlationId", id)], trigger: trigger);
        return execution with
        {
            State = execution.State.With(State.Running, at).With(State.Success, at.AddMilliseconds(3)),
            TaskRunList =
            [
                Run("output", 0, new Dictionary<string, object?> { ["values"] = new Dictionary<string, object?> { ["request"] = i.ToString(System.Globalization.CultureInfo.InvariantCulture) } }),
                Run("log", 2, null),
            ],
        };
    }
}

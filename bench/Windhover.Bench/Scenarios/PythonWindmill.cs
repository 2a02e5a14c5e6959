using System.Diagnostics;
using Windhover.Engine.Executions;
using Windhover.Engine.Runtime;
using Windhover.Engine.Tasks;
using Windhover.Flows.TaskTypes;
using Windhover.Flows.Yaml;
using Windhover.Plugins.Scripts;
using Windhover.Storage.Sqlite;

namespace Windhover.Bench.Scenarios;

/// <summary>
/// Windmill's benchmark flow for Kestra unchanged: a ForEach (<c>concurrencyLimit: 1</c>) of 40 python.Script tasks on
/// the Process runner computing fibo(10), on SQLite. Per task, from the task-run histories as Windmill's analysis does:
/// created→running, running→success, previous success→next created; and the raw interpreter start running the same
/// script, so that the engine's share (running→success minus the raw start) is visible.
/// </summary>
internal static class PythonWindmill
{
    private const string Script = """
        def fibo(n: int):
            if n <= 1:
                return n
            else:
                return fibo(n - 1) + fibo(n - 2)
        print(str(fibo(10)))
        """;

    public static async Task<object> RunAsync(int runs)
    {
        var python = Interpreters.ResolvePython();
        var types = TaskTypeRegistry.CreateDefault();
        var tasks = TaskRegistry.CreateDefault();
        ScriptsPlugin.Register(types, tasks, new ScriptsPluginOptions { PythonExecutable = python });
        var folder = Directory.CreateTempSubdirectory("windhover-bench-python-");
        try
        {
            var stores = SqliteDatabase.OpenStores(Path.Combine(folder.FullName, "bench.db"));
            var parsed = new FlowParser(types).Parse(Windhover.Benchmarks.WindmillBenchmarkFlow.Yaml);
            await stores.Flows.SaveAsync(parsed.Flow ?? throw new InvalidOperationException(string.Join("; ", parsed.Problems)));
            await using var runtime = new LocalRuntime(stores, new RuntimeOptions { Tasks = tasks, WorkingDirectoryRoot = Path.Combine(folder.FullName, "work") });
            await runtime.StartAsync();

            var queue = new List<double>();
            var run = new List<double>();
            var gap = new List<double>();
            var raw = new List<double>();
            var script = Path.Combine(folder.FullName, "fibo.py");
            await File.WriteAllTextAsync(script, Script);
            for (var i = 0; i < runs + 1; i++)
            {
                // raw starts interleaved with the flow runs, so that both see the same machine load
                for (var r = 0; r < 10; r++)
                {
                    var stopwatch = Stopwatch.StartNew();
                    using (var process = Process.Start(new ProcessStartInfo(python, [script]) { RedirectStandardOutput = true, UseShellExecute = false })!)
                    {
                        await process.StandardOutput.ReadToEndAsync();
                        await process.WaitForExitAsync();
                    }

                    if (i > 0)
                    {
                        raw.Add(stopwatch.Elapsed.TotalMilliseconds);
                    }
                }

                var created = await runtime.CreateExecutionAsync(new ExecutionRequest
                {
                    Namespace = Windhover.Benchmarks.WindmillBenchmarkFlow.Namespace,
                    FlowId = Windhover.Benchmarks.WindmillBenchmarkFlow.Id,
                    Inputs = new Dictionary<string, object?> { ["n"] = "10", ["iters"] = "40" },
                });
                var done = await runtime.WaitForTerminalAsync(created.Id);
                if (done.State.Current != State.Success)
                {
                    throw new InvalidOperationException($"windmill-python ended {done.State.Current}");
                }

                if (i == 0)
                {
                    continue; // warm-up
                }

                TaskRun? previous = null;
                foreach (var taskRun in done.TaskRunList.Where(t => t.TaskId == "python").OrderBy(t => t.State.Histories[0].Date))
                {
                    var createdAt = taskRun.State.Histories[0].Date;
                    var running = At(taskRun, State.Running) ?? createdAt;
                    var ended = At(taskRun, State.Success) ?? running;
                    queue.Add((running - createdAt).TotalMilliseconds);
                    run.Add((ended - running).TotalMilliseconds);
                    if (previous is not null)
                    {
                        gap.Add((createdAt - (At(previous, State.Success) ?? createdAt)).TotalMilliseconds);
                    }

                    previous = taskRun;
                }
            }

            var perTask = Stats.Median(queue) + Stats.Median(run) + Stats.Median(gap);
            return new
            {
                scenario = $"windmill shape with python.Script (Process runner) computing fibo(10): ForEach(concurrencyLimit 1) of 40, {runs} measured runs, SQLite",
                python,
                tasksMeasured = run.Count,
                createdToRunningMedianMs = Stats.Median(queue),
                runningToSuccessMedianMs = Stats.Median(run),
                previousSuccessToNextCreatedMedianMs = Stats.Median(gap),
                perTaskMedianMs = perTask,
                rawInterpreterStartMedianMs = Stats.Median(raw),
                engineOverheadPerTaskMs = Math.Round(perTask - Stats.Median(raw), 3),
                anchorsMs = new { kestra2Process = 86.8, hatchet = 30.9, temporalTuned = 19.0, windmillDedicated = 9.8 },
            };
        }
        finally
        {
            try { folder.Delete(recursive: true); } catch (IOException) { }
        }
    }

    private static DateTimeOffset? At(TaskRun taskRun, State state)
    {
        foreach (var history in taskRun.State.Histories)
        {
            if (history.State == state)
            {
                return history.Date;
            }
        }

        return null;
    }
}

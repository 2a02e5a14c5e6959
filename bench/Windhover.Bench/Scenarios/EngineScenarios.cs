using System.Diagnostics;
using System.Text.Json;
using Windhover.Engine.Executions;
using Windhover.Engine.Runtime;
using Windhover.Flows.Yaml;
using Windhover.Storage.Sqlite;

namespace Windhover.Bench.Scenarios;

/// <summary>
/// End-to-end engine scenarios on a real SQLite file (WAL), timed from the task runs' own state histories, the way
/// Windmill's orchestrator benchmark analyses Kestra: per task, created→running (queue delay), running→success (task
/// time) and previous task's success→next task's created (scheduling gap).
/// </summary>
internal static class EngineScenarios
{
    private const string WindmillFlow = """
        id: windmill
        namespace: bench
        inputs:
          - id: iters
            type: INT
            defaults: 40
        tasks:
          - id: loop
            type: io.kestra.plugin.core.flow.ForEach
            values: "{{ range(1, inputs.iters) }}"
            concurrencyLimit: 1
            tasks:
              - id: task
                type: io.kestra.plugin.core.debug.Return
                format: "{{ taskrun.value }}"
        """;

    private const string ForEach100Flow = """
        id: foreach100
        namespace: bench
        tasks:
          - id: loop
            type: io.kestra.plugin.core.flow.ForEach
            values: "{{ range(1, 100) }}"
            concurrencyLimit: 0
            tasks:
              - id: task
                type: io.kestra.plugin.core.debug.Return
                format: "{{ taskrun.value }}"
        """;

    private const string FiveIfsFlow = """
        id: five-ifs
        namespace: bench
        tasks:
          - id: if1
            type: io.kestra.plugin.core.flow.If
            condition: "{{ 1 == 1 }}"
            then:
              - id: t1
                type: io.kestra.plugin.core.debug.Return
                format: one
          - id: if2
            type: io.kestra.plugin.core.flow.If
            condition: "{{ 2 == 2 }}"
            then:
              - id: t2
                type: io.kestra.plugin.core.debug.Return
                format: two
          - id: if3
            type: io.kestra.plugin.core.flow.If
            condition: "{{ 3 == 3 }}"
            then:
              - id: t3
                type: io.kestra.plugin.core.debug.Return
                format: three
          - id: if4
            type: io.kestra.plugin.core.flow.If
            condition: "{{ 4 == 4 }}"
            then:
              - id: t4
                type: io.kestra.plugin.core.debug.Return
                format: four
          - id: if5
            type: io.kestra.plugin.core.flow.If
            condition: "{{ 5 == 5 }}"
            then:
              - id: t5
                type: io.kestra.plugin.core.debug.Return
                format: five
        """;

    public static async Task<int> RunAsync(string[] names)
    {
        var all = new Dictionary<string, Func<LocalRuntime, Task<object>>>(StringComparer.OrdinalIgnoreCase)
        {
            ["windmill"] = Windmill,
            ["foreach100"] = runtime => EndToEnd(runtime, "foreach100", runs: 30),
            ["five-ifs"] = runtime => EndToEnd(runtime, "five-ifs", runs: 50),
            ["profile-foreach100"] = _ => ExecutorProfile.RunAsync(100),
            ["profile-foreach400"] = _ => ExecutorProfile.RunAsync(400),
            ["throughput"] = _ => Throughput.RunAsync(5000, 64),
            ["windmill-python"] = _ => PythonWindmill.RunAsync(runs: 3),
            ["memory-100k"] = _ => StoredExecutionsMemory.RunAsync(100_000),
        };
        var selected = names.Length == 0 ? all.Keys.Where(k => !k.StartsWith("profile-", StringComparison.Ordinal) && k is not ("throughput" or "memory-100k")).ToArray() : names;
        var unknown = selected.Where(n => !all.ContainsKey(n)).ToArray();
        if (unknown.Length > 0)
        {
            Console.Error.WriteLine($"unknown scenario(s): {string.Join(", ", unknown)}; known: {string.Join(", ", all.Keys)}");
            return 2;
        }

        var folder = Directory.CreateTempSubdirectory("windhover-bench-");
        try
        {
            var stores = SqliteDatabase.OpenStores(Path.Combine(folder.FullName, "bench.db"));
            foreach (var yaml in new[] { WindmillFlow, ForEach100Flow, FiveIfsFlow })
            {
                var parsed = FlowParser.Default.Parse(yaml);
                await stores.Flows.SaveAsync(parsed.Flow ?? throw new InvalidOperationException(string.Join("; ", parsed.Problems)));
            }

            await using var runtime = new LocalRuntime(stores, new RuntimeOptions { WorkingDirectoryRoot = Path.Combine(folder.FullName, "work") });
            await runtime.StartAsync();
            Directory.CreateDirectory("bench-results");
            foreach (var name in selected)
            {
                var result = await all[name](runtime);
                var json = JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true });
                await File.WriteAllTextAsync(Path.Combine("bench-results", name + ".json"), json);
                Console.WriteLine($"== {name}");
                Console.WriteLine(json);
            }
        }
        finally
        {
            try { folder.Delete(recursive: true); } catch (IOException) { }
        }

        return 0;
    }

    /// <summary>40 sequential Return tasks inside a ForEach with concurrencyLimit 1 (Windmill's shape), 10 runs.</summary>
    private static async Task<object> Windmill(LocalRuntime runtime)
    {
        var queue = new List<double>();
        var run = new List<double>();
        var gap = new List<double>();
        var total = new List<double>();
        for (var i = 0; i < 12; i++)
        {
            var execution = await RunOnce(runtime, "windmill");
            if (i < 2)
            {
                continue; // warm-up
            }

            var leaves = execution.TaskRunList.Where(t => t.TaskId == "task").OrderBy(t => Created(t)).ToList();
            TaskRun? previous = null;
            foreach (var taskRun in leaves)
            {
                var created = Created(taskRun);
                var running = At(taskRun, State.Running) ?? created;
                var ended = At(taskRun, State.Success) ?? running;
                queue.Add((running - created).TotalMilliseconds);
                run.Add((ended - running).TotalMilliseconds);
                if (previous is not null)
                {
                    gap.Add((created - (At(previous, State.Success) ?? created)).TotalMilliseconds);
                }

                total.Add((running - created).TotalMilliseconds + (ended - running).TotalMilliseconds);
                previous = taskRun;
            }
        }

        var perTask = Stats.Median(queue) + Stats.Median(run) + Stats.Median(gap);
        return new
        {
            scenario = "windmill: ForEach(concurrencyLimit 1) of 40 Return tasks, 10 measured runs",
            tasksMeasured = run.Count,
            createdToRunningMedianMs = Stats.Median(queue),
            runningToSuccessMedianMs = Stats.Median(run),
            previousSuccessToNextCreatedMedianMs = Stats.Median(gap),
            overheadPerTaskMedianMs = perTask,
            anchorsMs = new { kestra2Process = 86.8, hatchet = 30.9, temporalTuned = 19.0, windmillDedicated = 9.8 },
            ratioToKestra = perTask / 86.8,
        };
    }

    private static async Task<object> EndToEnd(LocalRuntime runtime, string flowId, int runs)
    {
        var wall = new List<double>();
        var history = new List<double>();
        for (var i = 0; i < runs + 3; i++)
        {
            var stopwatch = Stopwatch.StartNew();
            var execution = await RunOnce(runtime, flowId);
            stopwatch.Stop();
            if (i < 3)
            {
                continue; // warm-up
            }

            wall.Add(stopwatch.Elapsed.TotalMilliseconds);
            history.Add(((execution.State.EndDate ?? execution.State.StartDate) - execution.State.StartDate).TotalMilliseconds);
        }

        return new
        {
            scenario = flowId,
            runs,
            wallClockMedianMs = Stats.Median(wall),
            stateDurationMedianMs = Stats.Median(history),
            wallClockP90Ms = Stats.Percentile(wall, 0.9),
        };
    }

    private static async Task<Execution> RunOnce(LocalRuntime runtime, string flowId)
    {
        var created = await runtime.CreateExecutionAsync(new ExecutionRequest { Namespace = "bench", FlowId = flowId });
        var done = await runtime.WaitForTerminalAsync(created.Id);
        if (done.State.Current != State.Success)
        {
            throw new InvalidOperationException($"{flowId} ended {done.State.Current}");
        }

        return done;
    }

    private static DateTimeOffset Created(TaskRun taskRun) => taskRun.State.Histories[0].Date;

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

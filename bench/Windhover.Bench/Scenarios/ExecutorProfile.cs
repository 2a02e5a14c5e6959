using System.Diagnostics;
using Windhover.Engine.Executions;
using Windhover.Engine.Executor;
using Windhover.Engine.Expressions;
using Windhover.Engine.Runtime;
using Windhover.Engine.Stores;
using Windhover.Flows.Model;
using Windhover.Flows.Yaml;

namespace Windhover.Bench.Scenarios;

/// <summary>
/// Where the time of a ForEach of N goes, without I/O: the pure executor driven with the worker's reports one event at
/// a time (as the runtime applies them), then the in-process runtime on in-memory stores. Compare with the SQLite
/// figure of <c>scenario foreach100</c> to see the store's share.
/// </summary>
internal static class ExecutorProfile
{
    public static async Task<object> RunAsync(int size)
    {
        var yaml = $$$"""
            id: foreach{{{size}}}
            namespace: bench
            tasks:
              - id: loop
                type: io.kestra.plugin.core.flow.ForEach
                values: "{{ range(1, {{{size}}}) }}"
                concurrencyLimit: 0
                tasks:
                  - id: task
                    type: io.kestra.plugin.core.debug.Return
                    format: "{{ taskrun.value }}"
            """;
        var flow = FlowParser.Default.Parse(yaml).Flow ?? throw new InvalidOperationException("flow");
        var executor = new Executor(new ExpressionRenderer());
        var pure = new List<double>();
        var steps = 0;
        for (var run = 0; run < 13; run++)
        {
            var stopwatch = Stopwatch.StartNew();
            steps = DrivePure(executor, flow);
            stopwatch.Stop();
            if (run >= 3)
            {
                pure.Add(stopwatch.Elapsed.TotalMilliseconds);
            }
        }

        var stores = InMemoryStores.Create();
        await stores.Flows.SaveAsync(flow);
        var memory = new List<double>();
        await using (var runtime = new LocalRuntime(stores, new RuntimeOptions { WorkingDirectoryRoot = Path.Combine(Path.GetTempPath(), "windhover-bench-work") }))
        {
            await runtime.StartAsync();
            for (var run = 0; run < 33; run++)
            {
                var stopwatch = Stopwatch.StartNew();
                var created = await runtime.CreateExecutionAsync(new ExecutionRequest { Namespace = "bench", FlowId = flow.Id });
                var done = await runtime.WaitForTerminalAsync(created.Id);
                stopwatch.Stop();
                if (done.State.Current != State.Success)
                {
                    throw new InvalidOperationException($"ended {done.State.Current}");
                }

                if (run >= 3)
                {
                    memory.Add(stopwatch.Elapsed.TotalMilliseconds);
                }
            }
        }

        return new
        {
            scenario = $"executor profile: ForEach of {size} Return tasks, unbounded",
            executorSteps = steps,
            pureExecutorMedianMs = Stats.Median(pure),
            pureExecutorPerStepUs = Stats.Median(pure) * 1000 / steps,
            inMemoryRuntimeMedianMs = Stats.Median(memory),
            inMemoryRuntimeP90Ms = Stats.Percentile(memory, 0.9),
        };
    }

    /// <summary>One execution through the pure executor: every RunTask answered RUNNING then SUCCESS, one event per step.</summary>
    private static int DrivePure(Executor executor, Flow flow)
    {
        var now = DateTimeOffset.UnixEpoch;
        var execution = Execution.Create(Guid.NewGuid().ToString("N"), flow.Namespace, flow.Id, 1, now);
        var step = executor.Apply(flow, execution, new ExecutionCreated(now));
        var steps = 1;
        var pending = new Queue<RunTask>(step.Work.OfType<RunTask>());
        execution = step.Execution;
        var started = new List<RunTask>();
        while (pending.Count > 0)
        {
            var run = pending.Dequeue();
            step = executor.Apply(flow, execution, new TaskResult(run.TaskRun.Id, State.Running, now));
            execution = step.Execution;
            steps++;
            started.Add(run);
        }

        foreach (var run in started)
        {
            step = executor.Apply(flow, execution, new TaskResult(run.TaskRun.Id, State.Success, now,
                new Dictionary<string, object?> { ["value"] = run.TaskRun.Value }));
            execution = step.Execution;
            steps++;
            foreach (var next in step.Work.OfType<RunTask>())
            {
                throw new InvalidOperationException($"unexpected work {next.TaskRun.TaskId}");
            }
        }

        if (execution.State.Current != State.Success)
        {
            throw new InvalidOperationException($"pure run ended {execution.State.Current}");
        }

        return steps;
    }
}

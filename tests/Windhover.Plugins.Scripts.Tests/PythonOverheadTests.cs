using System.Diagnostics;
using Windhover.Engine.Executions;
using Windhover.Plugins.Testing;
using Xunit.Abstractions;

namespace Windhover.Plugins.Scripts.Tests;

/// <summary>
/// Engine overhead per python task: the median task-run duration (RUNNING → SUCCESS in the histories) of a python.Script
/// run through a flow, minus the median of starting the same interpreter on the same script directly.
/// </summary>
public sealed class PythonOverheadTests(ITestOutputHelper output)
{
    private const int Runs = 25;
    private const string Script = "print(1)\n";

    [Fact]
    public async Task Python_task_overhead_over_the_raw_interpreter_start() =>
        await MeasureAsync(Interpreters.ResolvePython(), "python");

    /// <summary>
    /// The same python.Script code path with <c>/bin/true</c> as the interpreter: the process itself costs about a
    /// millisecond, so the engine's part is not drowned in the interpreter's start-up noise on a loaded machine.
    /// </summary>
    [Fact]
    public async Task Python_task_path_overhead_with_a_near_zero_interpreter() =>
        await MeasureAsync("/bin/true", "true");

    /// <summary>As above without the <c>setsid</c> exec (<see cref="ProcessScriptRunnerOptions.UseProcessGroup"/> off).</summary>
    [Fact]
    public async Task Python_task_path_overhead_without_process_group() =>
        await MeasureAsync("/bin/true", "true-no-setsid", useProcessGroup: false);

    private async Task MeasureAsync(string python, string label, bool useProcessGroup = true)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"windhover-overhead-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        var file = Path.Combine(dir, "s.py");
        await File.WriteAllTextAsync(file, Script);
        await using var h = await FlowHarness.StartAsync((types, tasks) => ScriptsPlugin.Register(types, tasks, new ScriptsPluginOptions { PythonExecutable = python, Runner = new ProcessScriptRunnerOptions { UseProcessGroup = useProcessGroup } }));
        var flow = await h.DeployAsync("""
            id: overhead
            namespace: test.bench
            tasks:
              - id: py
                type: io.kestra.plugin.scripts.python.Script
                taskRunner:
                  type: io.kestra.plugin.core.runner.Process
                script: |
                  print(1)
            """);

        // Interleaved pairs (raw start, then one flow task) so that both see the same machine load; 2 warm-up pairs.
        var raw = new List<double>();
        var task = new List<double>();
        try
        {
            for (var i = 0; i < Runs + 2; i++)
            {
                var sw = Stopwatch.StartNew();
                var psi = new ProcessStartInfo(python, [file]) { RedirectStandardOutput = true, UseShellExecute = false, WorkingDirectory = dir };
                using (var p = Process.Start(psi)!)
                {
                    await p.StandardOutput.ReadToEndAsync();
                    await p.WaitForExitAsync();
                }

                sw.Stop();
                var created = await h.Runtime.CreateExecutionAsync(new Windhover.Engine.Runtime.ExecutionRequest { Namespace = flow.Namespace, FlowId = flow.Id });
                var execution = await h.Runtime.WaitForTerminalAsync(created.Id);
                Assert.Equal(State.Success, execution.State.Current);
                var run = FlowHarness.TaskRun(execution, "py");
                if (i >= 2)
                {
                    raw.Add(sw.Elapsed.TotalMilliseconds);
                    task.Add((run.State.Histories[^1].Date - run.State.Histories.First(x => x.State == State.Running).Date).TotalMilliseconds);
                }
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }

        var diffs = raw.Zip(task, (r, t) => t - r).ToList();
        var overhead = Median(diffs);
        string List(List<double> xs) => string.Join(", ", xs.Select(x => x.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)));
        output.WriteLine($"python: {python}");
        output.WriteLine($"raw interpreter start: median {Median(raw):0.0} ms ({List(raw)})");
        output.WriteLine($"task run RUNNING->SUCCESS: median {Median(task):0.0} ms ({List(task)})");
        output.WriteLine($"paired differences: {List(diffs)}");
        output.WriteLine($"engine overhead per python task (median of paired differences): {overhead:0.0} ms");
        Console.WriteLine($"[python-overhead:{label}] raw {Median(raw):0.0} ms, task {Median(task):0.0} ms, overhead (median paired) {overhead:0.0} ms");

        // a loose bound: the figure itself is reported; a shared 2-core machine makes tight bounds flaky
        Assert.True(overhead < 250, $"overhead {overhead:0.0} ms");
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
}

using System.Diagnostics;
using Windhover.Engine.Executions;
using Windhover.Engine.Executor;
using Windhover.Engine.Expressions;
using Windhover.Flows.Expressions;
using Windhover.Flows.Yaml;
using Xunit.Abstractions;

namespace Windhover.Engine.Tests.Runtime;

public sealed class ProfileTests(ITestOutputHelper output)
{
    [Fact]
    public void Executor_cost_per_task()
    {
        var yaml = "id: many\nnamespace: company.team\ntasks:\n" + string.Concat(Enumerable.Range(1, 200).Select(i =>
            $"  - id: t{i}\n    type: io.kestra.plugin.core.debug.Return\n    format: \"{{{{ task.id }}}}\"\n"));
        var flow = FlowParser.Default.Parse(yaml).Flow!;
        var executor = new Windhover.Engine.Executor.Executor(new ExpressionRenderer(new ExpressionEngine()));
        for (var round = 0; round < 2; round++)
        {
            var now = DateTimeOffset.UtcNow;
            var execution = Execution.Create("e" + round, flow.Namespace, flow.Id, 1, now);
            var watch = Stopwatch.StartNew();
            var step = executor.Apply(flow, execution, new ExecutionCreated(now));
            var steps = 1;
            while (step.Work.OfType<RunTask>().FirstOrDefault() is { } run)
            {
                step = executor.Apply(flow, step.Execution, new TaskResult(run.TaskRun.Id, State.Running, now));
                step = executor.Apply(flow, step.Execution, new TaskResult(run.TaskRun.Id, State.Success, now, new Dictionary<string, object?> { ["value"] = "x" }));
                steps += 2;
            }

            output.WriteLine($"round {round}: {watch.Elapsed.TotalMilliseconds / 200:0.000} ms per task, {steps} steps, state {step.Execution.State.Current}");
        }
    }
}

using System.Collections.Immutable;
using System.Text.Json;
using Windhover.Engine.Executions;
using Windhover.Engine.Executor;
using Windhover.Engine.Serialization;
using Windhover.Flows.Model;

namespace Windhover.Engine.Tests.Executor;

/// <summary>The <c>outputs</c> variable: nesting under loop values, deep merge, and the task runs' maps left untouched.</summary>
public sealed class RunVariablesOutputsTests
{
    private static readonly DateTimeOffset T0 = new(2024, 12, 20, 10, 0, 0, TimeSpan.Zero);

    private static TaskRun Run(string id, string taskId, string? parent = null, string? value = null, IReadOnlyDictionary<string, object?>? outputs = null) => new()
    {
        Id = id,
        ExecutionId = "e",
        Namespace = "ns",
        FlowId = "f",
        TaskId = taskId,
        ParentTaskRunId = parent,
        Value = value,
        Outputs = outputs,
        State = StateInfo.Of(State.Success, T0),
    };

    private static Dictionary<string, object?> Map(params (string Key, object? Value)[] entries)
    {
        var map = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (key, value) in entries)
        {
            map[key] = value;
        }

        return map;
    }

    [Fact]
    public void Outputs_nest_under_loop_values_and_merge_deeply_without_touching_the_task_runs()
    {
        var innerA = Map(("value", "a1"), ("deep", Map(("x", 1L))));
        var innerA2 = Map(("deep", Map(("y", 2L))));
        var runs = ImmutableArray.Create(
            Run("outer1", "outer", value: "v1"),
            Run("outer2", "outer", value: "v2"),
            Run("i1", "inner", "outer1", "a", innerA),
            Run("i2", "inner", "outer1", "b", Map(("value", "b1"))),
            Run("i3", "inner", "outer2", "a", Map(("value", "a2"))),
            Run("i4", "inner", "outer1", "a", innerA2),
            Run("plain", "plain", outputs: Map(("value", "p"))),
            Run("plain2", "plain", outputs: Map(("other", "q"))));
        var execution = Execution.Create("e", "ns", "f", 1, T0) with { TaskRunList = runs };

        var outputs = RunVariables.Outputs(execution);

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            ValueModelConverter.WriteValue(writer, outputs);
        }

        var json = System.Text.Encoding.UTF8.GetString(buffer.ToArray());
        Assert.Equal(
            """{"inner":{"v1":{"a":{"value":"a1","deep":{"x":1,"y":2}},"b":{"value":"b1"}},"v2":{"a":{"value":"a2"}}},"plain":{"value":"p","other":"q"}}""",
            json);
        Assert.Equal(2, innerA.Count);
        Assert.Single((Dictionary<string, object?>)innerA["deep"]!);
        Assert.Single((Dictionary<string, object?>)innerA2["deep"]!);
    }

    [Fact]
    public void The_outputs_variable_is_built_when_read()
    {
        var execution = Execution.Create("e", "ns", "f", 1, T0) with
        {
            TaskRunList = [Run("t", "t", outputs: Map(("value", "x")))],
        };
        var flow = new Flow { Id = "f", Namespace = "ns" };

        var variables = RunVariables.ForExecution(flow, execution);

        var outputs = Assert.IsAssignableFrom<IReadOnlyDictionary<string, object?>>(variables["outputs"]);
        Assert.True(outputs.TryGetValue("t", out var t));
        Assert.Equal("x", ((IReadOnlyDictionary<string, object?>)t!)["value"]);
        Assert.Single(outputs);
    }
}

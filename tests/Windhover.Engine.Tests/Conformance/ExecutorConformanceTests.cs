using System.Text.Json;
using Windhover.Engine.Executions;
using Windhover.Engine.Executor;
using Windhover.Engine.Tests.Support;
using Windhover.Flows.Model;
using Windhover.Flows.Yaml;

namespace Windhover.Engine.Tests.Conformance;

/// <summary>
/// Runs the cases of the shared conformance corpus (../shared/conformance, never copied here) that only need flowable
/// tasks and the core Return/Log/Fail/OutputValues tasks, straight through the pure executor with the in-test worker,
/// and checks what Kestra's tests assert: final state, task run count, task run states, attempts, state histories.
/// </summary>
public sealed class ExecutorConformanceTests
{
    private static readonly HashSet<string> WorkerTypes =
    [
        "io.kestra.plugin.core.debug.Return", "io.kestra.plugin.core.log.Log", "io.kestra.plugin.core.execution.Fail", "io.kestra.plugin.core.output.OutputValues", "io.kestra.plugin.core.execution.Labels",
    ];

    private static readonly HashSet<string> UncheckedExpectations = ["startError", "related", "metricsTotal", "logs", "children", "files"];

    public static string? CorpusDirectory()
    {
        var fromEnv = Environment.GetEnvironmentVariable("WINDHOVER_CONFORMANCE");
        if (fromEnv is not null && Directory.Exists(fromEnv))
        {
            return fromEnv;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "conformance");
            if (File.Exists(Path.Combine(candidate, "cases.json")))
            {
                return candidate;
            }
        }

        return null;
    }

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        var directory = CorpusDirectory();
        if (directory is null)
        {
            data.Add("(corpus not found)");
            return data;
        }

        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "cases.json")));
        foreach (var item in document.RootElement.EnumerateArray())
        {
            if (item.GetProperty("kind").GetString() != "simple" || item.TryGetProperty("steps", out _)
                || (item.TryGetProperty("needs", out var needs) && needs.GetArrayLength() > 0))
            {
                continue;
            }

            var expect = item.GetProperty("expect");
            if (expect.EnumerateObject().Any(p => UncheckedExpectations.Contains(p.Name)) && !expect.TryGetProperty("state", out _) && !expect.TryGetProperty("taskRunCount", out _))
            {
                continue;
            }

            if (expect.TryGetProperty("startError", out _))
            {
                continue;
            }

            var flow = Parse(directory, item.GetProperty("flow").GetString()!);
            if (flow is not null && Supported(flow))
            {
                data.Add(item.GetProperty("name").GetString()!);
            }
        }

        return data;
    }

    private static Flow? Parse(string directory, string file)
    {
        var result = FlowParser.Default.Parse(File.ReadAllText(Path.Combine(directory, "flows", file)), file);
        return result.Flow;
    }

    private static bool Supported(Flow flow)
    {
        static IEnumerable<TaskDefinition> All(IEnumerable<TaskDefinition> tasks)
        {
            foreach (var task in tasks)
            {
                yield return task;
                foreach (var (_, value) in task.Properties)
                {
                    var children = value switch
                    {
                        System.Collections.Immutable.ImmutableArray<TaskDefinition> list => list.AsEnumerable(),
                        System.Collections.Immutable.ImmutableArray<DagTaskDefinition> dag => dag.Select(d => d.Task),
                        IReadOnlyDictionary<string, System.Collections.Immutable.ImmutableArray<TaskDefinition>> cases => cases.Values.SelectMany(c => c),
                        _ => [],
                    };
                    foreach (var child in All(children))
                    {
                        yield return child;
                    }
                }

                foreach (var child in All(task.Errors.Concat(task.Finally)))
                {
                    yield return child;
                }
            }
        }

        return flow.Triggers.IsDefaultOrEmpty && All(flow.Tasks.Concat(flow.Errors).Concat(flow.Finally)).All(t =>
            WorkerTypes.Contains(t.CanonicalType)
            || (Windhover.Engine.Executor.TaskKinds.Of(t.CanonicalType) is var kind && kind.IsFlowable() && kind is not Windhover.Engine.Executor.TaskKind.ForEachItem));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Case(string name)
    {
        var directory = CorpusDirectory();
        if (directory is null)
        {
            return;
        }

        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "cases.json")));
        var item = document.RootElement.EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);
        var flow = Parse(directory, item.GetProperty("flow").GetString()!)!;

        var inputs = new Dictionary<string, object?>();
        foreach (var input in flow.Inputs)
        {
            if (input.HasDefaults)
            {
                inputs[input.Id] = input.Defaults;
            }
        }

        if (item.TryGetProperty("inputs", out var given))
        {
            foreach (var property in given.EnumerateObject())
            {
                var text = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString() : property.Value.ToString();
                var declared = flow.Inputs.FirstOrDefault(i => i.Id == property.Name);
                inputs[property.Name] = declared?.Type == InputType.Json && text is not null ? ParseJson(text) : text;
            }
        }

        // What the host does at creation: flow labels, then the request's labels, then system.correlationId.
        var labels = flow.Labels.Select(l => new ExecutionLabel(l.Key, l.Value)).ToList();
        if (item.TryGetProperty("labels", out var requested))
        {
            foreach (var property in requested.EnumerateObject())
            {
                labels.RemoveAll(l => l.Key == property.Name);
                labels.Add(new ExecutionLabel(property.Name, property.Value.GetString()!));
            }
        }

        var h = new Harness(flow, inputs, labels);
        h.Start();
        typeof(Harness).GetProperty(nameof(Harness.Execution))!.SetValue(h, h.Execution with { Labels = [.. h.Execution.Labels, new ExecutionLabel("system.correlationId", h.Execution.Id)] });
        h.Run();
        var expect = item.GetProperty("expect");
        var execution = h.Execution;
        var context = $"{name}: {string.Join(", ", execution.TaskRunList.Select(t => $"{t.TaskId}{(t.Value is null ? "" : "[" + t.Value + "]")}={t.State.Current}"))}";

        if (expect.TryGetProperty("state", out var state))
        {
            Assert.True(state.GetString() == execution.State.Current.ToKestraName(), $"state {execution.State.Current} != {state.GetString()} in {context}");
        }

        if (expect.TryGetProperty("taskRunCount", out var count))
        {
            Assert.True(count.GetInt32() == execution.TaskRunList.Length, $"taskRunCount {execution.TaskRunList.Length} != {count.GetInt32()} in {context}");
        }

        if (expect.TryGetProperty("labelCount", out var labelCount))
        {
            Assert.True(labelCount.GetInt32() == execution.Labels.Length, $"labels {string.Join(",", execution.Labels)} in {context}");
        }

        if (expect.TryGetProperty("labels", out var expectedLabels))
        {
            foreach (var property in expectedLabels.EnumerateObject())
            {
                var value = property.Value.GetString()!.Replace("${self}", execution.Id, StringComparison.Ordinal);
                if (value.StartsWith("${taskrun:", StringComparison.Ordinal))
                {
                    value = execution.TaskRunList.First(t => t.TaskId == value["${taskrun:".Length..^1]).Id;
                }

                Assert.Contains(new ExecutionLabel(property.Name, value), execution.Labels);
            }
        }

        if (expect.TryGetProperty("outputsNull", out var outputsNull) && outputsNull.GetBoolean())
        {
            Assert.Null(execution.Outputs);
        }

        if (expect.TryGetProperty("stateHistoryContains", out var history))
        {
            foreach (var expected in history.EnumerateArray())
            {
                Assert.Contains(StateExtensions.ParseKestraName(expected.GetString()!), execution.State.Histories.Select(x => x.State));
            }
        }

        if (!expect.TryGetProperty("taskRuns", out var taskRuns))
        {
            return;
        }

        foreach (var check in taskRuns.EnumerateArray())
        {
            var run = Select(execution, check);
            if (check.TryGetProperty("state", out var runState))
            {
                Assert.True(runState.GetString() == run.State.Current.ToKestraName(), $"{run.TaskId} state {run.State.Current} != {runState.GetString()} in {context}");
            }

            if (check.TryGetProperty("attempts", out var attempts))
            {
                Assert.True(attempts.GetInt32() == run.AttemptCount, $"{run.TaskId} attempts {run.AttemptCount} != {attempts.GetInt32()} in {context}");
            }

            if (check.TryGetProperty("historyCounts", out var counts))
            {
                foreach (var entry in counts.EnumerateObject())
                {
                    Assert.True(entry.Value.GetInt32() == run.State.Count(StateExtensions.ParseKestraName(entry.Name)), $"{run.TaskId} history {entry.Name} in {context}");
                }
            }

            if (check.TryGetProperty("outputs", out var outputs))
            {
                foreach (var entry in outputs.EnumerateObject().Where(e => e.Value.ValueKind == JsonValueKind.String))
                {
                    Assert.Equal(entry.Value.GetString(), run.Outputs?.GetValueOrDefault(entry.Name) as string);
                }
            }
        }
    }

    private static object? ParseJson(string text)
    {
        var reader = new Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(text));
        reader.Read();
        return Windhover.Engine.Serialization.ValueModelConverter.ReadValue(ref reader);
    }

    private static TaskRun Select(Execution execution, JsonElement check)
    {
        if (check.TryGetProperty("at", out var at))
        {
            return execution.TaskRunList[at.GetInt32()];
        }

        var taskId = check.GetProperty("taskId").GetString();
        var candidates = execution.TaskRunList.Where(t => t.TaskId == taskId).ToList();
        if (check.TryGetProperty("values", out var values))
        {
            var expected = values.EnumerateArray().Select(v => v.GetString()).ToList();
            candidates = [.. candidates.Where(t =>
            {
                var chain = execution.FindParents(t).Reverse().Append(t).Select(p => p.Value).Where(v => v is not null).ToList();
                return chain.SequenceEqual(expected);
            })];
        }

        return candidates.First();
    }
}

using System.Text.Json;
using Windhover.Engine.Executions;
using Windhover.Engine.Executor;
using Windhover.Engine.Serialization;
using Windhover.Engine.Tests.Support;
using static Windhover.Engine.Tests.Support.F;

namespace Windhover.Engine.Tests.Executions;

public sealed class ExecutionJsonTests
{
    private static readonly DateTimeOffset T0 = new(2024, 12, 20, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Ids_are_22_char_base62_and_derived_ids_are_stable()
    {
        var id = IdGenerator.Create();
        Assert.True(IdGenerator.IsValid(id), id);
        Assert.NotEqual(id, IdGenerator.Create());
        Assert.Equal(IdGenerator.Derive("a", "b"), IdGenerator.Derive("a", "b"));
        Assert.NotEqual(IdGenerator.Derive("a", "b"), IdGenerator.Derive("ab"));
        Assert.True(IdGenerator.IsValid(IdGenerator.Derive("x")));
        // Derived ids are persisted (recovery and replays derive them again): their encoding must never change.
        Assert.Equal("04DAxpXt6ezkkSzkvyZJI8", IdGenerator.Derive("a", "b"));
    }

    [Theory]
    [InlineData(12, "PT0.012S")]
    [InlineData(0, "PT0S")]
    [InlineData(1000, "PT1S")]
    [InlineData(90_500, "PT1M30.5S")]
    [InlineData(3_600_000 * 26L, "PT26H")]
    public void Durations_are_java_iso8601(long milliseconds, string expected)
    {
        Assert.Equal(expected, KestraJson.FormatDuration(TimeSpan.FromMilliseconds(milliseconds)));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), KestraJson.ParseDuration(expected));
    }

    [Fact]
    public void Dates_are_utc_with_z_and_fraction_only_when_needed()
    {
        Assert.Equal("2024-12-20T10:00:00Z", KestraJson.FormatDate(T0));
        Assert.Equal("2024-12-20T10:00:00.012Z", KestraJson.FormatDate(T0.AddMilliseconds(12)));
        Assert.Equal("2024-12-20T09:00:00Z", KestraJson.FormatDate(new DateTimeOffset(2024, 12, 20, 10, 0, 0, TimeSpan.FromHours(1))));
    }

    [Fact]
    public void Execution_json_has_kestra_shape()
    {
        var h = new Harness(Of(Ret("a")), new Dictionary<string, object?> { ["n"] = 1L }, [new ExecutionLabel("k", "v")]).RunToEnd();
        var json = KestraJson.Serialize(h.Execution);
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;

        Assert.Equal(h.Execution.Id, root.GetProperty("id").GetString());
        Assert.Equal("io.kestra.tests", root.GetProperty("namespace").GetString());
        Assert.Equal("test-flow", root.GetProperty("flowId").GetString());
        Assert.Equal(1, root.GetProperty("flowRevision").GetInt32());
        Assert.Equal(1, root.GetProperty("inputs").GetProperty("n").GetInt64());
        Assert.Equal("k", root.GetProperty("labels")[0].GetProperty("key").GetString());
        var state = root.GetProperty("state");
        Assert.Equal("SUCCESS", state.GetProperty("current").GetString());
        Assert.Equal(["CREATED", "RUNNING", "SUCCESS"], state.GetProperty("histories").EnumerateArray().Select(e => e.GetProperty("state").GetString()));
        Assert.EndsWith("Z", state.GetProperty("startDate").GetString(), StringComparison.Ordinal);
        Assert.EndsWith("Z", state.GetProperty("endDate").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("PT", state.GetProperty("duration").GetString(), StringComparison.Ordinal);
        var taskRun = root.GetProperty("taskRunList")[0];
        Assert.Equal("a", taskRun.GetProperty("taskId").GetString());
        Assert.Equal(h.Execution.Id, taskRun.GetProperty("executionId").GetString());
        Assert.Equal("SUCCESS", taskRun.GetProperty("attempts")[0].GetProperty("state").GetProperty("current").GetString());
        Assert.Equal("a", taskRun.GetProperty("outputs").GetProperty("value").GetString());
        Assert.False(taskRun.TryGetProperty("parentTaskRunId", out _));
        Assert.False(taskRun.TryGetProperty("value", out _));
        Assert.False(root.TryGetProperty("parentId", out _));
        Assert.Equal(1, root.GetProperty("metadata").GetProperty("attemptNumber").GetInt32());
        Assert.False(json.Contains("null", StringComparison.Ordinal), json);
    }

    [Fact]
    public void Execution_round_trips()
    {
        var each = Flowable("each", "ForEach", L(Ret("r", "{{ taskrun.value }}")), ("values", "[\"a\", \"b\"]"));
        var h = new Harness(Of(each), new Dictionary<string, object?>
        {
            ["list"] = new List<object?> { 1L, 2.5, "x", true, null },
            ["map"] = new Dictionary<string, object?> { ["nested"] = new Dictionary<string, object?> { ["k"] = "v" } },
        }).RunToEnd();
        var execution = h.Execution with
        {
            Trigger = new ExecutionTrigger { Id = "schedule", Type = "io.kestra.plugin.core.trigger.Schedule", Variables = new Dictionary<string, object?> { ["date"] = "2024-12-20T10:00:00Z" } },
            ParentId = "parent",
            ScheduleDate = T0,
        };

        var json = KestraJson.Serialize(execution);
        var back = KestraJson.DeserializeExecution(json);
        Assert.Equal(json, KestraJson.Serialize(back));
        Assert.Equal(execution.State.Current, back.State.Current);
        Assert.Equal(execution.TaskRunList.Length, back.TaskRunList.Length);
        Assert.Equal("b", back.TaskRunList.Last().Value);
        Assert.Equal(1, back.TaskRunList.Last().Iteration);
        Assert.Equal(2.5, ((IReadOnlyList<object?>)back.Inputs!["list"]!)[1]);
        Assert.Equal(1L, ((IReadOnlyList<object?>)back.Inputs!["list"]!)[0]);
        Assert.Equal(execution.State.Histories.ToArray(), back.State.Histories.ToArray());
    }

    [Fact]
    public void Task_run_round_trips_and_flowables_have_no_attempts()
    {
        var h = new Harness(Of(Seq("s", Ret("a")))).RunToEnd();
        var json = KestraJson.Serialize(h.Run("s"));
        Assert.DoesNotContain("attempts", json, StringComparison.Ordinal);
        var back = KestraJson.DeserializeTaskRun(KestraJson.Serialize(h.Run("a")));
        Assert.Equal(h.Run("a").State.Histories.ToArray(), back.State.Histories.ToArray());
        Assert.Equal(1, back.AttemptCount);
    }

    [Fact]
    public void State_helpers()
    {
        Assert.All(new[] { State.Success, State.Warning, State.Failed, State.Killed, State.Cancelled, State.Retried, State.Skipped }, s => Assert.True(s.IsTerminal()));
        Assert.All(new[] { State.Created, State.Queued, State.Running, State.Paused, State.Restarted, State.Killing, State.Retrying }, s => Assert.False(s.IsTerminal()));
        foreach (var state in Enum.GetValues<State>())
        {
            Assert.Equal(state, StateExtensions.ParseKestraName(state.ToKestraName()));
        }

        var info = StateInfo.Of(State.Created, T0).With(State.Running, T0.AddSeconds(1)).With(State.Success, T0.AddSeconds(3));
        Assert.Equal(T0, info.StartDate);
        Assert.Equal(T0.AddSeconds(3), info.EndDate);
        Assert.Equal(TimeSpan.FromSeconds(3), info.Duration);
        Assert.Null(StateInfo.Of(State.Running, T0).EndDate);
    }

    [Fact]
    public void Run_variables_expose_kestra_names()
    {
        var each = Flowable("each", "ForEach", L(Ret("inner")), ("values", "[\"v\"]"));
        var flow = Of(each) with { Variables = new Dictionary<string, object?> { ["x"] = "y" } };
        var h = new Harness(flow, new Dictionary<string, object?> { ["i"] = "in" }, [new ExecutionLabel("team", "a")]).RunToEnd();
        var run = h.WorkOf<RunTask>().Single(r => r.Task.Id == "inner");
        var v = run.Variables;

        Assert.Equal("test-flow", ((IReadOnlyDictionary<string, object?>)v["flow"]!)["id"]);
        Assert.Equal(h.Execution.Id, ((IReadOnlyDictionary<string, object?>)v["execution"]!)["id"]);
        Assert.Equal("inner", ((IReadOnlyDictionary<string, object?>)v["task"]!)["id"]);
        var taskrun = (IReadOnlyDictionary<string, object?>)v["taskrun"]!;
        Assert.Equal("v", taskrun["value"]);
        Assert.Equal(0L, taskrun["iteration"]);
        Assert.Equal(0L, taskrun["attemptsCount"]);
        Assert.Equal(h.Run("each").Id, taskrun["parentId"]);
        Assert.Equal("in", ((IReadOnlyDictionary<string, object?>)v["inputs"]!)["i"]);
        Assert.Equal("y", ((IReadOnlyDictionary<string, object?>)v["vars"]!)["x"]);
        Assert.Equal("a", ((IReadOnlyDictionary<string, object?>)v["labels"]!)["team"]);
        Assert.Empty((IReadOnlyList<object?>)v["parents"]!);

        var outputs = RunVariables.Outputs(h.Execution);
        Assert.Equal("inner", ((IReadOnlyDictionary<string, object?>)((IReadOnlyDictionary<string, object?>)outputs["inner"]!)["v"]!)["value"]);
    }
}

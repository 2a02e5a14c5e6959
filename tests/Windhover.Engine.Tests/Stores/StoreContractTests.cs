using System.Collections.Immutable;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Windhover.Engine.Executions;
using Windhover.Engine.Executor;
using Windhover.Engine.Stores;
using Windhover.Flows.Yaml;

namespace Windhover.Engine.Tests.Stores;

/// <summary>The behaviour every store backend must have. Each backend's test project derives from this class.</summary>
public abstract class StoreContractTests
{
    protected FakeTimeProvider Time { get; } = new(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));

    protected abstract StoreSet CreateStores();

    private static Flows.Model.Flow ParseFlow(string id, string ns = "company.team", string extra = "")
    {
        var result = FlowParser.Default.Parse($"""
            id: {id}
            namespace: {ns}
            tasks:
              - id: t1
                type: io.kestra.plugin.core.log.Log
                message: hi{extra}
            """);
        Assert.True(result.IsValid);
        return result.Flow!;
    }

    private Execution NewExecution(string id, string ns = "company.team", string flowId = "f", DateTimeOffset? start = null, params ExecutionLabel[] labels) =>
        Execution.Create(id, ns, flowId, 1, start ?? Time.GetUtcNow(), new Dictionary<string, object?> { ["a"] = 1L }, labels);

    private static TaskRun NewTaskRun(Execution execution, string id, string taskId, DateTimeOffset now) => new()
    {
        Id = id,
        ExecutionId = execution.Id,
        Namespace = execution.Namespace,
        FlowId = execution.FlowId,
        TaskId = taskId,
        State = StateInfo.Of(State.Created, now),
    };

    // ------------------------------------------------------------------ flows

    [Fact]
    public async Task Flow_revisions_change_only_with_content()
    {
        var stores = CreateStores();
        var first = await stores.Flows.SaveAsync(ParseFlow("f1"));
        var same = await stores.Flows.SaveAsync(ParseFlow("f1"));
        var changed = await stores.Flows.SaveAsync(ParseFlow("f1", extra: " there"));
        Assert.Equal(1, first.Revision);
        Assert.Equal(1, same.Revision);
        Assert.Equal(2, changed.Revision);
        Assert.Equal(2, (await stores.Flows.GetAsync("company.team", "f1"))!.Revision);
        Assert.Equal(2, (await stores.Flows.GetAsync("company.team", "f1"))!.Flow.Revision);
        Assert.Contains("hi there", (await stores.Flows.GetAsync("company.team", "f1"))!.Source, StringComparison.Ordinal);
        Assert.DoesNotContain("there", (await stores.Flows.GetAsync("company.team", "f1", 1))!.Source, StringComparison.Ordinal);
        Assert.Equal([1, 2], await stores.Flows.RevisionsAsync("company.team", "f1"));
        Assert.Equal("t1", (await stores.Flows.GetAsync("company.team", "f1", 1))!.Flow.Tasks[0].Id);
    }

    [Fact]
    public async Task Flow_search_namespaces_and_delete()
    {
        var stores = CreateStores();
        await stores.Flows.SaveAsync(ParseFlow("alpha", "company.team"));
        await stores.Flows.SaveAsync(ParseFlow("beta", "company.team.sub"));
        await stores.Flows.SaveAsync(ParseFlow("gamma", "company.teamx"));
        await stores.Flows.SaveAsync(ParseFlow("delta", "other"));

        var byPrefix = await stores.Flows.SearchAsync(new FlowQuery { Namespace = "company.team" });
        Assert.Equal(["alpha", "beta"], byPrefix.Results.Select(r => r.Id));
        Assert.Equal(2, byPrefix.Total);
        Assert.Equal(["gamma"], (await stores.Flows.SearchAsync(new FlowQuery { Query = "gam" })).Results.Select(r => r.Id));
        var paged = await stores.Flows.SearchAsync(new FlowQuery { Size = 2, Page = 2 });
        Assert.Equal(4, paged.Total);
        Assert.Equal(2, paged.Results.Count);
        Assert.Equal(["company.team", "company.team.sub", "company.teamx", "other"], await stores.Flows.NamespacesAsync());

        Assert.True(await stores.Flows.DeleteAsync("other", "delta"));
        Assert.False(await stores.Flows.DeleteAsync("other", "delta"));
        Assert.Null(await stores.Flows.GetAsync("other", "delta"));
        Assert.NotNull(await stores.Flows.GetAsync("other", "delta", 1));
        Assert.DoesNotContain("other", await stores.Flows.NamespacesAsync());
        var again = await stores.Flows.SaveAsync(ParseFlow("delta", "other"));
        Assert.Equal(2, again.Revision);
    }

    // ------------------------------------------------------------------ executions

    [Fact]
    public async Task Execution_steps_write_deltas_and_round_trip()
    {
        var stores = CreateStores();
        var now = Time.GetUtcNow();
        var execution = NewExecution("exec1");
        await stores.Executions.SaveAsync(execution, ExecutionChanges.Between(null, execution));

        var running = execution.WithState(State.Running, now).WithTaskRun(NewTaskRun(execution, "tr1", "t1", now)).WithTaskRun(NewTaskRun(execution, "tr2", "t2", now));
        var changes = ExecutionChanges.Between(execution, running);
        Assert.Equal(2, changes.TaskRuns.Length);
        Assert.True(changes.HeaderChanged);
        await stores.Executions.SaveAsync(running, changes);

        var tr2 = running.TaskRunList[1].WithState(State.Running, now) with { Outputs = new Dictionary<string, object?> { ["value"] = "x" } };
        var next = running.WithTaskRun(tr2);
        var delta = ExecutionChanges.Between(running, next);
        Assert.Single(delta.TaskRuns);
        Assert.Equal(1, delta.TaskRuns[0].Position);
        Assert.False(delta.HeaderChanged);
        await stores.Executions.SaveAsync(next, delta);

        var loaded = await stores.Executions.GetAsync("exec1");
        Assert.NotNull(loaded);
        Assert.Equal(State.Running, loaded.State.Current);
        Assert.Equal(["tr1", "tr2"], loaded.TaskRunList.Select(t => t.Id));
        Assert.Equal(State.Running, loaded.TaskRunList[1].State.Current);
        Assert.Equal("x", loaded.TaskRunList[1].Outputs!["value"]);
        Assert.Equal(1L, loaded.Inputs!["a"]);
        Assert.Null(await stores.Executions.GetAsync("missing"));

        // A restart that removes task runs rewrites the list.
        var shrunk = next with { TaskRunList = [next.TaskRunList[1]] };
        var rewrite = ExecutionChanges.Between(next, shrunk);
        Assert.True(rewrite.ReplaceAllTaskRuns);
        await stores.Executions.SaveAsync(shrunk, rewrite);
        Assert.Equal(["tr2"], (await stores.Executions.GetAsync("exec1"))!.TaskRunList.Select(t => t.Id));
    }

    [Fact]
    public async Task Execution_search_filters_and_pages()
    {
        var stores = CreateStores();
        var start = Time.GetUtcNow();
        for (var i = 0; i < 12; i++)
        {
            var ns = i % 3 == 0 ? "company.team" : i % 3 == 1 ? "company.team.sub" : "company.teamx";
            var execution = NewExecution($"e{i:00}", ns, i % 2 == 0 ? "even" : "odd", start.AddMinutes(i),
                new ExecutionLabel("env", i < 6 ? "dev" : "prod"), new ExecutionLabel("n", i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            if (i % 4 == 0)
            {
                execution = execution.WithState(State.Running, start.AddMinutes(i)).WithState(State.Success, start.AddMinutes(i + 1));
            }

            await stores.Executions.SaveAsync(execution, ExecutionChanges.Between(null, execution));
        }

        var all = await stores.Executions.SearchAsync(new ExecutionQuery { Size = 5 });
        Assert.Equal(12, all.Total);
        Assert.Equal(["e11", "e10", "e09", "e08", "e07"], all.Results.Select(r => r.Id));
        var page3 = await stores.Executions.SearchAsync(new ExecutionQuery { Size = 5, Page = 3 });
        Assert.Equal(["e01", "e00"], page3.Results.Select(r => r.Id));
        Assert.Equal(12, page3.Total);

        var prefix = await stores.Executions.SearchAsync(new ExecutionQuery { Namespace = "company.team", Size = 100 });
        Assert.Equal(8, prefix.Total);
        Assert.DoesNotContain(prefix.Results, r => r.Namespace == "company.teamx");

        Assert.Equal(4, (await stores.Executions.SearchAsync(new ExecutionQuery { Namespace = "company.team", FlowId = "even" })).Total);
        Assert.Equal(3, (await stores.Executions.SearchAsync(new ExecutionQuery { States = [State.Success] })).Total);
        Assert.Equal(9, await stores.Executions.CountAsync(new ExecutionQuery { States = [State.Created] }));
        var labelled = await stores.Executions.SearchAsync(new ExecutionQuery { Labels = [new ExecutionLabel("env", "prod"), new ExecutionLabel("n", "7")] });
        Assert.Equal(["e07"], labelled.Results.Select(r => r.Id));
        Assert.Equal([new ExecutionLabel("env", "prod"), new ExecutionLabel("n", "7")], labelled.Results[0].Labels.ToArray());
        var since = await stores.Executions.SearchAsync(new ExecutionQuery { StartDate = start.AddMinutes(10), Ascending = true });
        Assert.Equal(["e10", "e11"], since.Results.Select(r => r.Id));
        var endedBefore = await stores.Executions.SearchAsync(new ExecutionQuery { EndDate = start.AddMinutes(5) });
        Assert.Equal(["e04", "e00"], endedBefore.Results.Select(r => r.Id));
        var summary = all.Results[0];
        Assert.Equal(State.Created, summary.State);
        Assert.Equal(start.AddMinutes(11), summary.StartDate);

        var unfinished = await stores.Executions.UnfinishedAsync();
        Assert.Equal(9, unfinished.Count);
        Assert.Equal("e01", unfinished[0]);
    }

    [Fact]
    public async Task Execution_counts_by_state_per_time_bucket()
    {
        var stores = CreateStores();
        var start = Time.GetUtcNow();
        for (var i = 0; i < 30; i++)
        {
            // One a minute from start-5 min; every third one succeeds; flow "b" for i >= 20; e29 is deleted.
            var at = start.AddMinutes(i - 5);
            var execution = NewExecution($"e{i:00}", i % 2 == 0 ? "company.team" : "other", i >= 20 ? "b" : "a", at);
            if (i % 3 == 0)
            {
                execution = execution.WithState(State.Running, at).WithState(State.Success, at.AddSeconds(1));
            }

            await stores.Executions.SaveAsync(execution with { Deleted = i == 29 }, ExecutionChanges.Between(null, execution));
        }

        // 10-minute buckets from start: e05..e14 in bucket 0, e15..e24 in 1, e25..e28 in 2 (e29 deleted, e00..e04 before).
        var all = await stores.Executions.CountByStateAsync(new ExecutionQuery(), start, TimeSpan.FromMinutes(10), 3);
        Assert.Equal<ExecutionCountBucket>(
            [new(0, State.Created, 7), new(0, State.Success, 3), new(1, State.Created, 6), new(1, State.Success, 4), new(2, State.Created, 3), new(2, State.Success, 1)],
            all.ToArray());
        var two = await stores.Executions.CountByStateAsync(new ExecutionQuery(), start, TimeSpan.FromMinutes(10), 2);
        Assert.Equal(20, two.Sum(b => b.Count));
        var filtered = await stores.Executions.CountByStateAsync(new ExecutionQuery { Namespace = "company.team", FlowId = "b" }, start, TimeSpan.FromMinutes(10), 3);
        Assert.Equal([new ExecutionCountBucket(1, State.Created, 2), new(1, State.Success, 1), new(2, State.Created, 2)], filtered.ToArray());
    }

    [Fact]
    public async Task Children_delete_and_timers()
    {
        var stores = CreateStores();
        var parent = NewExecution("parent");
        await stores.Executions.SaveAsync(parent, ExecutionChanges.Between(null, parent));
        var child1 = NewExecution("child1", start: Time.GetUtcNow().AddSeconds(1)) with { ParentId = "parent" };
        var child2 = NewExecution("child2", start: Time.GetUtcNow().AddSeconds(2)) with { ParentId = "parent" };
        var timer = new ExecutorTimer(TimerKind.RetryTask, "parent", "tr1", Time.GetUtcNow().AddMinutes(1));
        await stores.Executions.SaveAsync(child1, ExecutionChanges.Between(null, child1));
        await stores.Executions.SaveAsync(child2, ExecutionChanges.Between(null, child2).WithTimers([StoredTimer.From(timer), StoredTimer.RetryExecution("child2", Time.GetUtcNow())], []));
        Assert.Equal(["child1", "child2"], (await stores.Executions.ChildrenAsync("parent")).Select(c => c.Id));

        var timers = await stores.Timers.ListAsync();
        Assert.Equal(2, timers.Count);
        Assert.True(timers[0].IsRetryExecution);
        Assert.Equal(timer, timers[1].ToExecutorTimer());
        await stores.Executions.SaveAsync(child2, ExecutionChanges.None.WithTimers([], [timers[1].Id]));
        Assert.Single(await stores.Timers.ListAsync());
        await stores.Timers.AddAsync(StoredTimer.From(timer));
        Assert.True(await stores.Timers.DeleteAsync(StoredTimer.From(timer).Id));

        Assert.True(await stores.Executions.DeleteAsync("child2"));
        Assert.False(await stores.Executions.DeleteAsync("child2"));
        Assert.Null(await stores.Executions.GetAsync("child2"));
        Assert.Empty(await stores.Timers.ListAsync());
    }

    // ------------------------------------------------------------------ logs

    [Fact]
    public async Task Logs_filter_by_level_task_run_and_task()
    {
        var stores = CreateStores();
        LogEntry Log(string exec, ExecutorLogLevel level, string message, string? taskRunId = null, string? taskId = null) => new()
        {
            Namespace = "ns", FlowId = "f", ExecutionId = exec, TaskRunId = taskRunId, TaskId = taskId, Timestamp = Time.GetUtcNow(), Level = level, Message = message,
        };
        await stores.Logs.AppendAsync([Log("e1", ExecutorLogLevel.Debug, "one", "tr1", "a"), Log("e1", ExecutorLogLevel.Info, "two", "tr1", "a")]);
        await stores.Logs.AppendAsync([Log("e1", ExecutorLogLevel.Error, "three", "tr2", "b"), Log("e2", ExecutorLogLevel.Info, "other")]);
        Assert.Equal(["one", "two", "three"], (await stores.Logs.FindAsync("e1")).Select(l => l.Message));
        Assert.Equal(["two", "three"], (await stores.Logs.FindAsync("e1", ExecutorLogLevel.Info)).Select(l => l.Message));
        Assert.Equal(["one", "two"], (await stores.Logs.FindAsync("e1", taskRunId: "tr1")).Select(l => l.Message));
        Assert.Equal(["three"], (await stores.Logs.FindAsync("e1", taskId: "b")).Select(l => l.Message));
        var first = (await stores.Logs.FindAsync("e1"))[0];
        Assert.Equal(ExecutorLogLevel.Debug, first.Level);
        Assert.Equal(Time.GetUtcNow(), first.Timestamp);
        Assert.Equal(3, await stores.Logs.DeleteAsync("e1"));
        Assert.Empty(await stores.Logs.FindAsync("e1"));
        Assert.Single(await stores.Logs.FindAsync("e2"));
    }

    // ------------------------------------------------------------------ KV

    [Fact]
    public async Task Kv_set_get_overwrite_ttl_list_delete()
    {
        var stores = CreateStores();
        Assert.True(await stores.Kv.SetAsync("ns", "a", "text"));
        Assert.True(await stores.Kv.SetAsync("ns", "b", new Dictionary<string, object?> { ["x"] = 1L }, TimeSpan.FromMinutes(1)));
        Assert.True(await stores.Kv.SetAsync("other", "a", 42L));
        Assert.Equal("text", (await stores.Kv.GetAsync("ns", "a"))!.Value);
        Assert.Equal(1L, ((IReadOnlyDictionary<string, object?>)(await stores.Kv.GetAsync("ns", "b"))!.Value!)["x"]);
        Assert.Equal(42L, (await stores.Kv.GetAsync("other", "a"))!.Value);

        Assert.False(await stores.Kv.SetAsync("ns", "a", "new", overwrite: false));
        Assert.Equal("text", (await stores.Kv.GetAsync("ns", "a"))!.Value);
        Assert.True(await stores.Kv.SetAsync("ns", "a", "new"));
        Assert.Equal("new", (await stores.Kv.GetAsync("ns", "a"))!.Value);

        Assert.Equal(["a", "b"], (await stores.Kv.ListAsync("ns")).Select(e => e.Key));
        Time.Advance(TimeSpan.FromMinutes(2));
        Assert.Null(await stores.Kv.GetAsync("ns", "b"));
        Assert.Equal(["a"], (await stores.Kv.ListAsync("ns")).Select(e => e.Key));
        Assert.True(await stores.Kv.SetAsync("ns", "b", "again", overwrite: false));
        Assert.False(await stores.Kv.DeleteAsync("ns", "missing"));
        Assert.True(await stores.Kv.DeleteAsync("ns", "a"));
        Assert.Null(await stores.Kv.GetAsync("ns", "a"));
    }

    // ------------------------------------------------------------------ files

    [Fact]
    public async Task Files_put_get_exists_delete()
    {
        var stores = CreateStores();
        var uri = StorageUri.ForTaskRun("company.team", "f", "exec1", "t1", "tr1", "out.txt");
        Assert.Equal("kestra:///company/team/f/executions/exec1/tasks/t1/tr1/out.txt", uri);
        Assert.False(await stores.Files.ExistsAsync(uri));
        Assert.Null(await stores.Files.OpenReadAsync(uri));
        Assert.Equal(5, await stores.Files.PutAsync(uri, new MemoryStream(Encoding.UTF8.GetBytes("hello"))));
        Assert.True(await stores.Files.ExistsAsync(uri));
        Assert.Equal(5, await stores.Files.SizeAsync(uri));
        await using (var stream = await stores.Files.OpenReadAsync(uri))
        {
            Assert.Equal("hello", await new StreamReader(stream!).ReadToEndAsync());
        }

        Assert.Throws<ArgumentException>(() => StorageUri.PathOf("kestra:///a/../../etc/passwd"));
        await stores.Files.PutAsync(StorageUri.ForInput("company.team", "f", "exec1", "file", "in.csv"), new MemoryStream([1, 2]));
        Assert.Equal(2, await stores.Files.DeletePrefixAsync(StorageUri.ForExecution("company.team", "f", "exec1")));
        Assert.False(await stores.Files.ExistsAsync(uri));
        Assert.False(await stores.Files.DeleteAsync(uri));
    }

    [Fact]
    public async Task Files_under_a_folder_are_listed_at_any_depth_in_ordinal_order()
    {
        var stores = CreateStores();
        var folder = "kestra:///company/team/_files";
        foreach (var name in new[] { "b.txt", "a/z.py", "a/b/c.sql", "A.md" })
        {
            await stores.Files.PutAsync(folder + "/" + name, new MemoryStream([1]));
        }

        await stores.Files.PutAsync("kestra:///company/team/_files2/x.txt", new MemoryStream([1]));   // a sibling, not inside
        await stores.Files.PutAsync("kestra:///company/team/other.txt", new MemoryStream([1]));

        Assert.Equal(
            new[] { "A.md", "a/b/c.sql", "a/z.py", "b.txt" }.Select(n => folder + "/" + n),
            await stores.Files.ListAsync(folder));
        Assert.Equal([folder + "/a/b/c.sql", folder + "/a/z.py"], await stores.Files.ListAsync(folder + "/a/"));
        Assert.Empty(await stores.Files.ListAsync("kestra:///company/none"));
    }
}

using Microsoft.Data.Sqlite;
using Windhover.Engine.Executions;
using Windhover.Engine.Stores;

namespace Windhover.Storage.Sqlite.Tests;

/// <summary>The executions list over the version-3 list indexes: prefix ranges, deep pages, deleted rows, plans.</summary>
public sealed class ExecutionListTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly string _folder = RuntimeHost.NewFolder();

    [Fact]
    public async Task Prefix_excludes_siblings_inside_the_index_range_and_deep_pages_keep_order()
    {
        using var database = SqliteDatabase.Open(Path.Combine(_folder, "list.db"));
        var store = database.CreateStores().Executions;
        // 'a.b-c' and 'a.b0' sort inside 'a.b' <= ns < 'a.b/' but are not under 'a.b'.
        string[] namespaces = ["a.b", "a.b.c", "a.b-c", "a.b0", "a.bc"];
        for (var i = 0; i < 100; i++)
        {
            var execution = Execution.Create($"e{i:000}", namespaces[i % namespaces.Length], i % 2 == 0 ? "even" : "odd", 1, Start.AddMinutes(i));
            if (i % 10 == 0)
            {
                execution = execution with { Deleted = true };
            }

            await store.SaveAsync(execution, ExecutionChanges.Between(null, execution));
        }

        var expected = Enumerable.Range(0, 100).Where(i => i % 5 is 0 or 1 && i % 10 != 0).Reverse().Select(i => $"e{i:000}").ToList();
        var seen = new List<string>();
        for (var page = 1; page <= 5; page++)
        {
            var result = await store.SearchAsync(new ExecutionQuery { Namespace = "a.b", Size = 7, Page = page });
            Assert.Equal(expected.Count, result.Total);
            seen.AddRange(result.Results.Select(r => r.Id));
        }

        Assert.Equal(expected, seen);
        var flow = await store.SearchAsync(new ExecutionQuery { Namespace = "a.b", FlowId = "odd", Size = 3, Page = 2 });
        Assert.Equal(expected.Where(id => int.Parse(id[1..], System.Globalization.CultureInfo.InvariantCulture) % 2 == 1).Skip(3).Take(3), flow.Results.Select(r => r.Id));
        Assert.Equal(0, (await store.SearchAsync(new ExecutionQuery { Namespace = "a.b-", Size = 5 })).Total);
        Assert.Equal(20, (await store.SearchAsync(new ExecutionQuery { Namespace = "a.b-c", Size = 5, Page = 4 })).Total);
    }

    [Fact]
    public async Task Rare_and_common_labels_find_the_same_rows_and_counts_can_be_capped()
    {
        using var database = SqliteDatabase.Open(Path.Combine(_folder, "labels.db"));
        var store = database.CreateStores().Executions;
        // 2,500 executions: env=prod on every other one (common: over the rare-label threshold), team=ops on every 100th.
        for (var i = 0; i < 2_500; i++)
        {
            var execution = Execution.Create($"e{i:0000}", "a", "f", 1, Start.AddMinutes(i), null,
                [new ExecutionLabel("env", i % 2 == 0 ? "prod" : "dev"), new ExecutionLabel("team", i % 100 == 0 ? "ops" : "data")]);
            await store.SaveAsync(execution with { Deleted = i == 1200 }, ExecutionChanges.Between(null, execution));
        }

        var common = await store.SearchAsync(new ExecutionQuery { Labels = [new("env", "prod")], Size = 10, Page = 3 });
        Assert.Equal(1_249, common.Total);
        Assert.Equal(Enumerable.Range(0, 2_500).Where(i => i % 2 == 0 && i != 1200).Reverse().Skip(20).Take(10).Select(i => $"e{i:0000}"), common.Results.Select(r => r.Id));

        var rare = await store.SearchAsync(new ExecutionQuery { Labels = [new("team", "ops"), new("env", "prod")], Size = 10, Page = 2 });
        Assert.Equal(24, rare.Total);
        Assert.Equal(Enumerable.Range(0, 2_500).Where(i => i % 100 == 0 && i != 1200).Reverse().Skip(10).Take(10).Select(i => $"e{i:0000}"), rare.Results.Select(r => r.Id));
        Assert.Equal(0, (await store.SearchAsync(new ExecutionQuery { Labels = [new("team", "none")] })).Total);

        // A capped count is exact up to the cap, and says "more" beyond it.
        Assert.Equal(101, (await store.SearchAsync(new ExecutionQuery { Labels = [new("env", "prod")], CountLimit = 100 })).Total);
        Assert.Equal(24, (await store.SearchAsync(new ExecutionQuery { Labels = [new("team", "ops")], CountLimit = 100, Page = 2, Size = 10 })).Total);
    }

    [Fact]
    public void List_queries_walk_the_list_indexes_never_the_table()
    {
        var path = Path.Combine(_folder, "plan.db");
        using var database = SqliteDatabase.Open(path);
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        string Plan(string where, string suffix = " ORDER BY start_date DESC, id DESC LIMIT 25 OFFSET 1000")
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"EXPLAIN QUERY PLAN SELECT e.rowid FROM executions e WHERE deleted = 0{where}{suffix}";
            using var reader = command.ExecuteReader();
            var lines = new List<string>();
            while (reader.Read())
            {
                lines.Add(reader.GetString(3));
            }

            return string.Join(" | ", lines);
        }

        // The forms SqliteExecutionStore.Where builds (namespace as a range; hidden with + for an unfiltered page).
        var plans = new[]
        {
            Plan(""),
            Plan(" AND +namespace >= 'a' AND +namespace < 'a/' AND (namespace = 'a' OR namespace >= 'a.')"),
            Plan(" AND namespace >= 'a' AND namespace < 'a/' AND (namespace = 'a' OR namespace >= 'a.')", ""),
            Plan(" AND namespace >= 'a' AND namespace < 'a/' AND (namespace = 'a' OR namespace >= 'a.') AND flow_id = 'f'"),
            Plan(" AND state IN ('FAILED')"),
            Plan(" AND start_date >= 5 AND end_date <= 9"),
        };
        Assert.All(plans, plan =>
        {
            Assert.Contains("ix_executions_list", plan, StringComparison.Ordinal);
            Assert.DoesNotMatch(@"SCAN e(?! USING)", plan);
        });
        // Unfiltered and broad pages walk the date-ordered index (no sort of every match).
        Assert.Matches(@"^SCAN e USING (COVERING )?INDEX ix_executions_list$", plans[0]);
        Assert.Matches(@"^SCAN e USING (COVERING )?INDEX ix_executions_list$", plans[1]);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

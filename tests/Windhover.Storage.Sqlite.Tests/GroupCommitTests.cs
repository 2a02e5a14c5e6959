using Microsoft.Data.Sqlite;
using Windhover.Engine.Executions;
using Windhover.Engine.Stores;

namespace Windhover.Storage.Sqlite.Tests;

/// <summary>The writer's group commit: concurrent writes share commits, a failing one is rolled back alone.</summary>
public sealed class GroupCommitTests : IDisposable
{
    private readonly string _folder = RuntimeHost.NewFolder();

    [Fact]
    public async Task Concurrent_grouped_writes_commit_and_a_failing_one_fails_alone()
    {
        using var database = SqliteDatabase.Open(Path.Combine(_folder, "group.db"));
        await database.WriteAsync(connection =>
        {
            using var create = connection.CreateCommand();
            create.CommandText = "CREATE TABLE t (n INTEGER NOT NULL)";
            return create.ExecuteNonQuery();
        }, CancellationToken.None);

        var writes = Enumerable.Range(0, 400).Select(n => Task.Run(() => database.WriteGroupedAsync((_, transaction) =>
        {
            var insert = database.WriterCommand(transaction, "INSERT INTO t (n) VALUES ($n)", "$n");
            insert.Parameters[0].Value = n;
            insert.ExecuteNonQuery();
            if (n % 7 == 0)
            {
                throw new InvalidOperationException($"write {n} fails");
            }

            return n;
        }, CancellationToken.None))).ToList();

        for (var n = 0; n < writes.Count; n++)
        {
            if (n % 7 == 0)
            {
                var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => writes[n]);
                Assert.Equal($"write {n} fails", failure.Message);
            }
            else
            {
                Assert.Equal(n, await writes[n]);
            }
        }

        var stored = database.Read(connection =>
        {
            using var select = connection.CreateCommand();
            select.CommandText = "SELECT n FROM t ORDER BY n";
            using var reader = select.ExecuteReader();
            var list = new List<long>();
            while (reader.Read())
            {
                list.Add(reader.GetInt64(0));
            }

            return list;
        });
        Assert.Equal(Enumerable.Range(0, 400).Where(n => n % 7 != 0).Select(n => (long)n), stored);
    }

    [Fact]
    public async Task Steps_of_many_executions_saved_at_once_read_back_whole()
    {
        using var database = SqliteDatabase.Open(Path.Combine(_folder, "steps.db"));
        var store = new SqliteExecutionStore(database);
        var now = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var executions = Enumerable.Range(0, 50)
            .Select(i => Execution.Create($"e{i}", "ns", "f", 1, now, labels: [new ExecutionLabel("k", i.ToString(System.Globalization.CultureInfo.InvariantCulture))]))
            .ToList();
        await Task.WhenAll(executions.Select(e => store.SaveAsync(e, ExecutionChanges.Between(null, e))));

        var steps = executions.Select(before =>
        {
            var run = new TaskRun
            {
                Id = before.Id + "-t",
                ExecutionId = before.Id,
                Namespace = "ns",
                FlowId = "f",
                TaskId = "t",
                State = StateInfo.Of(State.Created, now),
            };
            var after = before.WithState(State.Running, now).WithTaskRun(run);
            return (after, changes: ExecutionChanges.Between(before, after));
        }).ToList();
        Assert.All(steps, s => Assert.False(s.changes.LabelsChanged));
        await Task.WhenAll(steps.Select(s => Task.Run(() => store.SaveAsync(s.after, s.changes))));

        foreach (var (after, _) in steps)
        {
            var loaded = await store.GetAsync(after.Id);
            Assert.NotNull(loaded);
            Assert.Equal(State.Running, loaded.State.Current);
            Assert.Equal(after.Id + "-t", Assert.Single(loaded.TaskRunList).Id);
            Assert.Equal(after.Labels.ToList(), loaded.Labels.ToList());
        }

        var labelled = await store.SearchAsync(new ExecutionQuery { Labels = [new ExecutionLabel("k", "7")] });
        Assert.Equal("e7", Assert.Single(labelled.Results).Id);
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

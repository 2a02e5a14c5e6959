using Windhover.Engine.Executions;
using Windhover.Engine.Executor;
using Windhover.Plugins.Testing;

namespace Windhover.Plugins.Jdbc.Tests;

/// <summary>SQLite Query through real flows.</summary>
public sealed class SqliteQueryFlowTests : IAsyncLifetime
{
    private readonly string _db = Path.Combine(Path.GetTempPath(), $"windhover-sqlite-{Guid.NewGuid():N}.db");
    private FlowHarness _h = null!;

    public async Task InitializeAsync() => _h = await FlowHarness.StartAsync(JdbcPlugin.Register);

    public async Task DisposeAsync()
    {
        await _h.DisposeAsync();
        File.Delete(_db);
    }

    [Fact]
    public async Task Create_insert_fetch_one_fetch_and_store()
    {
        var execution = await _h.RunAsync($$$"""
            id: sqlite-flow
            namespace: test.jdbc
            tasks:
              - id: create
                type: io.kestra.plugin.jdbc.sqlite.Query
                url: jdbc:sqlite:{{{_db}}}
                sql: |
                  CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL, born TEXT, photo BLOB);
                  INSERT INTO people (id, name, score, born) VALUES (1, 'Ada', 9.5, '1815-12-10'), (2, 'Alan', 8.25, '1912-06-23');
              - id: insert
                type: io.kestra.plugin.jdbc.sqlite.Query
                url: jdbc:sqlite:{{{_db}}}
                sql: "INSERT INTO people (id, name, score) VALUES (:id, :name, :score)"
                parameters:
                  id: 3
                  name: "{{ flow.id }}"
                  score: null
              - id: one
                type: io.kestra.plugin.jdbc.sqlite.Query
                url: jdbc:sqlite:{{{_db}}}
                sql: SELECT id, name, score FROM people WHERE name = ?
                parameters: ["Ada"]
                fetchType: FETCH_ONE
              - id: all
                type: io.kestra.plugin.jdbc.sqlite.Query
                url: jdbc:sqlite:{{{_db}}}
                sql: SELECT id, name, score FROM people ORDER BY id
                fetch: true
              - id: stored
                type: io.kestra.plugin.jdbc.sqlite.Query
                url: jdbc:sqlite:{{{_db}}}
                sql: SELECT id, name FROM people ORDER BY id DESC
                fetchType: STORE
              - id: none
                type: io.kestra.plugin.jdbc.sqlite.Query
                url: jdbc:sqlite:{{{_db}}}
                sql: SELECT count(*) FROM people
              - id: use
                type: io.kestra.plugin.core.debug.Return
                format: "{{ outputs.one.row.name }}|{{ outputs.all.size }}|{{ outputs.all.rows[2].name }}|{{ read(outputs.stored.uri) | trim }}"
            """);

        Assert.True(execution.State.Current == State.Success, await _h.LogTextAsync(execution.Id));
        var row = Assert.IsAssignableFrom<IReadOnlyDictionary<string, object?>>(FlowHarness.Output(execution, "one", "row"));
        Assert.Equal(1L, row["id"]);
        Assert.Equal(9.5, row["score"]);
        Assert.Equal(1L, FlowHarness.Output(execution, "one", "size"));
        var rows = Assert.IsAssignableFrom<IReadOnlyList<object?>>(FlowHarness.Output(execution, "all", "rows"));
        Assert.Equal(3, rows.Count);
        Assert.Null(((IReadOnlyDictionary<string, object?>)rows[2]!)["score"]);
        Assert.Equal(3L, FlowHarness.Output(execution, "stored", "size"));
        Assert.EndsWith(".ion", (string)FlowHarness.Output(execution, "stored", "uri")!, StringComparison.Ordinal);
        Assert.Empty(FlowHarness.TaskRun(execution, "none").Outputs ?? new Dictionary<string, object?>());
        Assert.Equal("""Ada|3|sqlite-flow|{"id":3,"name":"sqlite-flow"}""" + "\n" + """{"id":2,"name":"Alan"}""" + "\n" + """{"id":1,"name":"Ada"}""",
            FlowHarness.Output(execution, "use", "value"));
    }

    [Fact]
    public async Task Sql_errors_fail_the_task_with_the_database_message()
    {
        var execution = await _h.RunAsync($$$"""
            id: sqlite-error
            namespace: test.jdbc
            tasks:
              - id: bad
                type: io.kestra.plugin.jdbc.sqlite.Query
                url: jdbc:sqlite:{{{_db}}}
                sql: SELECT * FROM no_such_table
                fetchType: FETCH
            """);
        Assert.Equal(State.Failed, execution.State.Current);
        Assert.Contains("no such table", await _h.LogTextAsync(execution.Id), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_named_parameter_fails_clearly()
    {
        var execution = await _h.RunAsync("""
            id: sqlite-missing-param
            namespace: test.jdbc
            tasks:
              - id: bad
                type: io.kestra.plugin.jdbc.sqlite.Query
                url: "jdbc:sqlite::memory:"
                sql: SELECT :a + :b AS s
                parameters: {a: 1}
                fetchType: FETCH_ONE
            """);
        Assert.Equal(State.Failed, execution.State.Current);
        Assert.Contains("':b'", await _h.LogTextAsync(execution.Id), StringComparison.Ordinal);
    }
}

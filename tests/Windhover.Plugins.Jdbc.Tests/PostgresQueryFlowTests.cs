using Npgsql;
using Windhover.Engine.Executions;
using Windhover.Engine.Runtime;
using Windhover.Plugins.Testing;

namespace Windhover.Plugins.Jdbc.Tests;

/// <summary>Runs only with a real PostgreSQL: skipped when WINDHOVER_TEST_POSTGRES is absent, failing when CI=true.</summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public const string Variable = "WINDHOVER_TEST_POSTGRES";

    public PostgresFactAttribute()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(Variable)) && Environment.GetEnvironmentVariable("CI") != "true")
        {
            Skip = $"{Variable} is not set (run `source .ci/services`)";
        }
    }
}

/// <summary>PostgreSQL Query through real flows against a real server.</summary>
public sealed class PostgresQueryFlowTests : IAsyncLifetime
{
    private readonly string _schema = "wh_" + Guid.NewGuid().ToString("N")[..10];
    private FlowHarness _h = null!;
    private NpgsqlConnectionStringBuilder? _cs;

    public async Task InitializeAsync()
    {
        var raw = Environment.GetEnvironmentVariable(PostgresFactAttribute.Variable);
        _cs = string.IsNullOrEmpty(raw) ? null : new NpgsqlConnectionStringBuilder(raw);
        _h = await FlowHarness.StartAsync(JdbcPlugin.Register,
            new EnvironmentSecretProvider(new Dictionary<string, string> { ["WINDHOVER_SECRET_PG_PASSWORD"] = _cs?.Password ?? "" }));
    }

    public async Task DisposeAsync()
    {
        await _h.DisposeAsync();
        if (_cs is not null)
        {
            await using var connection = new NpgsqlConnection(_cs.ConnectionString);
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS {_schema} CASCADE", connection);
            await drop.ExecuteNonQueryAsync();
        }
    }

    private string Url()
    {
        Assert.True(_cs is not null, $"{PostgresFactAttribute.Variable} is not set but CI=true: PostgreSQL tests must run in CI");
        return $"jdbc:postgresql://{_cs!.Host}:{_cs.Port}/{_cs.Database}?currentSchema={_schema}";
    }

    [PostgresFact]
    public async Task Query_types_parameters_and_fetch_types_on_a_real_postgres()
    {
        var url = Url();
        var execution = await _h.RunAsync($$$"""
            id: pg-flow
            namespace: test.jdbc
            tasks:
              - id: create
                type: io.kestra.plugin.jdbc.postgresql.Query
                url: "{{{url}}}"
                username: {{{_cs!.Username}}}
                password: "{{ secret('PG_PASSWORD') }}"
                sql: |
                  CREATE SCHEMA {{{_schema}}};
                  CREATE TABLE {{{_schema}}}.orders (id int PRIMARY KEY, customer text, amount numeric(10,2), paid boolean,
                    created timestamptz, day date, tags text[], meta jsonb);
                  INSERT INTO {{{_schema}}}.orders VALUES
                    (1, 'ada', 12.50, true, '2024-01-02T03:04:05Z', '2024-01-02', ARRAY['a','b'], '{"k": 1}'),
                    (2, 'alan', 7, false, '2024-02-03T04:05:06Z', '2024-02-03', ARRAY[]::text[], null);
              - id: insert
                type: io.kestra.plugin.jdbc.postgresql.Query
                url: "{{{url}}}"
                username: {{{_cs.Username}}}
                password: "{{ secret('PG_PASSWORD') }}"
                sql: "INSERT INTO orders (id, customer, amount, paid) VALUES (:id, :who, :amount::numeric, :paid)"
                parameters:
                  id: 3
                  who: "{{ flow.namespace }}"
                  amount: 99.95
                  paid: true
              - id: one
                type: io.kestra.plugin.jdbc.postgresql.Query
                url: "{{{url}}}"
                username: {{{_cs.Username}}}
                password: "{{ secret('PG_PASSWORD') }}"
                sql: SELECT id, customer, amount, paid, created, day, tags, meta::text AS meta FROM orders WHERE customer = ? AND amount > ?
                parameters: ["ada", 1]
                fetchType: FETCH_ONE
              - id: all
                type: io.kestra.plugin.jdbc.postgresql.Query
                url: "{{{url}}}"
                username: {{{_cs.Username}}}
                password: "{{ secret('PG_PASSWORD') }}"
                sql: SELECT id, customer FROM orders ORDER BY id
                fetchType: FETCH
              - id: stored
                type: io.kestra.plugin.jdbc.postgresql.Query
                url: "{{{url}}}"
                username: {{{_cs.Username}}}
                password: "{{ secret('PG_PASSWORD') }}"
                sql: SELECT id, amount FROM orders ORDER BY id
                store: true
              - id: use
                type: io.kestra.plugin.core.debug.Return
                format: "{{ outputs.all.rows | length }}:{{ outputs.all.rows[2].customer }}:{{ read(outputs.stored.uri) | trim }}"
            """);

        Assert.True(execution.State.Current == State.Success, await _h.LogTextAsync(execution.Id));
        var row = Assert.IsAssignableFrom<IReadOnlyDictionary<string, object?>>(FlowHarness.Output(execution, "one", "row"));
        Assert.Equal(1L, row["id"]);
        Assert.Equal("ada", row["customer"]);
        Assert.Equal(12.5, row["amount"]);
        Assert.Equal(true, row["paid"]);
        Assert.Equal(new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.Zero), row["created"]);
        Assert.Equal("2024-01-02", row["day"]);
        Assert.Equal(["a", "b"], Assert.IsAssignableFrom<IReadOnlyList<object?>>(row["tags"]));
        Assert.Equal("""{"k": 1}""", row["meta"]);
        Assert.Equal(3L, FlowHarness.Output(execution, "all", "size"));
        Assert.Equal("""3:test.jdbc:{"id":1,"amount":12.5}""" + "\n" + """{"id":2,"amount":7.0}""" + "\n" + """{"id":3,"amount":99.95}""",
            FlowHarness.Output(execution, "use", "value"));
    }

    [PostgresFact]
    public async Task Connection_failure_fails_with_a_clear_message_and_the_password_masked()
    {
        _ = Url();
        var execution = await _h.RunAsync($$$"""
            id: pg-down
            namespace: test.jdbc
            tasks:
              - id: down
                type: io.kestra.plugin.jdbc.postgresql.Query
                url: "jdbc:postgresql://127.0.0.1:1/nothing?connectTimeout=2"
                username: nobody
                password: hunter2-secret
                sql: SELECT 1
                fetchType: FETCH_ONE
            """);
        Assert.Equal(State.Failed, execution.State.Current);
        var text = await _h.LogTextAsync(execution.Id);
        Assert.Contains("Cannot connect to the PostgreSQL at 127.0.0.1:1/nothing", text, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2-secret", text, StringComparison.Ordinal);
    }
}

using Npgsql;

namespace Windhover.Storage.Postgres.Tests;

/// <summary>Runs only with a real PostgreSQL: skipped when WINDHOVER_TEST_POSTGRES is absent, failing when CI=true.</summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (!TestDatabase.Available && Environment.GetEnvironmentVariable("CI") != "true")
        {
            Skip = $"{TestDatabase.Variable} is not set (run `source .ci/services`)";
        }
    }
}

/// <summary>A fresh database per test on the server named by WINDHOVER_TEST_POSTGRES, dropped at dispose.</summary>
internal sealed class TestDatabase : IAsyncDisposable
{
    public const string Variable = "WINDHOVER_TEST_POSTGRES";

    private TestDatabase(string name, string connectionString)
    {
        Name = name;
        ConnectionString = connectionString;
    }

    public static bool Available => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(Variable));

    public static string ServerConnectionString
    {
        get
        {
            var raw = Environment.GetEnvironmentVariable(Variable);
            Assert.False(string.IsNullOrEmpty(raw), $"{Variable} is not set but CI=true: PostgreSQL tests must run in CI");
            return raw!;
        }
    }

    public string Name { get; }
    public string ConnectionString { get; }

    public static async Task<TestDatabase> CreateAsync()
    {
        var server = ServerConnectionString;
        var name = "wh_test_" + Guid.NewGuid().ToString("N")[..12];
        await using (var connection = new NpgsqlConnection(server))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await create.ExecuteNonQueryAsync();
        }

        return new TestDatabase(name, new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString);
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(ServerConnectionString);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }
}

/// <summary>A theory that runs only with a real PostgreSQL (see <see cref="PostgresFactAttribute"/>).</summary>
public sealed class PostgresTheoryAttribute : TheoryAttribute
{
    public PostgresTheoryAttribute()
    {
        if (!TestDatabase.Available && Environment.GetEnvironmentVariable("CI") != "true")
        {
            Skip = $"{TestDatabase.Variable} is not set (run `source .ci/services`)";
        }
    }
}

/// <summary>The PostgreSQL tests run one class at a time: one of them restarts the server.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PostgresCollection
{
    public const string Name = "postgres";
}

using Npgsql;
using Windhover.Cli.Commands;
using Windhover.Engine.Runtime;
using Windhover.Server.Hosting;

namespace Windhover.Conformance.Tests;

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

public sealed partial class RunCasesTests
{
    /// <summary>As <see cref="Simple_and_needs_env_cases_pass_through_the_REST_API"/>, on a <c>server standalone --db</c> node over a fresh PostgreSQL database.</summary>
    [PostgresFact]
    public Task Simple_and_needs_env_cases_pass_on_PostgreSQL() => SimpleAndNeedsEnvAsync(BuildPostgresServer);

    /// <summary>As <see cref="Needs_interaction_cases_pass_through_the_REST_API"/>, on a <c>server standalone --db</c> node over a fresh PostgreSQL database.</summary>
    [PostgresFact]
    public Task Needs_interaction_cases_pass_on_PostgreSQL() => NeedsInteractionAsync(BuildPostgresServer);

    /// <summary>As <c>windhover server standalone --db</c> (every role in one node) over a database created for this server and dropped after it.</summary>
    private static async Task<ServerUnderTest> BuildPostgresServer(ServerOptions options)
    {
        var server = Environment.GetEnvironmentVariable(PostgresFactAttribute.Variable);
        Assert.False(string.IsNullOrEmpty(server), $"{PostgresFactAttribute.Variable} is not set but CI=true: PostgreSQL tests must run in CI");
        var database = "wh_conformance_" + Guid.NewGuid().ToString("N")[..12];
        await ExecuteAsync(server!, $"CREATE DATABASE {database}");
        async Task DropAsync()
        {
            NpgsqlConnection.ClearAllPools();
            await ExecuteAsync(server!, $"DROP DATABASE IF EXISTS {database} WITH (FORCE)");
        }

        try
        {
            var node = new ClusterServerCommand.ClusterNode(ClusterRole.Standalone, new NpgsqlConnectionStringBuilder(server) { Database = database }.ConnectionString,
                32, new ClusterNodeOptions());
            return new ServerUnderTest(ClusterServerCommand.BuildNode(options, node, configureLogging: _ => { }), DropAsync);
        }
        catch
        {
            await DropAsync();
            throw;
        }
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}

using System.Globalization;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
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
    /// <summary>The same corpus as <see cref="Simple_cases_pass_through_the_REST_API"/>, on a <c>server standalone --db</c> node over a fresh PostgreSQL database.</summary>
    [PostgresFact]
    public async Task Simple_cases_pass_on_PostgreSQL()
    {
        var server = Environment.GetEnvironmentVariable(PostgresFactAttribute.Variable);
        Assert.False(string.IsNullOrEmpty(server), $"{PostgresFactAttribute.Variable} is not set but CI=true: PostgreSQL tests must run in CI");
        var database = "wh_conformance_" + Guid.NewGuid().ToString("N")[..12];
        await ExecuteAsync(server!, $"CREATE DATABASE {database}");
        var dataPath = Path.Combine(Path.GetTempPath(), "windhover-conformance-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataPath);
        try
        {
            var node = new ClusterServerCommand.ClusterNode(ClusterRole.Standalone, new NpgsqlConnectionStringBuilder(server) { Database = database }.ConnectionString,
                32, new ClusterNodeOptions());
            await using var app = ClusterServerCommand.BuildNode(new ServerOptions { Port = 0, DataPath = dataPath, FlowPath = null }, node, configureLogging: _ => { });
            await app.StartAsync();
            try
            {
                var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
                var corpus = FindCorpus();
                var (exitCode, stdout, stderr) = await RunAsync("python3", [
                    Path.Combine(corpus, "run_cases.py"), "--server", address,
                    "--cases", Path.Combine(corpus, "cases.json"), "--flows", Path.Combine(corpus, "flows"),
                    "--only", "kind=simple", "--timeout", "30"]);
                foreach (var line in stdout.Split('\n').Where(l => l.StartsWith("FAIL ", StringComparison.Ordinal)))
                {
                    output.WriteLine(line);
                }

                var totals = Totals().Matches(stdout).LastOrDefault();
                Assert.True(totals is not null, $"run_cases.py printed no totals (exit {exitCode}): {stderr}\n{stdout}");
                var passed = int.Parse(totals.Groups[1].Value, CultureInfo.InvariantCulture);
                var failed = int.Parse(totals.Groups[2].Value, CultureInfo.InvariantCulture);
                var rate = passed / (double)Math.Max(1, passed + failed);
                output.WriteLine($"PostgreSQL: {passed} passed, {failed} failed: {rate:P1}");
                var minimum = double.TryParse(Environment.GetEnvironmentVariable("WINDHOVER_CONFORMANCE_MIN_PASS_RATE"), NumberStyles.Float, CultureInfo.InvariantCulture, out var m) ? m : 0.95;
                Assert.True(rate >= minimum, $"pass rate {rate:P1} is below {minimum:P0}:\n" +
                    string.Join('\n', stdout.Split('\n').Where(l => l.StartsWith("FAIL ", StringComparison.Ordinal))));
            }
            finally
            {
                await app.StopAsync();
            }
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await ExecuteAsync(server!, $"DROP DATABASE IF EXISTS {database} WITH (FORCE)");
            try
            {
                Directory.Delete(dataPath, recursive: true);
            }
            catch (IOException)
            {
            }
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

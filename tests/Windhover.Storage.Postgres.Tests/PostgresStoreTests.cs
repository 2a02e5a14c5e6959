using System.Reflection;
using Npgsql;
using Windhover.Engine.Stores;
using Windhover.Engine.Tests.Stores;

namespace Windhover.Storage.Postgres.Tests;

/// <summary>
/// The store contract (the same tests SQLite and the in-memory stores pass) against a real PostgreSQL, one fresh
/// database per test. The contract's <c>[Fact]</c> methods run as cases of one theory, so that they skip without a server.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresStoreTests
{
    public static TheoryData<string> ContractTests()
    {
        var data = new TheoryData<string>();
        foreach (var method in typeof(StoreContractTests).GetMethods(BindingFlags.Public | BindingFlags.Instance)
            .Where(m => m.GetCustomAttribute<FactAttribute>() is not null).OrderBy(m => m.Name, StringComparer.Ordinal))
        {
            data.Add(method.Name);
        }

        return data;
    }

    [PostgresTheory]
    [MemberData(nameof(ContractTests))]
    public async Task Store_contract(string test)
    {
        await using var contract = new Contract();
        var method = typeof(StoreContractTests).GetMethod(test)!;
        var result = method.Invoke(contract, []);
        if (result is Task task)
        {
            await task;
        }
    }

    [PostgresFact]
    public async Task Schema_is_migrated_at_open_and_reopen_is_idempotent()
    {
        await using var test = await TestDatabase.CreateAsync();
        await using (var first = await PostgresDatabase.OpenAsync(test.ConnectionString))
        {
            Assert.Equal(PostgresMigrations.All.Count, await first.SchemaVersionAsync());
        }

        await using var second = await PostgresDatabase.OpenAsync(test.ConnectionString);
        Assert.Equal(PostgresMigrations.All.Count, await second.SchemaVersionAsync());
        await using var connection = await second.DataSource.OpenConnectionAsync();
        await using var count = new NpgsqlCommand("SELECT COUNT(*) FROM schema_migrations", connection);
        Assert.Equal((long)PostgresMigrations.All.Count, await count.ExecuteScalarAsync());
    }

    [Theory]
    [InlineData("Host=h;Maximum Pool Size=7", true)]
    [InlineData("Host=h;MaxPoolSize=7", true)]
    [InlineData("Host=h;max pool size=7", true)]
    [InlineData("Host=h;Minimum Pool Size=2;Pooling=true", false)]
    public void A_pool_size_in_the_connection_string_is_recognised_in_every_spelling(string connectionString, bool sets) =>
        Assert.Equal(sets, PostgresDatabase.SetsMaxPoolSize(connectionString));

    [PostgresFact]
    public async Task A_node_opens_no_more_connections_than_its_pool_allows_and_waits_for_a_free_one()
    {
        await using var test = await TestDatabase.CreateAsync();
        await using var database = await PostgresDatabase.OpenAsync(test.ConnectionString, new PostgresStoreOptions { MaxPoolSize = 3 });
        Assert.Equal(3, new NpgsqlConnectionStringBuilder(database.ConnectionString).MaxPoolSize);

        // Twenty queries at once, each holding its connection for a while: they share three connections, none fails.
        var peak = 0L;
        await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(async () =>
        {
            await using var connection = await database.DataSource.OpenConnectionAsync();
            await using var command = new NpgsqlCommand(
                "SELECT (SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'windhover') FROM pg_sleep(0.05)", connection);
            var seen = (long)(await command.ExecuteScalarAsync())!;
            InterlockedMax(ref peak, seen);
        })));
        Assert.InRange(peak, 1, 3);

        // A size the connection string gives is kept.
        var explicitSize = new NpgsqlConnectionStringBuilder(test.ConnectionString) { MaxPoolSize = 7 }.ConnectionString;
        await using var other = await PostgresDatabase.OpenAsync(explicitSize, new PostgresStoreOptions { MaxPoolSize = 3 });
        Assert.Equal(7, new NpgsqlConnectionStringBuilder(other.ConnectionString).MaxPoolSize);
    }

    private static void InterlockedMax(ref long target, long value)
    {
        var current = Interlocked.Read(ref target);
        while (value > current && Interlocked.CompareExchange(ref target, value, current) != current)
        {
            current = Interlocked.Read(ref target);
        }
    }

    [PostgresFact]
    public async Task Nodes_opening_together_migrate_once()
    {
        await using var test = await TestDatabase.CreateAsync();
        var opens = Enumerable.Range(0, 4).Select(_ => PostgresDatabase.OpenAsync(test.ConnectionString)).ToList();
        var databases = await Task.WhenAll(opens);
        foreach (var database in databases)
        {
            Assert.Equal(PostgresMigrations.All.Count, await database.SchemaVersionAsync());
            await database.DisposeAsync();
        }
    }

    [PostgresFact]
    public async Task Latest_flow_revisions_are_cached_only_while_flow_changes_are_heard()
    {
        await using var test = await TestDatabase.CreateAsync();
        await using var here = await PostgresDatabase.OpenAsync(test.ConnectionString);
        await using var there = await PostgresDatabase.OpenAsync(test.ConnectionString);
        var local = here.CreateStores().Flows;
        var remote = there.CreateStores().Flows;

        // No cluster listener: nothing would tell this node of another node's save, so nothing may be cached.
        Assert.Equal(-1, local.ChangeVersion);
        await remote.SaveAsync(Flow("v1"));
        Assert.Equal(1, (await local.GetAsync("company.team", "cached"))!.Revision);
        await remote.SaveAsync(Flow("v2"));
        Assert.Equal(2, (await local.GetAsync("company.team", "cached"))!.Revision);

        await using var cluster = new PostgresCluster(here);
        await cluster.StartAsync(_ => { }, CancellationToken.None);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (local.ChangeVersion < 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        // Listening: a local save changes the version before it returns; another node's save as soon as its notification arrives.
        var listening = local.ChangeVersion;
        Assert.True(listening >= 0, "the cluster listener never connected");
        Assert.Equal(2, (await local.GetAsync("company.team", "cached"))!.Revision);
        await local.SaveAsync(Flow("v3"));
        Assert.NotEqual(listening, local.ChangeVersion);
        Assert.Equal(3, (await local.GetAsync("company.team", "cached"))!.Revision);

        var beforeRemote = local.ChangeVersion;
        await remote.SaveAsync(Flow("v4"));
        while (local.ChangeVersion == beforeRemote && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.Equal(4, (await local.GetAsync("company.team", "cached"))!.Revision);
        var beforeDelete = local.ChangeVersion;
        Assert.True(await remote.DeleteAsync("company.team", "cached"));
        while (local.ChangeVersion == beforeDelete && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.Null(await local.GetAsync("company.team", "cached"));

        static Flows.Model.Flow Flow(string message) => Windhover.Flows.Yaml.FlowParser.Default.Parse($"""
            id: cached
            namespace: company.team
            tasks:
              - id: hello
                type: io.kestra.plugin.core.log.Log
                message: {message}
            """).Flow!;
    }

    private sealed class Contract : StoreContractTests, IAsyncDisposable
    {
        private readonly List<(TestDatabase Test, PostgresDatabase Database)> _databases = [];

        protected override StoreSet CreateStores()
        {
            var test = TestDatabase.CreateAsync().GetAwaiter().GetResult();
            var database = PostgresDatabase.Open(test.ConnectionString, new PostgresStoreOptions { TimeProvider = Time });
            _databases.Add((test, database));
            return database.CreateStores();
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var (test, database) in _databases)
            {
                await database.DisposeAsync();
                await test.DisposeAsync();
            }
        }
    }
}

using System.Reflection;
using Npgsql;
using Windhover.Engine.Stores;
using Windhover.Flows.Yaml;

namespace Windhover.Storage.Postgres;

public sealed record PostgresStoreOptions
{
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Parses stored flow sources; the default parser when null.</summary>
    public FlowParser? Parser { get; init; }

    /// <summary>
    /// Most connections this node opens (Npgsql's <c>Maximum Pool Size</c>) when the connection string does not say; a
    /// busy node waits for a free connection rather than exhausting the server's <c>max_connections</c>. The default
    /// covers the default 32 workers plus API requests, renewals and log writes.
    /// </summary>
    public int MaxPoolSize { get; init; } = 64;
}

/// <summary>
/// One PostgreSQL database shared by every node: a pooled <see cref="NpgsqlDataSource"/>, the schema migrated at open
/// (embedded <c>Migrations/NNN_name.sql</c>, each in its own transaction, under an advisory lock so that nodes starting
/// together migrate once), and the stores over it. Internal storage lives in the database too, so nodes share no disk.
/// </summary>
public sealed class PostgresDatabase : IAsyncDisposable, IDisposable
{
    /// <summary>Advisory lock key held while migrating ("windhover" + 1).</summary>
    private const long MigrationLockKey = 0x77696E64686F7601;

    private PostgresDatabase(NpgsqlDataSource dataSource, PostgresStoreOptions options)
    {
        DataSource = dataSource;
        Options = options;
    }

    public NpgsqlDataSource DataSource { get; }
    public PostgresStoreOptions Options { get; }

    private long _flowsVersion;
    private int _flowListeners;

    /// <summary>
    /// See <see cref="IFlowStore.ChangeVersion"/>: bumped by this process's flow saves and deletes and by other nodes'
    /// (their <c>windhover_flows</c> notifications); -1 while no cluster listener is connected to hear the latter.
    /// </summary>
    internal long FlowsVersion => Volatile.Read(ref _flowListeners) > 0 ? Interlocked.Read(ref _flowsVersion) : -1;

    internal void FlowsChanged() => Interlocked.Increment(ref _flowsVersion);

    /// <summary>A cluster listener started (true) or stopped (false) hearing flow notifications.</summary>
    internal void FlowListener(bool listening)
    {
        if (listening)
        {
            FlowsChanged(); // what was cached before may have missed notifications
            Interlocked.Increment(ref _flowListeners);
        }
        else
        {
            Interlocked.Decrement(ref _flowListeners);
            FlowsChanged();
        }
    }

    /// <summary>The connection string (with its password) the database was opened with.</summary>
    public string ConnectionString => DataSource.ConnectionString;

    /// <summary>Opens the data source and applies pending migrations.</summary>
    public static async Task<PostgresDatabase> OpenAsync(string connectionString, PostgresStoreOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new PostgresStoreOptions();
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (string.IsNullOrEmpty(builder.ApplicationName))
        {
            builder.ApplicationName = "windhover";
        }

        // Connections go back to the pool without DISCARD ALL: the stores leave no session state behind (session
        // advisory locks are released explicitly, LISTEN uses connections outside the pool).
        builder.NoResetOnClose = true;
        if (!SetsMaxPoolSize(connectionString))
        {
            builder.MaxPoolSize = Math.Max(options.MaxPoolSize, 1);
        }

        var dataSource = NpgsqlDataSource.Create(builder.ConnectionString);
        try
        {
            await PostgresMigrations.ApplyAsync(dataSource, MigrationLockKey, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await dataSource.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return new PostgresDatabase(dataSource, options);
    }

    /// <summary>Whether <paramref name="connectionString"/> sets Npgsql's pool size itself (under any of its spellings).</summary>
    internal static bool SetsMaxPoolSize(string connectionString)
    {
        var keys = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString }.Keys;
        foreach (string key in keys)
        {
            var name = key.Replace(" ", "", StringComparison.Ordinal);
            if (name.Equals("MaximumPoolSize", StringComparison.OrdinalIgnoreCase) || name.Equals("MaxPoolSize", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Synchronous <see cref="OpenAsync"/> for dependency-injection factories.</summary>
    public static PostgresDatabase Open(string connectionString, PostgresStoreOptions? options = null) =>
        OpenAsync(connectionString, options).GetAwaiter().GetResult();

    public async Task<int> SchemaVersionAsync(CancellationToken cancellationToken = default) =>
        await WithConnectionAsync(async connection =>
        {
            await using var command = new NpgsqlCommand("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", connection);
            return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
        }, cancellationToken).ConfigureAwait(false);

    /// <summary>Every store over this database.</summary>
    public StoreSet CreateStores()
    {
        var executions = new PostgresExecutionStore(this);
        return new StoreSet(
            new PostgresFlowStore(this),
            executions,
            new PostgresLogStore(this),
            new PostgresKvStore(this),
            new PostgresFileStorage(this),
            executions) { Metrics = new PostgresMetricStore(this) };
    }

    internal async Task<T> WithConnectionAsync<T>(Func<NpgsqlConnection, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = await DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await work(connection).ConfigureAwait(false);
    }

    /// <summary>Runs <paramref name="sql"/> with positional parameters (<c>$1</c>, <c>$2</c>...) and reads every row with <paramref name="read"/>.</summary>
    internal Task<IReadOnlyList<T>> QueryListAsync<T>(string sql, Func<NpgsqlDataReader, T> read, CancellationToken cancellationToken, params object[] parameters) =>
        WithConnectionAsync<IReadOnlyList<T>>(async connection =>
        {
            await using var command = new NpgsqlCommand(sql, connection);
            foreach (var parameter in parameters)
            {
                command.Parameters.AddWithValue(parameter);
            }

            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var list = new List<T>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                list.Add(read(reader));
            }

            return list;
        }, cancellationToken);

    internal async Task<T> WithTransactionAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = await DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var result = await work(connection, transaction).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return result;
    }

    public ValueTask DisposeAsync() => DataSource.DisposeAsync();

    public void Dispose() => DataSource.Dispose();
}

/// <summary>Applies the embedded <c>Migrations/NNN_name.sql</c> scripts in order. Never edit a released script: add one.</summary>
internal static class PostgresMigrations
{
    public static IReadOnlyList<(int Version, string Name, string Sql)> All { get; } = Load();

    private static List<(int, string, string)> Load()
    {
        var assembly = typeof(PostgresMigrations).Assembly;
        var list = new List<(int, string, string)>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith("Migrations.", StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal)))
        {
            var name = resource["Migrations.".Length..^".sql".Length];
            var version = int.Parse(name[..name.IndexOf('_', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture);
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            list.Add((version, name, reader.ReadToEnd()));
        }

        list.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i].Item1 != i + 1)
            {
                throw new InvalidOperationException($"Migration versions must be 1..N without gaps: found {list[i].Item2}");
            }
        }

        return list;
    }

    public static async Task ApplyAsync(NpgsqlDataSource dataSource, long lockKey, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await Execute(connection, null, $"SELECT pg_advisory_lock({lockKey})", cancellationToken).ConfigureAwait(false);
        try
        {
            await Execute(connection, null, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())", cancellationToken).ConfigureAwait(false);
            var applied = new HashSet<int>();
            await using (var command = new NpgsqlCommand("SELECT version FROM schema_migrations", connection))
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    applied.Add(reader.GetInt32(0));
                }
            }

            if (applied.Count > 0 && applied.Max() > All.Count)
            {
                throw new InvalidOperationException($"The database schema version {applied.Max()} is newer than this Windhover ({All.Count})");
            }

            foreach (var (version, name, sql) in All.Where(m => !applied.Contains(m.Version)))
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await Execute(connection, transaction, sql, cancellationToken).ConfigureAwait(false);
                await using (var record = new NpgsqlCommand("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", connection, transaction))
                {
                    record.Parameters.AddWithValue(version);
                    record.Parameters.AddWithValue(name);
                    await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            await Execute(connection, null, $"SELECT pg_advisory_unlock({lockKey})", CancellationToken.None).ConfigureAwait(false);
        }
    }

    private static async Task Execute(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}

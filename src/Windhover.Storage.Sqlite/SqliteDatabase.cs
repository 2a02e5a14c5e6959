using Microsoft.Data.Sqlite;
using Windhover.Engine.Stores;
using Windhover.Flows.Yaml;

namespace Windhover.Storage.Sqlite;

public sealed record SqliteStoreOptions
{
    /// <summary>
    /// <c>NORMAL</c> (default) or <c>FULL</c>. In WAL mode NORMAL makes every commit durable against a process crash
    /// (kill -9: the WAL is in the OS page cache and is replayed at the next open) but an OS crash or power loss may
    /// lose the last commits (never corrupt the database). FULL fsyncs the WAL on every commit: durable against power
    /// loss, at roughly the cost of one fsync per executor step.
    /// </summary>
    public string Synchronous { get; init; } = "NORMAL";

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Parses stored flow sources; the default parser when null.</summary>
    public FlowParser? Parser { get; init; }

    /// <summary>Internal storage folder; <c>{database}.files</c> next to the database when null.</summary>
    public string? FilesFolder { get; init; }
}

/// <summary>
/// One SQLite database file (WAL). Writes go through one dedicated connection, serialised; reads use pooled
/// connections, which WAL lets run beside the writer. The schema is migrated at open.
/// </summary>
public sealed class SqliteDatabase : IDisposable
{
    private readonly SqliteConnection _writer;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly string _readConnectionString;

    private SqliteDatabase(string path, SqliteStoreOptions options)
    {
        Path = System.IO.Path.GetFullPath(path);
        Options = options;
        if (options.Synchronous is not ("NORMAL" or "FULL"))
        {
            throw new ArgumentException("Synchronous must be NORMAL or FULL", nameof(options));
        }

        var builder = new SqliteConnectionStringBuilder { DataSource = Path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true, Cache = SqliteCacheMode.Private };
        _writer = new SqliteConnection(builder.ToString());
        _writer.Open();
        Execute(_writer, $"PRAGMA journal_mode=WAL; PRAGMA synchronous={options.Synchronous}; PRAGMA busy_timeout=10000; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-16000;");
        Migrations.Apply(_writer);
        builder.Mode = SqliteOpenMode.ReadOnly;
        _readConnectionString = builder.ToString();
    }

    public string Path { get; }
    public SqliteStoreOptions Options { get; }
    public int SchemaVersion => Migrations.Version(_writer);

    public static SqliteDatabase Open(string path, SqliteStoreOptions? options = null) => new(path, options ?? new SqliteStoreOptions());

    /// <summary>Every store over this database, with internal storage in <see cref="SqliteStoreOptions.FilesFolder"/>.</summary>
    public StoreSet CreateStores()
    {
        var executions = new SqliteExecutionStore(this);
        return new StoreSet(
            new SqliteFlowStore(this),
            executions,
            new SqliteLogStore(this),
            new SqliteKvStore(this),
            new LocalFileStorage(Options.FilesFolder ?? Path + ".files"),
            executions) { Metrics = new SqliteMetricStore(this) };
    }

    /// <summary>Opens the database and returns its stores (the database lives as long as the process).</summary>
    public static StoreSet OpenStores(string path, SqliteStoreOptions? options = null) => Open(path, options).CreateStores();

    internal async Task<T> WriteAsync<T>(Func<SqliteConnection, T> work, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return work(_writer);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    internal T Read<T>(Func<SqliteConnection, T> work)
    {
        using var connection = new SqliteConnection(_readConnectionString);
        connection.Open();
        return work(connection);
    }

    internal static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public void Dispose()
    {
        _writer.Dispose();
        _writeLock.Dispose();
    }
}

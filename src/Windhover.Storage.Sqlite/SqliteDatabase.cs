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
/// One SQLite database file (WAL). Writes go through one dedicated connection, serialised, and executor steps waiting
/// together share one commit (<see cref="WriteGroupedAsync"/>); reads use pooled connections, which WAL lets run
/// beside the writer. The schema is migrated at open.
/// </summary>
public sealed class SqliteDatabase : IDisposable
{
    private readonly SqliteConnection _writer;
    private readonly Dictionary<string, SqliteCommand> _writerCommands = new(StringComparer.Ordinal);
    private readonly object _queueLock = new();
    private List<PendingWrite> _queue = [];
    private bool _writing;
    private bool _disposed;
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

    /// <summary>
    /// Runs <paramref name="work"/> alone on the writer connection; it manages its own transaction. Serialised with every
    /// other write, in arrival order.
    /// </summary>
    internal Task<T> WriteAsync<T>(Func<SqliteConnection, T> work, CancellationToken cancellationToken) =>
        Enqueue(new PendingWrite<T>((connection, _) => work(connection), grouped: false, cancellationToken));

    /// <summary>
    /// Runs <paramref name="work"/> inside a transaction shared with the other grouped writes waiting at that moment
    /// (group commit): under load, many executor steps of different executions commit together, and each caller's task
    /// completes only after that commit. Each write runs inside its own savepoint, so a failing one is rolled back
    /// alone and fails only its own task. <paramref name="work"/> must not begin or commit a transaction.
    /// </summary>
    internal Task<T> WriteGroupedAsync<T>(Func<SqliteConnection, SqliteTransaction, T> work, CancellationToken cancellationToken) =>
        Enqueue(new PendingWrite<T>((connection, transaction) => work(connection, transaction!), grouped: true, cancellationToken));

    /// <summary>
    /// A prepared command of the writer connection, kept for the life of the database (SQLite prepares its statements
    /// once). Only valid inside a write; parameters are created once, in order of <paramref name="parameterNames"/>:
    /// set each one's value before executing. Never dispose it.
    /// </summary>
    internal SqliteCommand WriterCommand(SqliteTransaction? transaction, string sql, params string[] parameterNames)
    {
        if (!_writerCommands.TryGetValue(sql, out var command))
        {
            command = _writer.CreateCommand();
            command.CommandText = sql;
            foreach (var name in parameterNames)
            {
                command.Parameters.Add(new SqliteParameter { ParameterName = name });
            }

            _writerCommands[sql] = command;
        }

        command.Transaction = transaction;
        return command;
    }

    private Task<T> Enqueue<T>(PendingWrite<T> write)
    {
        bool lead;
        lock (_queueLock)
        {
            if (_disposed)
            {
                return Task.FromException<T>(new ObjectDisposedException(nameof(SqliteDatabase)));
            }

            _queue.Add(write);
            lead = !_writing;
            _writing = true;
        }

        if (lead)
        {
            // The first writer runs the queue inline (no thread hop when idle); anything queued meanwhile is written by
            // a pool thread so that this caller continues.
            if (RunRound())
            {
                _ = Task.Run(() =>
                {
                    while (RunRound())
                    {
                    }
                });
            }
        }

        return write.Task;
    }

    /// <summary>Writes everything queued; true when more arrived meanwhile (the caller keeps writing).</summary>
    private bool RunRound()
    {
        List<PendingWrite> batch;
        lock (_queueLock)
        {
            if (_queue.Count == 0)
            {
                _writing = false;
                return false;
            }

            batch = _queue;
            _queue = [];
        }

        var start = 0;
        while (start < batch.Count)
        {
            if (!batch[start].Grouped)
            {
                RunAlone(batch[start]);
                start++;
                continue;
            }

            var end = start;
            while (end < batch.Count && batch[end].Grouped)
            {
                end++;
            }

            RunGroup(batch, start, end);
            start = end;
        }

        lock (_queueLock)
        {
            if (_queue.Count == 0)
            {
                _writing = false;
                return false;
            }
        }

        return true;
    }

    private void RunAlone(PendingWrite write)
    {
        if (write.Cancelled())
        {
            return;
        }

        try
        {
            write.Run(_writer, null);
            write.Complete();
        }
        catch (Exception e)
        {
            write.Fail(e);
        }
    }

    private void RunGroup(List<PendingWrite> batch, int start, int end)
    {
        var done = new List<PendingWrite>(end - start);
        var savepoints = end - start > 1;
        SqliteTransaction? transaction = null;
        try
        {
            transaction = _writer.BeginTransaction();
            for (var i = start; i < end; i++)
            {
                var write = batch[i];
                if (write.Cancelled())
                {
                    continue;
                }

                if (!savepoints)
                {
                    write.Run(_writer, transaction); // a failure rolls the (single-write) transaction back below
                    done.Add(write);
                    continue;
                }

                transaction.Save("w");
                try
                {
                    write.Run(_writer, transaction);
                    transaction.Release("w");
                    done.Add(write);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    transaction.Rollback("w");
                    transaction.Release("w");
                    write.Fail(e);
                }
            }

            transaction.Commit();
        }
        catch (Exception e)
        {
            try
            {
                transaction?.Rollback();
            }
            catch (SqliteException)
            {
            }
            catch (InvalidOperationException)
            {
            }

            for (var i = start; i < end; i++)
            {
                batch[i].Fail(e);
            }

            return;
        }
        finally
        {
            transaction?.Dispose();
        }

        foreach (var write in done)
        {
            write.Complete();
        }
    }

    private abstract class PendingWrite
    {
        public abstract bool Grouped { get; }
        public abstract void Run(SqliteConnection connection, SqliteTransaction? transaction);
        public abstract void Complete();
        public abstract void Fail(Exception exception);
        public abstract bool Cancelled();
    }

    private sealed class PendingWrite<T>(Func<SqliteConnection, SqliteTransaction?, T> work, bool grouped, CancellationToken cancellationToken) : PendingWrite
    {
        private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T _result = default!;

        public Task<T> Task => _completion.Task;
        public override bool Grouped => grouped;
        public override void Run(SqliteConnection connection, SqliteTransaction? transaction) => _result = work(connection, transaction);
        public override void Complete() => _completion.TrySetResult(_result);
        public override void Fail(Exception exception) => _completion.TrySetException(exception);

        public override bool Cancelled()
        {
            if (!cancellationToken.IsCancellationRequested)
            {
                return false;
            }

            _completion.TrySetCanceled(cancellationToken);
            return true;
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
        lock (_queueLock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        // Let a write in progress finish before the connection goes away.
        SpinWait.SpinUntil(() =>
        {
            lock (_queueLock)
            {
                return !_writing;
            }
        }, TimeSpan.FromSeconds(10));
        foreach (var command in _writerCommands.Values)
        {
            command.Dispose();
        }

        // Only this database's pooled connections: a process-wide ClearAllPools would close other databases' readers
        // under their feet.
        SqliteConnection.ClearPool(_writer);
        _writer.Dispose();
        using var reader = new SqliteConnection(_readConnectionString);
        SqliteConnection.ClearPool(reader);
    }
}

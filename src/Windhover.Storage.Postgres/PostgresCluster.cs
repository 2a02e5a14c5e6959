using System.Collections.Concurrent;
using Npgsql;
using Windhover.Engine.Executions;
using Windhover.Engine.Executor;
using Windhover.Engine.Runtime;
using Windhover.Engine.Stores;

namespace Windhover.Storage.Postgres;

/// <summary>
/// One node of a cluster over a PostgreSQL database (see <see cref="IRuntimeCluster"/>): steps serialised by the
/// execution's row lock (<c>SELECT ... FOR UPDATE</c>), the <c>task_queue</c> table claimed with
/// <c>FOR UPDATE SKIP LOCKED</c> under leases, timers claimed when due, wake-ups by <c>LISTEN/NOTIFY</c> on a dedicated
/// connection (with the runtime's poll as fallback), and a sweep of stalled executions. Lease and stall times use the
/// database clock, the one clock every node shares.
/// </summary>
public sealed class PostgresCluster : IRuntimeCluster
{
    internal const string TasksChannel = "windhover_tasks";
    internal const string EndedChannel = "windhover_ended";
    internal const string KillChannel = "windhover_kill";
    internal const string FlowsChannel = "windhover_flows";

    /// <summary>Executions this node committed last, by id: reused when the stored version is still the one committed.</summary>
    private readonly ConcurrentDictionary<string, (long Version, Execution Execution)> _cache = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly string _roles;
    private Task? _listener;
    private int _disposed;

    public PostgresCluster(PostgresDatabase database, ClusterNodeOptions? options = null, string? nodeId = null, string roles = "standalone")
    {
        Database = database;
        Options = options ?? new ClusterNodeOptions();
        NodeId = nodeId ?? $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid().ToString("N")[..8]}";
        _roles = roles;
    }

    public PostgresDatabase Database { get; }
    public string NodeId { get; }
    public ClusterNodeOptions Options { get; }

    /// <summary>Largest number of cached executions; the cache is cleared beyond it.</summary>
    public int CacheLimit { get; init; } = 10_000;

    private double LeaseSeconds => Options.LeaseTimeout.TotalSeconds;

    // ================================================================ notifications

    public Task StartAsync(Action<ClusterSignal> onSignal, CancellationToken cancellationToken)
    {
        _listener ??= Task.Run(() => ListenAsync(onSignal, _stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>A connection outside the pool (LISTEN and session locks must not go back to it).</summary>
    internal NpgsqlConnection DedicatedConnection()
    {
        var name = "windhover " + NodeId;
        var builder = new NpgsqlConnectionStringBuilder(Database.ConnectionString) { Pooling = false, KeepAlive = 5, ApplicationName = name.Length > 63 ? name[..63] : name };
        return new NpgsqlConnection(builder.ConnectionString);
    }

    private async Task ListenAsync(Action<ClusterSignal> onSignal, CancellationToken token)
    {
        var first = true;
        while (!token.IsCancellationRequested)
        {
            try
            {
                await using var connection = DedicatedConnection();
                await connection.OpenAsync(token).ConfigureAwait(false);
                connection.Notification += (_, e) => Dispatch(onSignal, e.Channel, e.Payload);
                await using (var listen = new NpgsqlCommand($"LISTEN {TasksChannel}; LISTEN {EndedChannel}; LISTEN {KillChannel}; LISTEN {FlowsChannel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(token).ConfigureAwait(false);
                }

                // While this connection listens, other nodes' flow saves reach this node: flow lists may be cached.
                Database.FlowListener(listening: true);
                try
                {
                    await HeartbeatAsync(connection, insert: true, token).ConfigureAwait(false);
                    if (!first)
                    {
                        onSignal(new ClusterSignal.Reconnected());
                    }

                    first = false;
                    while (!token.IsCancellationRequested)
                    {
                        if (!await connection.WaitAsync(TimeSpan.FromSeconds(5), token).ConfigureAwait(false))
                        {
                            await HeartbeatAsync(connection, insert: false, token).ConfigureAwait(false);
                        }
                    }
                }
                finally
                {
                    Database.FlowListener(listening: false);
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or IOException or TimeoutException or InvalidOperationException)
            {
                // the database is away: poll-based work goes on failing and retrying; listen again when it is back
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(500), token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private void Dispatch(Action<ClusterSignal> onSignal, string channel, string payload)
    {
        if (channel == FlowsChannel)
        {
            Database.FlowsChanged();
        }

        switch (channel)
        {
            case TasksChannel:
                onSignal(new ClusterSignal.TasksQueued());
                break;
            case EndedChannel:
                onSignal(new ClusterSignal.ExecutionEnded(payload));
                break;
            case KillChannel:
                onSignal(new ClusterSignal.KillTaskRun(payload));
                break;
            case FlowsChannel when payload.LastIndexOf('/') is var slash and > 0:
                onSignal(new ClusterSignal.FlowSaved(payload[..slash], payload[(slash + 1)..]));
                break;
        }
    }

    private async Task HeartbeatAsync(NpgsqlConnection connection, bool insert, CancellationToken token)
    {
        await using var command = new NpgsqlCommand(insert
            ? """
              INSERT INTO cluster_nodes (id, roles, started_at, heartbeat_at) VALUES ($1, $2, clock_timestamp(), clock_timestamp())
              ON CONFLICT (id) DO UPDATE SET heartbeat_at = clock_timestamp()
              """
            : "UPDATE cluster_nodes SET heartbeat_at = clock_timestamp() WHERE id = $1", connection);
        command.Parameters.AddWithValue(NodeId);
        if (insert)
        {
            command.Parameters.AddWithValue(_roles);
        }

        await command.ExecuteNonQueryAsync(token).ConfigureAwait(false);
    }

    // ================================================================ steps

    public async Task<IClusterStep> BeginStepAsync(string executionId, Execution? cached, CancellationToken cancellationToken)
    {
        // Two round trips per step: BEGIN with the lock, then the step's writes with COMMIT (one batch each). The
        // transaction is opened and closed in SQL, so the commit rides with the writes (Npgsql follows the
        // transaction status the server reports; a step that does not commit is rolled back on dispose).
        var connection = await Database.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var open = false;
        try
        {
            long? version = null;
            await using (var batch = new NpgsqlBatch(connection))
            {
                batch.BatchCommands.Add(new NpgsqlBatchCommand("BEGIN"));
                var select = new NpgsqlBatchCommand("SELECT version FROM executions WHERE id = $1 FOR UPDATE");
                select.Parameters.AddWithValue(executionId);
                batch.BatchCommands.Add(select);
                open = true;
                await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    version = reader.GetInt64(0);
                }
            }

            Execution? current = null;
            if (version is { } stored)
            {
                // Version 1 is the state its creator saved (every step bumps it): the caller's copy is that state.
                current = _cache.TryGetValue(executionId, out var entry) && entry.Version == stored ? entry.Execution
                    : stored == 1 && cached is not null && cached.Id == executionId ? cached
                    : await PostgresExecutionStore.LoadAsync(connection, null, executionId, forUpdate: false, cancellationToken).ConfigureAwait(false);
            }

            return new Step(this, connection, executionId, version ?? 0, current);
        }
        catch
        {
            if (open)
            {
                await Step.RollbackAsync(connection).ConfigureAwait(false);
            }

            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private void Committed(string executionId, long version, Execution execution)
    {
        if (execution.State.Current.IsTerminal())
        {
            _cache.TryRemove(executionId, out _);
            return;
        }

        if (_cache.Count >= CacheLimit)
        {
            _cache.Clear();
        }

        _cache[executionId] = (version, execution);
    }

    private sealed class Step(PostgresCluster cluster, NpgsqlConnection connection, string executionId, long version, Execution? current)
        : IClusterStep
    {
        private readonly NpgsqlBatch _batch = new(connection);
        private Execution? _saved;
        private bool _notified;
        private bool _committed;

        public Execution? Current { get; } = current;

        public void Save(Execution execution, ExecutionChanges changes)
        {
            // Version 0: the row was absent under this transaction (a new execution inserted by its first step).
            PostgresExecutionStore.AddSave(_batch, execution, changes, absent: version == 0);
            // The queue rows of task runs this step finished (or took back) go with it: only live work stays queued.
            var settled = changes.ReplaceAllTaskRuns ? execution.TaskRunList.Where(t => t.State.Current != State.Running).Select(t => t.Id)
                : changes.TaskRuns.Where(c => c.TaskRun.State.Current != State.Running).Select(c => c.TaskRun.Id);
            if (execution.State.Current.IsTerminal())
            {
                // Every queue row of the execution, by primary key (a task run id is unique; rows of task runs a
                // restart removed from the list are left to the sweep's retention).
                var all = new NpgsqlBatchCommand("DELETE FROM task_queue WHERE task_run_id = ANY($1)");
                all.Parameters.AddWithValue(execution.TaskRunList.Select(t => t.Id).ToArray());
                _batch.BatchCommands.Add(all);
                var ended = new NpgsqlBatchCommand($"SELECT pg_notify('{EndedChannel}', $1)");
                ended.Parameters.AddWithValue(execution.Id);
                _batch.BatchCommands.Add(ended);
            }
            else if (settled.ToArray() is { Length: > 0 } ids)
            {
                var delete = new NpgsqlBatchCommand("DELETE FROM task_queue WHERE task_run_id = ANY($1)");
                delete.Parameters.AddWithValue(ids);
                _batch.BatchCommands.Add(delete);
            }

            _saved = execution;
        }

        public void Dispatch(RunTask run, bool leaseToSelf)
        {
            var insert = leaseToSelf
                ? new NpgsqlBatchCommand("""
                    INSERT INTO task_queue (task_run_id, execution_id, worker_id, lease_until, claims)
                    VALUES ($1, $2, $3, clock_timestamp() + make_interval(secs => $4), 1)
                    ON CONFLICT (task_run_id) DO NOTHING RETURNING 'leased' AS leased, task_run_id
                    """)
                : new NpgsqlBatchCommand("INSERT INTO task_queue (task_run_id, execution_id) VALUES ($1, $2) ON CONFLICT (task_run_id) DO NOTHING");
            insert.Parameters.AddWithValue(run.TaskRun.Id);
            insert.Parameters.AddWithValue(run.TaskRun.ExecutionId);
            if (leaseToSelf)
            {
                insert.Parameters.AddWithValue(cluster.NodeId);
                insert.Parameters.AddWithValue(cluster.LeaseSeconds);
            }
            else if (!_notified)
            {
                _batch.BatchCommands.Add(new NpgsqlBatchCommand($"SELECT pg_notify('{TasksChannel}', '')"));
                _notified = true;
            }

            _batch.BatchCommands.Add(insert);
        }

        public async Task<IReadOnlyCollection<string>> CommitAsync(CancellationToken cancellationToken)
        {
            var leased = new HashSet<string>(StringComparer.Ordinal);
            // A failed statement makes the server skip the rest of the batch, COMMIT included: all or nothing.
            _batch.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));
            await using (var reader = await _batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                do
                {
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        if (reader.FieldCount == 2 && reader.GetName(0) == "leased")
                        {
                            leased.Add(reader.GetString(1));
                        }
                    }
                }
                while (await reader.NextResultAsync(cancellationToken).ConfigureAwait(false));
            }

            _committed = true;
            if (_saved is not null)
            {
                cluster.Committed(executionId, version + 1, _saved);
            }

            return leased;
        }

        /// <summary>Ends a transaction opened in SQL that did not commit; a broken connection is not returned to the pool healthy.</summary>
        internal static async Task RollbackAsync(NpgsqlConnection connection)
        {
            try
            {
                if (connection.State == System.Data.ConnectionState.Open)
                {
                    await using var rollback = new NpgsqlCommand("ROLLBACK", connection);
                    await rollback.ExecuteNonQueryAsync().ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or IOException)
            {
                // the connection broke: the server ends the transaction with the session
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (!_committed)
            {
                cluster._cache.TryRemove(executionId, out _);
                await RollbackAsync(connection).ConfigureAwait(false);
            }

            await _batch.DisposeAsync().ConfigureAwait(false);
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    // ================================================================ worker queue

    public Task<IReadOnlyList<ClaimedTaskRun>> ClaimTaskRunsAsync(int max, CancellationToken cancellationToken) =>
        Database.WithConnectionAsync<IReadOnlyList<ClaimedTaskRun>>(async connection =>
        {
            await using var command = new NpgsqlCommand("""
                WITH ready AS (
                    SELECT task_run_id FROM task_queue WHERE worker_id IS NULL ORDER BY seq LIMIT $3 FOR UPDATE SKIP LOCKED),
                lapsed AS (
                    SELECT task_run_id FROM task_queue WHERE worker_id IS NOT NULL AND lease_until < clock_timestamp() LIMIT $3 FOR UPDATE SKIP LOCKED),
                picked AS (
                    SELECT task_run_id FROM ready UNION ALL SELECT task_run_id FROM lapsed LIMIT $3)
                UPDATE task_queue q SET worker_id = $1, lease_until = clock_timestamp() + make_interval(secs => $2), claims = q.claims + 1
                FROM picked WHERE q.task_run_id = picked.task_run_id
                RETURNING q.execution_id, q.task_run_id, q.claims
                """, connection);
            command.Parameters.AddWithValue(NodeId);
            command.Parameters.AddWithValue(LeaseSeconds);
            command.Parameters.AddWithValue(max);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var list = new List<ClaimedTaskRun>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                list.Add(new ClaimedTaskRun(reader.GetString(0), reader.GetString(1), reader.GetInt32(2)));
            }

            return list;
        }, cancellationToken);

    public Task RenewLeasesAsync(IReadOnlyCollection<string> taskRunIds, CancellationToken cancellationToken) =>
        Database.WithConnectionAsync(async connection =>
        {
            // Rows a step holds (it is settling them) are skipped, not waited for: a renewal that waited would hold the
            // rows it already renewed, and the steps settling those would queue behind it. A skipped row still
            // leased at the next renewal is renewed then (renewals come well within the lease).
            await using var command = new NpgsqlCommand("""
                UPDATE task_queue q SET lease_until = clock_timestamp() + make_interval(secs => $2)
                FROM (SELECT task_run_id FROM task_queue WHERE worker_id = $1 AND task_run_id = ANY($3) FOR UPDATE SKIP LOCKED) mine
                WHERE q.task_run_id = mine.task_run_id
                """, connection);
            command.Parameters.AddWithValue(NodeId);
            command.Parameters.AddWithValue(LeaseSeconds);
            command.Parameters.AddWithValue(taskRunIds.ToArray());
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    public Task DropTaskRunAsync(string taskRunId, CancellationToken cancellationToken) =>
        Database.WithConnectionAsync(async connection =>
        {
            await using var command = new NpgsqlCommand("DELETE FROM task_queue WHERE task_run_id = $1 AND worker_id = $2", connection);
            command.Parameters.AddWithValue(taskRunId);
            command.Parameters.AddWithValue(NodeId);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    public Task BroadcastKillAsync(string taskRunId, CancellationToken cancellationToken) =>
        Database.WithConnectionAsync(async connection =>
        {
            await using var command = new NpgsqlCommand($"SELECT pg_notify('{KillChannel}', $1)", connection);
            command.Parameters.AddWithValue(taskRunId);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    public async Task<IAsyncDisposable> LockFlowAsync(string @namespace, string flowId, CancellationToken cancellationToken)
    {
        var connection = await Database.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var command = new NpgsqlCommand("SELECT pg_advisory_lock(hashtextextended($1, 0))", connection);
            command.Parameters.AddWithValue("windhover:flow:" + @namespace + "/" + flowId);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return new FlowLock(connection, "windhover:flow:" + @namespace + "/" + flowId);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>A session advisory lock on a pooled connection: unlocked before the connection goes back to the pool.</summary>
    private sealed class FlowLock(NpgsqlConnection connection, string key) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await using var command = new NpgsqlCommand("SELECT pg_advisory_unlock(hashtextextended($1, 0))", connection);
                command.Parameters.AddWithValue(key);
                await command.ExecuteNonQueryAsync().ConfigureAwait(false);
            }
            catch (NpgsqlException)
            {
                // the connection broke: the server released the lock with the session
            }

            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    // ================================================================ executor duties

    public Task<IReadOnlyList<StoredTimer>> ClaimDueTimersAsync(DateTimeOffset now, int max, CancellationToken cancellationToken) =>
        Database.WithConnectionAsync<IReadOnlyList<StoredTimer>>(async connection =>
        {
            await using var command = new NpgsqlCommand("""
                UPDATE timers t SET claimed_until = clock_timestamp() + make_interval(secs => $2)
                FROM (SELECT id FROM timers WHERE due_at <= $1 AND (claimed_until IS NULL OR claimed_until < clock_timestamp())
                      ORDER BY due_at LIMIT $3 FOR UPDATE SKIP LOCKED) due
                WHERE t.id = due.id
                RETURNING t.id, t.execution_id, t.kind, t.task_run_id, t.due_at
                """, connection);
            command.Parameters.AddWithValue(now.UtcTicks);
            command.Parameters.AddWithValue(LeaseSeconds);
            command.Parameters.AddWithValue(max);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var list = new List<StoredTimer>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                list.Add(PostgresExecutionStore.ReadTimer(reader));
            }

            return list;
        }, cancellationToken);

    public Task<IReadOnlyList<string>> ClaimStalledExecutionsAsync(int max, CancellationToken cancellationToken) =>
        Database.WithConnectionAsync<IReadOnlyList<string>>(async connection =>
        {
            await using var batch = new NpgsqlBatch(connection);
            // Retention: queue rows whose execution ended or vanished (normally deleted by the step that ended it).
            batch.BatchCommands.Add(new NpgsqlBatchCommand("""
                DELETE FROM task_queue q WHERE NOT EXISTS (SELECT 1 FROM executions e WHERE e.id = q.execution_id AND NOT e.terminal)
                """));
            var stalled = new NpgsqlBatchCommand("""
                UPDATE executions e SET swept_at = clock_timestamp()
                FROM (SELECT id FROM executions x
                      WHERE NOT terminal AND state <> 'QUEUED'
                        AND updated_at < clock_timestamp() - make_interval(secs => $1)
                        AND (swept_at IS NULL OR swept_at < clock_timestamp() - make_interval(secs => $1))
                        AND NOT EXISTS (SELECT 1 FROM task_queue q WHERE q.execution_id = x.id)
                        AND NOT EXISTS (SELECT 1 FROM timers t WHERE t.execution_id = x.id)
                      ORDER BY start_date LIMIT $2 FOR UPDATE SKIP LOCKED) s
                WHERE e.id = s.id
                RETURNING e.id
                """);
            stalled.Parameters.AddWithValue(Options.StallAfter.TotalSeconds);
            stalled.Parameters.AddWithValue(max);
            batch.BatchCommands.Add(stalled);
            await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            var list = new List<string>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                list.Add(reader.GetString(0));
            }

            return list;
        }, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_listener is not null)
        {
            try
            {
                await _listener.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        try
        {
            await Database.WithConnectionAsync(async connection =>
            {
                await using var command = new NpgsqlCommand("DELETE FROM cluster_nodes WHERE id = $1", connection);
                command.Parameters.AddWithValue(NodeId);
                return await command.ExecuteNonQueryAsync().ConfigureAwait(false);
            }, CancellationToken.None).ConfigureAwait(false);
        }
        catch (NpgsqlException)
        {
        }

        _stopping.Dispose();
    }
}

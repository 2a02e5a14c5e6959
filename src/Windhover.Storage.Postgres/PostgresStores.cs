using System.Collections.Concurrent;
using Npgsql;
using NpgsqlTypes;
using Windhover.Engine.Executor;
using Windhover.Engine.Stores;
using Windhover.Flows.Expressions;
using Windhover.Flows.Model;
using Windhover.Flows.Yaml;

namespace Windhover.Storage.Postgres;

/// <summary>Flow revisions (source text) with a pointer to the current one; parsed flows are cached per revision.</summary>
public sealed class PostgresFlowStore(PostgresDatabase database) : IFlowStore
{
    private readonly ConcurrentDictionary<(string, string, int), Flow> _parsed = new();
    private readonly ConcurrentDictionary<(string, string, int), FlowRecord> _records = new();

    /// <summary>Latest revisions read, valid while <see cref="ChangeVersion"/> is the one they were read at.</summary>
    private readonly ConcurrentDictionary<(string, string), (long Version, FlowRecord Record)> _latest = new();
    private FlowParser Parser => database.Options.Parser ?? FlowParser.Default;

    public long ChangeVersion => database.FlowsVersion;

    public async Task<FlowRecord> SaveAsync(Flow flow, CancellationToken cancellationToken = default)
    {
        try
        {
            return await SaveCoreAsync(flow, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            database.FlowsChanged(); // before the save returns: whoever cached flows reads them again
        }
    }

    private Task<FlowRecord> SaveCoreAsync(Flow flow, CancellationToken cancellationToken)
    {
        var now = database.Options.TimeProvider.GetUtcNow();
        return database.WithTransactionAsync(async (connection, transaction) =>
        {
            // Serialise saves of the same flow across nodes: lock its current row (or, for a new flow, the key).
            await using (var lockKey = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", connection, transaction))
            {
                lockKey.Parameters.AddWithValue(flow.Namespace + "\u001f" + flow.Id);
                await lockKey.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            int? current = null;
            var deleted = false;
            string? currentSource = null;
            await using (var command = new NpgsqlCommand(
                "SELECT c.revision, c.deleted, f.source FROM flows_current c JOIN flows f ON f.namespace = c.namespace AND f.id = c.id AND f.revision = c.revision WHERE c.namespace = $1 AND c.id = $2",
                connection, transaction))
            {
                command.Parameters.AddWithValue(flow.Namespace);
                command.Parameters.AddWithValue(flow.Id);
                await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    current = reader.GetInt32(0);
                    deleted = reader.GetBoolean(1);
                    currentSource = reader.GetString(2);
                }
            }

            if (current is { } existing && !deleted && currentSource == flow.Source)
            {
                return new FlowRecord(flow.Namespace, flow.Id, existing, flow.Source, Cache(flow, existing), now);
            }

            var revision = (current ?? 0) + 1;
            await using (var batch = new NpgsqlBatch(connection, transaction))
            {
                var insert = new NpgsqlBatchCommand("INSERT INTO flows (namespace, id, revision, source, updated) VALUES ($1, $2, $3, $4, $5)");
                insert.Parameters.AddWithValue(flow.Namespace);
                insert.Parameters.AddWithValue(flow.Id);
                insert.Parameters.AddWithValue(revision);
                insert.Parameters.AddWithValue(flow.Source);
                insert.Parameters.AddWithValue(now.UtcTicks);
                var pointer = new NpgsqlBatchCommand("""
                    INSERT INTO flows_current (namespace, id, revision, deleted) VALUES ($1, $2, $3, FALSE)
                    ON CONFLICT (namespace, id) DO UPDATE SET revision = excluded.revision, deleted = FALSE
                    """);
                pointer.Parameters.AddWithValue(flow.Namespace);
                pointer.Parameters.AddWithValue(flow.Id);
                pointer.Parameters.AddWithValue(revision);
                // Other nodes' schedulers re-scan the flows when this commits.
                var notify = new NpgsqlBatchCommand("SELECT pg_notify('windhover_flows', $1)");
                notify.Parameters.AddWithValue(flow.Namespace + "/" + flow.Id);
                batch.BatchCommands.Add(insert);
                batch.BatchCommands.Add(pointer);
                batch.BatchCommands.Add(notify);
                await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            return new FlowRecord(flow.Namespace, flow.Id, revision, flow.Source, Cache(flow, revision), now);
        }, cancellationToken);
    }

    private Flow Cache(Flow flow, int revision)
    {
        var withRevision = flow with { Revision = revision };
        _parsed[(flow.Namespace, flow.Id, revision)] = withRevision;
        return withRevision;
    }

    private Flow Parse(string ns, string id, int revision, string source) =>
        _parsed.GetOrAdd((ns, id, revision), _ =>
        {
            var result = Parser.Parse(source);
            var flow = result.Flow ?? result.Draft ?? throw new InvalidOperationException($"Stored flow '{ns}.{id}' revision {revision} cannot be parsed");
            return flow with { Revision = revision };
        });

    public async Task<FlowRecord?> GetAsync(string @namespace, string id, int? revision = null, CancellationToken cancellationToken = default)
    {
        // A revision never changes: executor steps on any node read it from memory after the first time.
        if (revision is { } known && _records.TryGetValue((@namespace, id, known), out var cached))
        {
            return cached;
        }

        // The latest revision (webhooks, API calls): from memory while no flow was saved or deleted since it was read.
        var version = revision is null ? database.FlowsVersion : -1;
        if (version >= 0 && _latest.TryGetValue((@namespace, id), out var latest) && latest.Version == version)
        {
            return latest.Record;
        }

        var record = await ReadAsync(@namespace, id, revision, cancellationToken).ConfigureAwait(false);
        if (record is not null && revision is not null)
        {
            _records[(@namespace, id, record.Revision)] = record;
        }
        else if (record is not null && version >= 0)
        {
            _latest[(@namespace, id)] = (version, record);
        }

        return record;
    }

    private Task<FlowRecord?> ReadAsync(string @namespace, string id, int? revision, CancellationToken cancellationToken) =>
        database.WithConnectionAsync(async connection =>
        {
            await using var command = new NpgsqlCommand(revision is null
                ? "SELECT f.revision, f.source, f.updated FROM flows_current c JOIN flows f ON f.namespace = c.namespace AND f.id = c.id AND f.revision = c.revision WHERE c.namespace = $1 AND c.id = $2 AND NOT c.deleted"
                : "SELECT revision, source, updated FROM flows WHERE namespace = $1 AND id = $2 AND revision = $3", connection);
            command.Parameters.AddWithValue(@namespace);
            command.Parameters.AddWithValue(id);
            if (revision is { } r)
            {
                command.Parameters.AddWithValue(r);
            }

            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                return null;
            }

            var rev = reader.GetInt32(0);
            var source = reader.GetString(1);
            return new FlowRecord(@namespace, id, rev, source, Parse(@namespace, id, rev, source), new DateTimeOffset(reader.GetInt64(2), TimeSpan.Zero));
        }, cancellationToken);

    public Task<IReadOnlyList<int>> RevisionsAsync(string @namespace, string id, CancellationToken cancellationToken = default) =>
        database.QueryListAsync<int>("SELECT revision FROM flows WHERE namespace = $1 AND id = $2 ORDER BY revision", reader => reader.GetInt32(0), cancellationToken, @namespace, id);

    public Task<PagedResult<FlowRecord>> SearchAsync(FlowQuery query, CancellationToken cancellationToken = default) =>
        database.WithConnectionAsync(async connection =>
        {
            var where = "NOT c.deleted";
            void Bind(NpgsqlCommand command)
            {
                if (query.Namespace is { } ns)
                {
                    command.Parameters.AddWithValue("ns", ns);
                    command.Parameters.AddWithValue("nsLow", ns + ".");
                    command.Parameters.AddWithValue("nsHigh", ns + "/");
                }

                if (!string.IsNullOrEmpty(query.Query))
                {
                    command.Parameters.AddWithValue("q", "%" + query.Query.Replace("%", "", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal) + "%");
                }
            }

            if (query.Namespace is not null)
            {
                where += " AND (c.namespace = @ns OR (c.namespace >= @nsLow AND c.namespace < @nsHigh))";
            }

            if (!string.IsNullOrEmpty(query.Query))
            {
                // SQLite's LIKE is case-insensitive for ASCII.
                where += " AND (c.id ILIKE @q OR c.namespace ILIKE @q)";
            }

            var list = new List<FlowRecord>();
            await using (var command = new NpgsqlCommand(
                $"SELECT c.namespace, c.id, f.revision, f.source, f.updated FROM flows_current c JOIN flows f ON f.namespace = c.namespace AND f.id = c.id AND f.revision = c.revision WHERE {where} ORDER BY c.namespace, c.id LIMIT @limit OFFSET @offset",
                connection))
            {
                Bind(command);
                command.Parameters.AddWithValue("limit", query.Size);
                command.Parameters.AddWithValue("offset", (Math.Max(query.Page, 1) - 1) * query.Size);
                await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    var (ns, id, rev, source) = (reader.GetString(0), reader.GetString(1), reader.GetInt32(2), reader.GetString(3));
                    list.Add(new FlowRecord(ns, id, rev, source, Parse(ns, id, rev, source), new DateTimeOffset(reader.GetInt64(4), TimeSpan.Zero)));
                }
            }

            await using var count = new NpgsqlCommand($"SELECT COUNT(*) FROM flows_current c WHERE {where}", connection);
            Bind(count);
            return new PagedResult<FlowRecord>(list, (long)(await count.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!);
        }, cancellationToken);

    public Task<IReadOnlyList<string>> NamespacesAsync(CancellationToken cancellationToken = default) =>
        database.QueryListAsync<string>("SELECT DISTINCT namespace FROM flows_current WHERE NOT deleted ORDER BY namespace", reader => reader.GetString(0), cancellationToken);

    public async Task<bool> DeleteAsync(string @namespace, string id, CancellationToken cancellationToken = default)
    {
        try
        {
            return await database.WithConnectionAsync(async connection =>
            {
                // One implicit transaction: other nodes hear of the deletion when it commits.
                await using var batch = new NpgsqlBatch(connection);
                var delete = new NpgsqlBatchCommand("UPDATE flows_current SET deleted = TRUE WHERE namespace = $1 AND id = $2 AND NOT deleted");
                delete.Parameters.AddWithValue(@namespace);
                delete.Parameters.AddWithValue(id);
                var notify = new NpgsqlBatchCommand("SELECT pg_notify('windhover_flows', $1)");
                notify.Parameters.AddWithValue(@namespace + "/" + id);
                batch.BatchCommands.Add(delete);
                batch.BatchCommands.Add(notify);
                await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                return delete.RecordsAffected > 0;
            }, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            database.FlowsChanged();
        }
    }
}

/// <summary>
/// Log lines. Appends are group-committed: while one insert is in flight the lines of further calls wait and go
/// together in the next one (one statement, one commit); every call completes when its lines are committed.
/// </summary>
public sealed class PostgresLogStore(PostgresDatabase database) : ILogStore
{
    /// <summary>Largest number of lines one insert takes from the waiting calls (a call's lines are never split).</summary>
    private const int MaxLinesPerInsert = 4096;

    private readonly Lock _lock = new();
    private List<(IReadOnlyList<LogEntry> Entries, TaskCompletionSource Done)> _waiting = [];
    private bool _writing;

    public Task AppendAsync(IReadOnlyList<LogEntry> entries, CancellationToken cancellationToken = default)
    {
        if (entries.Count == 0)
        {
            return Task.CompletedTask;
        }

        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bool start;
        lock (_lock)
        {
            _waiting.Add((entries, done));
            start = !_writing;
            _writing = true;
        }

        if (start)
        {
            _ = Task.Run(WriteLoopAsync, CancellationToken.None);
        }

        return done.Task.WaitAsync(cancellationToken);
    }

    private async Task WriteLoopAsync()
    {
        while (true)
        {
            List<(IReadOnlyList<LogEntry> Entries, TaskCompletionSource Done)> group;
            lock (_lock)
            {
                if (_waiting.Count == 0)
                {
                    _writing = false;
                    return;
                }

                var lines = 0;
                var take = 0;
                while (take < _waiting.Count && (take == 0 || lines + _waiting[take].Entries.Count <= MaxLinesPerInsert))
                {
                    lines += _waiting[take].Entries.Count;
                    take++;
                }

                group = _waiting.GetRange(0, take);
                _waiting.RemoveRange(0, take);
            }

            try
            {
                var entries = group.Count == 1 ? group[0].Entries : [.. group.SelectMany(g => g.Entries)];
                await InsertAsync(entries, CancellationToken.None).ConfigureAwait(false);
                group.ForEach(g => g.Done.TrySetResult());
            }
            catch (Exception) when (group.Count > 1)
            {
                // One call's lines may be what the database refuses: each call alone, so the others still go in.
                foreach (var (entries, done) in group)
                {
                    try
                    {
                        await InsertAsync(entries, CancellationToken.None).ConfigureAwait(false);
                        done.TrySetResult();
                    }
                    catch (Exception e)
                    {
                        done.TrySetException(e);
                    }
                }
            }
            catch (Exception e)
            {
                group.ForEach(g => g.Done.TrySetException(e));
            }
        }
    }

    private Task<int> InsertAsync(IReadOnlyList<LogEntry> entries, CancellationToken cancellationToken) =>
        database.WithConnectionAsync(async connection =>
        {
            // One statement for the whole list (unnest keeps the order: seq follows the list).
            await using var command = new NpgsqlCommand("""
                INSERT INTO logs (execution_id, namespace, flow_id, task_run_id, task_id, attempt, trigger_id, timestamp, level, message, thread)
                SELECT e, ns, f, tr, tk, a, trig, ts, l, m, th
                FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[], $8::bigint[], $9::int[], $10::text[], $11::text[])
                    WITH ORDINALITY AS t(e, ns, f, tr, tk, a, trig, ts, l, m, th, n) ORDER BY n
                """, connection);
            var p = command.Parameters;
            p.AddWithValue(entries.Select(e => e.ExecutionId).ToArray());
            p.AddWithValue(entries.Select(e => e.Namespace).ToArray());
            p.AddWithValue(entries.Select(e => e.FlowId).ToArray());
            p.AddWithValue(entries.Select(e => e.TaskRunId).ToArray());
            p.AddWithValue(entries.Select(e => e.TaskId).ToArray());
            p.AddWithValue(entries.Select(e => e.AttemptNumber).ToArray());
            p.AddWithValue(entries.Select(e => e.TriggerId).ToArray());
            p.AddWithValue(entries.Select(e => e.Timestamp.UtcTicks).ToArray());
            p.AddWithValue(entries.Select(e => (int)e.Level).ToArray());
            p.AddWithValue(entries.Select(e => e.Message).ToArray());
            p.AddWithValue(entries.Select(e => e.Thread).ToArray());
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    public Task<IReadOnlyList<LogEntry>> FindAsync(string executionId, ExecutorLogLevel? minLevel = null, string? taskRunId = null, string? taskId = null,
        CancellationToken cancellationToken = default) =>
        database.WithConnectionAsync<IReadOnlyList<LogEntry>>(async connection =>
        {
            await using var command = new NpgsqlCommand { Connection = connection };
            command.CommandText = $"SELECT {StoreRows.LogColumns} FROM logs WHERE {StoreRows.LogFilter(command, '@', executionId, minLevel, taskRunId, taskId)} ORDER BY seq";
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var list = new List<LogEntry>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                list.Add(StoreRows.ReadLog(reader));
            }

            return list;
        }, cancellationToken);

    public Task<int> DeleteAsync(string executionId, CancellationToken cancellationToken = default) =>
        database.WithConnectionAsync(async connection =>
        {
            await using var command = new NpgsqlCommand("DELETE FROM logs WHERE execution_id = $1", connection);
            command.Parameters.AddWithValue(executionId);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken);
}

public sealed class PostgresKvStore(PostgresDatabase database) : IKvStore
{
    private TimeProvider Time => database.Options.TimeProvider;

    public Task<bool> SetAsync(string @namespace, string key, object? value, TimeSpan? ttl = null, bool overwrite = true, CancellationToken cancellationToken = default)
    {
        var now = Time.GetUtcNow();
        return database.WithConnectionAsync(async connection =>
        {
            await using var command = new NpgsqlCommand(overwrite
                ? """
                  INSERT INTO kv (namespace, key, value, updated, expires_at) VALUES ($1, $2, $3, $4, $5)
                  ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, updated = excluded.updated, expires_at = excluded.expires_at
                  """
                : """
                  INSERT INTO kv (namespace, key, value, updated, expires_at) VALUES ($1, $2, $3, $4, $5)
                  ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, updated = excluded.updated, expires_at = excluded.expires_at
                  WHERE kv.expires_at IS NOT NULL AND kv.expires_at <= $4
                  """, connection);
            command.Parameters.AddWithValue(@namespace);
            command.Parameters.AddWithValue(key);
            command.Parameters.AddWithValue(ExpressionValues.ToJson(value));
            command.Parameters.AddWithValue(now.UtcTicks);
            command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bigint, Value = ttl is { } t ? (now + t).UtcTicks : DBNull.Value });
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
        }, cancellationToken);
    }

    public Task<KvEntry?> GetAsync(string @namespace, string key, CancellationToken cancellationToken = default) =>
        database.WithConnectionAsync(async connection =>
        {
            await using var command = new NpgsqlCommand("SELECT key, value, updated, expires_at FROM kv WHERE namespace = $1 AND key = $2 AND (expires_at IS NULL OR expires_at > $3)", connection);
            command.Parameters.AddWithValue(@namespace);
            command.Parameters.AddWithValue(key);
            command.Parameters.AddWithValue(Time.GetUtcNow().UtcTicks);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? Read(@namespace, reader) : null;
        }, cancellationToken);

    private static KvEntry Read(string ns, NpgsqlDataReader reader) => new(
        ns,
        reader.GetString(0),
        reader.IsDBNull(1) ? null : ExpressionValues.FromJson(reader.GetString(1)),
        new DateTimeOffset(reader.GetInt64(2), TimeSpan.Zero),
        reader.IsDBNull(3) ? null : new DateTimeOffset(reader.GetInt64(3), TimeSpan.Zero));

    public Task<bool> DeleteAsync(string @namespace, string key, CancellationToken cancellationToken = default)
    {
        var now = Time.GetUtcNow().UtcTicks;
        return database.WithConnectionAsync(async connection =>
        {
            await using var command = new NpgsqlCommand("DELETE FROM kv WHERE namespace = $1 AND key = $2 RETURNING (expires_at IS NULL OR expires_at > $3)", connection);
            command.Parameters.AddWithValue(@namespace);
            command.Parameters.AddWithValue(key);
            command.Parameters.AddWithValue(now);
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is true;
        }, cancellationToken);
    }

    public Task<IReadOnlyList<KvEntry>> ListAsync(string @namespace, CancellationToken cancellationToken = default) =>
        database.QueryListAsync<KvEntry>("SELECT key, value, updated, expires_at FROM kv WHERE namespace = $1 AND (expires_at IS NULL OR expires_at > $2) ORDER BY key", reader => Read(@namespace, reader), cancellationToken, @namespace, Time.GetUtcNow().UtcTicks);
}

/// <summary>Internal storage in the <c>files</c> table, so that every node reads what any node wrote.</summary>
public sealed class PostgresFileStorage(PostgresDatabase database) : IFileStorage
{
    public async Task<long> PutAsync(string uri, Stream content, CancellationToken cancellationToken = default)
    {
        var path = StorageUri.PathOf(uri);
        using var buffer = new MemoryStream();
        await content.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        var bytes = buffer.ToArray();
        await database.WithConnectionAsync(async connection =>
        {
            await using var command = new NpgsqlCommand("""
                INSERT INTO files (path, content, size, updated) VALUES ($1, $2, $3, $4)
                ON CONFLICT (path) DO UPDATE SET content = excluded.content, size = excluded.size, updated = excluded.updated
                """, connection);
            command.Parameters.AddWithValue(path);
            command.Parameters.AddWithValue(bytes);
            command.Parameters.AddWithValue((long)bytes.Length);
            command.Parameters.AddWithValue(database.Options.TimeProvider.GetUtcNow().UtcTicks);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
        return bytes.Length;
    }

    public Task<Stream?> OpenReadAsync(string uri, CancellationToken cancellationToken = default) =>
        database.WithConnectionAsync<Stream?>(async connection =>
        {
            await using var command = new NpgsqlCommand("SELECT content FROM files WHERE path = $1", connection);
            command.Parameters.AddWithValue(StorageUri.PathOf(uri));
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is byte[] bytes ? new MemoryStream(bytes, writable: false) : null;
        }, cancellationToken);

    public async Task<bool> ExistsAsync(string uri, CancellationToken cancellationToken = default) =>
        await SizeAsync(uri, cancellationToken).ConfigureAwait(false) is not null;

    public Task<long?> SizeAsync(string uri, CancellationToken cancellationToken = default) =>
        database.WithConnectionAsync(async connection =>
        {
            await using var command = new NpgsqlCommand("SELECT size FROM files WHERE path = $1", connection);
            command.Parameters.AddWithValue(StorageUri.PathOf(uri));
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long size ? size : (long?)null;
        }, cancellationToken);

    public Task<bool> DeleteAsync(string uri, CancellationToken cancellationToken = default) =>
        database.WithConnectionAsync(async connection =>
        {
            await using var command = new NpgsqlCommand("DELETE FROM files WHERE path = $1", connection);
            command.Parameters.AddWithValue(StorageUri.PathOf(uri));
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
        }, cancellationToken);

    public Task<int> DeletePrefixAsync(string uriPrefix, CancellationToken cancellationToken = default) =>
        database.WithConnectionAsync(async connection =>
        {
            var prefix = StorageUri.PathOf(uriPrefix).TrimEnd('/');
            await using var command = new NpgsqlCommand("DELETE FROM files WHERE path = $1 OR (path >= $2 AND path < $3)", connection);
            command.Parameters.AddWithValue(prefix);
            command.Parameters.AddWithValue(prefix + "/");
            command.Parameters.AddWithValue(prefix + "0"); // '0' follows '/'
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    public Task<IReadOnlyList<string>> ListAsync(string folderUri, CancellationToken cancellationToken = default) =>
        database.WithConnectionAsync<IReadOnlyList<string>>(async connection =>
        {
            var prefix = StorageUri.PathOf(folderUri).TrimEnd('/');
            // path is COLLATE "C": the range is the folder's byte-ordered subtree, and ORDER BY is ordinal
            await using var command = new NpgsqlCommand("SELECT path FROM files WHERE path >= $1 AND path < $2 ORDER BY path", connection);
            command.Parameters.AddWithValue(prefix + "/");
            command.Parameters.AddWithValue(prefix + "0"); // '0' follows '/'
            var uris = new List<string>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                uris.Add(StorageUri.Scheme + reader.GetString(0));
            }

            return uris;
        }, cancellationToken);
}

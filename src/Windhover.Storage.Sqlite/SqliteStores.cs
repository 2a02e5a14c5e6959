using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;
using Windhover.Engine.Executor;
using Windhover.Engine.Stores;
using Windhover.Flows.Expressions;
using Windhover.Flows.Model;
using Windhover.Flows.Yaml;

namespace Windhover.Storage.Sqlite;

/// <summary>Flow revisions (source text) with a pointer to the current one; parsed flows are cached per revision.</summary>
public sealed class SqliteFlowStore(SqliteDatabase database) : IFlowStore
{
    private readonly ConcurrentDictionary<(string, string, int), Flow> _parsed = new();
    private readonly ConcurrentDictionary<(string, string, int), FlowRecord> _revisions = new();
    private FlowParser Parser => database.Options.Parser ?? FlowParser.Default;

    public Task<FlowRecord> SaveAsync(Flow flow, CancellationToken cancellationToken = default)
    {
        var now = database.Options.TimeProvider.GetUtcNow();
        return database.WriteAsync(connection =>
        {
            using var transaction = connection.BeginTransaction();
            int? current = null;
            var deleted = false;
            string? currentSource = null;
            using (var command = connection.CreateCommand())
            {
                command.Transaction = transaction;
                command.CommandText = "SELECT c.revision, c.deleted, f.source FROM flows_current c JOIN flows f ON f.namespace = c.namespace AND f.id = c.id AND f.revision = c.revision WHERE c.namespace = $ns AND c.id = $id";
                command.Parameters.AddWithValue("$ns", flow.Namespace);
                command.Parameters.AddWithValue("$id", flow.Id);
                using var reader = command.ExecuteReader();
                if (reader.Read())
                {
                    current = reader.GetInt32(0);
                    deleted = reader.GetInt32(1) != 0;
                    currentSource = reader.GetString(2);
                }
            }

            if (current is { } existing && !deleted && currentSource == flow.Source)
            {
                transaction.Commit();
                return new FlowRecord(flow.Namespace, flow.Id, existing, flow.Source, Cache(flow, existing), now);
            }

            var revision = (current ?? 0) + 1;
            using (var command = connection.CreateCommand())
            {
                command.Transaction = transaction;
                command.CommandText = """
                    INSERT INTO flows (namespace, id, revision, source, updated) VALUES ($ns, $id, $rev, $src, $now);
                    INSERT INTO flows_current (namespace, id, revision, deleted) VALUES ($ns, $id, $rev, 0)
                    ON CONFLICT (namespace, id) DO UPDATE SET revision = excluded.revision, deleted = 0;
                    """;
                command.Parameters.AddWithValue("$ns", flow.Namespace);
                command.Parameters.AddWithValue("$id", flow.Id);
                command.Parameters.AddWithValue("$rev", revision);
                command.Parameters.AddWithValue("$src", flow.Source);
                command.Parameters.AddWithValue("$now", now.UtcTicks);
                command.ExecuteNonQuery();
            }

            transaction.Commit();
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

    public Task<FlowRecord?> GetAsync(string @namespace, string id, int? revision = null, CancellationToken cancellationToken = default)
    {
        // A revision never changes once written (rows of `flows` are only inserted): the runtime's lookups by revision,
        // one per execution created and per actor, are answered from memory.
        if (revision is { } wanted && _revisions.TryGetValue((@namespace, id, wanted), out var known))
        {
            return Task.FromResult<FlowRecord?>(known);
        }

        var record = Load(@namespace, id, revision);
        if (record is not null)
        {
            _revisions.TryAdd((@namespace, id, record.Revision), record);
        }

        return Task.FromResult(record);
    }

    private FlowRecord? Load(string @namespace, string id, int? revision) =>
        database.Read(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = revision is null
                ? "SELECT f.revision, f.source, f.updated FROM flows_current c JOIN flows f ON f.namespace = c.namespace AND f.id = c.id AND f.revision = c.revision WHERE c.namespace = $ns AND c.id = $id AND c.deleted = 0"
                : "SELECT revision, source, updated FROM flows WHERE namespace = $ns AND id = $id AND revision = $rev";
            command.Parameters.AddWithValue("$ns", @namespace);
            command.Parameters.AddWithValue("$id", id);
            if (revision is { } r)
            {
                command.Parameters.AddWithValue("$rev", r);
            }

            using var reader = command.ExecuteReader();
            if (!reader.Read())
            {
                return null;
            }

            var rev = reader.GetInt32(0);
            var source = reader.GetString(1);
            return new FlowRecord(@namespace, id, rev, source, Parse(@namespace, id, rev, source), new DateTimeOffset(reader.GetInt64(2), TimeSpan.Zero));
        });

    public Task<IReadOnlyList<int>> RevisionsAsync(string @namespace, string id, CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<int>>(database.Read(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT revision FROM flows WHERE namespace = $ns AND id = $id ORDER BY revision";
            command.Parameters.AddWithValue("$ns", @namespace);
            command.Parameters.AddWithValue("$id", id);
            using var reader = command.ExecuteReader();
            var list = new List<int>();
            while (reader.Read())
            {
                list.Add(reader.GetInt32(0));
            }

            return list;
        }));

    public Task<PagedResult<FlowRecord>> SearchAsync(FlowQuery query, CancellationToken cancellationToken = default) =>
        Task.FromResult(database.Read(connection =>
        {
            var where = "c.deleted = 0";
            void Bind(SqliteCommand command)
            {
                if (query.Namespace is { } ns)
                {
                    command.Parameters.AddWithValue("$ns", ns);
                    command.Parameters.AddWithValue("$nsLow", ns + ".");
                    command.Parameters.AddWithValue("$nsHigh", ns + "/");
                }

                if (!string.IsNullOrEmpty(query.Query))
                {
                    command.Parameters.AddWithValue("$q", "%" + query.Query.Replace("%", "", StringComparison.Ordinal) + "%");
                }
            }

            if (query.Namespace is not null)
            {
                where += " AND (c.namespace = $ns OR (c.namespace >= $nsLow AND c.namespace < $nsHigh))";
            }

            if (!string.IsNullOrEmpty(query.Query))
            {
                where += " AND (c.id LIKE $q OR c.namespace LIKE $q)";
            }

            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT c.namespace, c.id, f.revision, f.source, f.updated FROM flows_current c JOIN flows f ON f.namespace = c.namespace AND f.id = c.id AND f.revision = c.revision WHERE {where} ORDER BY c.namespace, c.id LIMIT $limit OFFSET $offset";
            Bind(command);
            command.Parameters.AddWithValue("$limit", query.Size);
            command.Parameters.AddWithValue("$offset", (Math.Max(query.Page, 1) - 1) * query.Size);
            var list = new List<FlowRecord>();
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    var (ns, id, rev, source) = (reader.GetString(0), reader.GetString(1), reader.GetInt32(2), reader.GetString(3));
                    list.Add(new FlowRecord(ns, id, rev, source, Parse(ns, id, rev, source), new DateTimeOffset(reader.GetInt64(4), TimeSpan.Zero)));
                }
            }

            using var count = connection.CreateCommand();
            count.CommandText = $"SELECT COUNT(*) FROM flows_current c WHERE {where}";
            Bind(count);
            return new PagedResult<FlowRecord>(list, (long)count.ExecuteScalar()!);
        }));

    public Task<IReadOnlyList<string>> NamespacesAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<string>>(database.Read(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT DISTINCT namespace FROM flows_current WHERE deleted = 0 ORDER BY namespace";
            using var reader = command.ExecuteReader();
            var list = new List<string>();
            while (reader.Read())
            {
                list.Add(reader.GetString(0));
            }

            return list;
        }));

    public Task<bool> DeleteAsync(string @namespace, string id, CancellationToken cancellationToken = default) =>
        database.WriteAsync(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE flows_current SET deleted = 1 WHERE namespace = $ns AND id = $id AND deleted = 0";
            command.Parameters.AddWithValue("$ns", @namespace);
            command.Parameters.AddWithValue("$id", id);
            return command.ExecuteNonQuery() > 0;
        }, cancellationToken);
}

public sealed class SqliteLogStore(SqliteDatabase database) : ILogStore
{
    public Task AppendAsync(IReadOnlyList<LogEntry> entries, CancellationToken cancellationToken = default)
    {
        if (entries.Count == 0)
        {
            return Task.CompletedTask;
        }

        // Log lines share the group commit of the executor steps (no transaction of their own).
        return database.WriteGroupedAsync((_, transaction) =>
        {
            var command = database.WriterCommand(transaction, """
                INSERT INTO logs (execution_id, namespace, flow_id, task_run_id, task_id, attempt, trigger_id, timestamp, level, message, thread)
                VALUES ($e, $ns, $f, $tr, $t, $a, $trig, $ts, $l, $m, $th)
                """, "$e", "$ns", "$f", "$tr", "$t", "$a", "$trig", "$ts", "$l", "$m", "$th");
            var p = command.Parameters;
            foreach (var entry in entries)
            {
                p[0].Value = entry.ExecutionId;
                p[1].Value = entry.Namespace;
                p[2].Value = entry.FlowId;
                p[3].Value = (object?)entry.TaskRunId ?? DBNull.Value;
                p[4].Value = (object?)entry.TaskId ?? DBNull.Value;
                p[5].Value = (object?)entry.AttemptNumber ?? DBNull.Value;
                p[6].Value = (object?)entry.TriggerId ?? DBNull.Value;
                p[7].Value = entry.Timestamp.UtcTicks;
                p[8].Value = (int)entry.Level;
                p[9].Value = entry.Message;
                p[10].Value = (object?)entry.Thread ?? DBNull.Value;
                command.ExecuteNonQuery();
            }

            return 0;
        }, cancellationToken);
    }

    public Task<IReadOnlyList<LogEntry>> FindAsync(string executionId, ExecutorLogLevel? minLevel = null, string? taskRunId = null, string? taskId = null,
        CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<LogEntry>>(database.Read(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT {StoreRows.LogColumns} FROM logs WHERE {StoreRows.LogFilter(command, '$', executionId, minLevel, taskRunId, taskId)} ORDER BY seq";
            using var reader = command.ExecuteReader();
            var list = new List<LogEntry>();
            while (reader.Read())
            {
                list.Add(StoreRows.ReadLog(reader));
            }

            return list;
        }));

    public Task<int> DeleteAsync(string executionId, CancellationToken cancellationToken = default) =>
        database.WriteAsync(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "DELETE FROM logs WHERE execution_id = $e";
            command.Parameters.AddWithValue("$e", executionId);
            return command.ExecuteNonQuery();
        }, cancellationToken);
}

public sealed class SqliteKvStore(SqliteDatabase database) : IKvStore
{
    private TimeProvider Time => database.Options.TimeProvider;

    public Task<bool> SetAsync(string @namespace, string key, object? value, TimeSpan? ttl = null, bool overwrite = true, CancellationToken cancellationToken = default)
    {
        var now = Time.GetUtcNow();
        return database.WriteAsync(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = overwrite
                ? "INSERT OR REPLACE INTO kv (namespace, key, value, updated, expires_at) VALUES ($ns, $k, $v, $now, $exp)"
                : """
                  INSERT INTO kv (namespace, key, value, updated, expires_at) VALUES ($ns, $k, $v, $now, $exp)
                  ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, updated = excluded.updated, expires_at = excluded.expires_at
                  WHERE kv.expires_at IS NOT NULL AND kv.expires_at <= $now
                  """;
            command.Parameters.AddWithValue("$ns", @namespace);
            command.Parameters.AddWithValue("$k", key);
            command.Parameters.AddWithValue("$v", ExpressionValues.ToJson(value));
            command.Parameters.AddWithValue("$now", now.UtcTicks);
            command.Parameters.AddWithValue("$exp", ttl is { } t ? (now + t).UtcTicks : DBNull.Value);
            return command.ExecuteNonQuery() > 0;
        }, cancellationToken);
    }

    public Task<KvEntry?> GetAsync(string @namespace, string key, CancellationToken cancellationToken = default) =>
        Task.FromResult(database.Read(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT key, value, updated, expires_at FROM kv WHERE namespace = $ns AND key = $k AND (expires_at IS NULL OR expires_at > $now)";
            command.Parameters.AddWithValue("$ns", @namespace);
            command.Parameters.AddWithValue("$k", key);
            command.Parameters.AddWithValue("$now", Time.GetUtcNow().UtcTicks);
            using var reader = command.ExecuteReader();
            return reader.Read() ? Read(@namespace, reader) : null;
        }));

    private static KvEntry Read(string ns, SqliteDataReader reader) => new(
        ns,
        reader.GetString(0),
        reader.IsDBNull(1) ? null : ExpressionValues.FromJson(reader.GetString(1)),
        new DateTimeOffset(reader.GetInt64(2), TimeSpan.Zero),
        reader.IsDBNull(3) ? null : new DateTimeOffset(reader.GetInt64(3), TimeSpan.Zero));

    public Task<bool> DeleteAsync(string @namespace, string key, CancellationToken cancellationToken = default)
    {
        var now = Time.GetUtcNow().UtcTicks;
        return database.WriteAsync(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "DELETE FROM kv WHERE namespace = $ns AND key = $k RETURNING (expires_at IS NULL OR expires_at > $now)";
            command.Parameters.AddWithValue("$ns", @namespace);
            command.Parameters.AddWithValue("$k", key);
            command.Parameters.AddWithValue("$now", now);
            return command.ExecuteScalar() is long live && live != 0;
        }, cancellationToken);
    }

    public Task<IReadOnlyList<KvEntry>> ListAsync(string @namespace, CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<KvEntry>>(database.Read(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT key, value, updated, expires_at FROM kv WHERE namespace = $ns AND (expires_at IS NULL OR expires_at > $now) ORDER BY key";
            command.Parameters.AddWithValue("$ns", @namespace);
            command.Parameters.AddWithValue("$now", Time.GetUtcNow().UtcTicks);
            using var reader = command.ExecuteReader();
            var list = new List<KvEntry>();
            while (reader.Read())
            {
                list.Add(Read(@namespace, reader));
            }

            return list;
        }));
}

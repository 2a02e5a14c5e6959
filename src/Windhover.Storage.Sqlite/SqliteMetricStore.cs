using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Windhover.Engine.Stores;

namespace Windhover.Storage.Sqlite;

/// <summary>
/// Task run metrics in the <c>metrics</c> table. Recording is on the task's hot path (Return records two per run), so
/// <see cref="Add"/> only queues: one background flush writes every queued metric in a single transaction. Reads
/// flush first, so a metric recorded before a read is always seen.
/// </summary>
public sealed class SqliteMetricStore(SqliteDatabase database) : IMetricStore
{
    private readonly ConcurrentQueue<MetricEntry> _pending = new();
    private readonly SemaphoreSlim _flushLock = new(1, 1);
    private int _flushScheduled;

    public void Add(MetricEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        _pending.Enqueue(entry);
        if (Interlocked.Exchange(ref _flushScheduled, 1) == 0)
        {
            _ = Task.Run(async () =>
            {
                Volatile.Write(ref _flushScheduled, 0);
                try
                {
                    await FlushAsync(CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    // kept queued; the next Add or read flushes again
                }
            });
        }
    }

    /// <summary>Writes every queued metric (one transaction).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        await _flushLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var batch = new List<MetricEntry>();
            while (_pending.TryDequeue(out var entry))
            {
                batch.Add(entry);
            }

            if (batch.Count == 0)
            {
                return;
            }

            try
            {
                await database.WriteAsync(connection => Insert(connection, batch), cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                foreach (var entry in batch)
                {
                    _pending.Enqueue(entry);
                }

                throw;
            }
        }
        finally
        {
            _flushLock.Release();
        }
    }

    private static int Insert(SqliteConnection connection, List<MetricEntry> batch)
    {
        using var transaction = connection.BeginTransaction();
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO metrics (execution_id, namespace, flow_id, task_id, task_run_id, type, name, value, timestamp, tags)
            VALUES ($e, $ns, $f, $t, $tr, $type, $name, $v, $ts, $tags)
            """;
        var p = new[] { "$e", "$ns", "$f", "$t", "$tr", "$type", "$name", "$v", "$ts", "$tags" }.Select(n => command.Parameters.Add(n, SqliteType.Text)).ToArray();
        foreach (var m in batch)
        {
            p[0].Value = m.ExecutionId;
            p[1].Value = m.Namespace;
            p[2].Value = m.FlowId;
            p[3].Value = (object?)m.TaskId ?? DBNull.Value;
            p[4].Value = (object?)m.TaskRunId ?? DBNull.Value;
            p[5].Value = m.Type;
            p[6].Value = m.Name;
            p[7].SqliteType = SqliteType.Real;
            p[7].Value = m.Value;
            p[8].SqliteType = SqliteType.Integer;
            p[8].Value = m.Timestamp.UtcTicks;
            p[9].Value = m.Tags.Count == 0 ? DBNull.Value : JsonSerializer.Serialize(m.Tags, SqliteMetricJson.Default.IReadOnlyDictionaryStringString);
            command.ExecuteNonQuery();
        }

        transaction.Commit();
        return batch.Count;
    }

    public IReadOnlyList<MetricEntry> Find(string executionId) => FindAsync(executionId).GetAwaiter().GetResult();

    public async Task<IReadOnlyList<MetricEntry>> FindAsync(string executionId, CancellationToken cancellationToken = default)
    {
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        return database.Read(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT execution_id, namespace, flow_id, task_id, task_run_id, type, name, value, timestamp, tags FROM metrics WHERE execution_id = $e ORDER BY seq";
            command.Parameters.AddWithValue("$e", executionId);
            using var reader = command.ExecuteReader();
            var list = new List<MetricEntry>();
            while (reader.Read())
            {
                list.Add(new MetricEntry
                {
                    ExecutionId = reader.GetString(0),
                    Namespace = reader.GetString(1),
                    FlowId = reader.GetString(2),
                    TaskId = reader.IsDBNull(3) ? null : reader.GetString(3),
                    TaskRunId = reader.IsDBNull(4) ? null : reader.GetString(4),
                    Type = reader.GetString(5),
                    Name = reader.GetString(6),
                    Value = reader.GetDouble(7),
                    Timestamp = new DateTimeOffset(reader.GetInt64(8), TimeSpan.Zero),
                    Tags = reader.IsDBNull(9)
                        ? new Dictionary<string, string>()
                        : JsonSerializer.Deserialize(reader.GetString(9), SqliteMetricJson.Default.IReadOnlyDictionaryStringString) ?? new Dictionary<string, string>(),
                });
            }

            return (IReadOnlyList<MetricEntry>)list;
        });
    }

    public async Task DeleteAsync(string executionId, CancellationToken cancellationToken = default)
    {
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        await database.WriteAsync(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "DELETE FROM metrics WHERE execution_id = $e";
            command.Parameters.AddWithValue("$e", executionId);
            return command.ExecuteNonQuery();
        }, cancellationToken).ConfigureAwait(false);
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(IReadOnlyDictionary<string, string>))]
internal sealed partial class SqliteMetricJson : System.Text.Json.Serialization.JsonSerializerContext;

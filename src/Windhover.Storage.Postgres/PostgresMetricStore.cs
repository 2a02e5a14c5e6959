using System.Collections.Concurrent;
using System.Text.Json;
using Npgsql;
using Windhover.Engine.Stores;

namespace Windhover.Storage.Postgres;

/// <summary>
/// Task run metrics in the shared <c>metrics</c> table. Recording is on the task's hot path (Return records two per
/// run), so <see cref="Add"/> only queues: one background flush writes every queued metric in one statement. Reads on
/// this node flush first, so a metric this node recorded before a read is always seen; other nodes see it once the
/// background flush committed (it starts when the metric is recorded, before the task run's result is reported).
/// </summary>
public sealed class PostgresMetricStore(PostgresDatabase database) : IMetricStore
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

    /// <summary>Writes every queued metric (one statement; the table's order follows the recording order).</summary>
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
                await InsertAsync(batch, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                // Kept for the next flush (behind anything recorded meanwhile).
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

    private Task<int> InsertAsync(List<MetricEntry> batch, CancellationToken cancellationToken) =>
        database.WithConnectionAsync(async connection =>
        {
            await using var command = new NpgsqlCommand("""
                INSERT INTO metrics (execution_id, namespace, flow_id, task_id, task_run_id, type, name, value, timestamp, tags)
                SELECT e, ns, f, t, tr, ty, n, v, ts, tg
                FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::float8[], $9::bigint[], $10::text[])
                    WITH ORDINALITY AS m(e, ns, f, t, tr, ty, n, v, ts, tg, i) ORDER BY i
                """, connection);
            var p = command.Parameters;
            p.AddWithValue(batch.Select(m => m.ExecutionId).ToArray());
            p.AddWithValue(batch.Select(m => m.Namespace).ToArray());
            p.AddWithValue(batch.Select(m => m.FlowId).ToArray());
            p.AddWithValue(batch.Select(m => m.TaskId).ToArray());
            p.AddWithValue(batch.Select(m => m.TaskRunId).ToArray());
            p.AddWithValue(batch.Select(m => m.Type).ToArray());
            p.AddWithValue(batch.Select(m => m.Name).ToArray());
            p.AddWithValue(batch.Select(m => m.Value).ToArray());
            p.AddWithValue(batch.Select(m => m.Timestamp.UtcTicks).ToArray());
            p.AddWithValue(batch.Select(m => m.Tags.Count == 0 ? null : JsonSerializer.Serialize(m.Tags, PostgresMetricJson.Default.IReadOnlyDictionaryStringString)).ToArray());
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    public IReadOnlyList<MetricEntry> Find(string executionId) => FindAsync(executionId).GetAwaiter().GetResult();

    public async Task<IReadOnlyList<MetricEntry>> FindAsync(string executionId, CancellationToken cancellationToken = default)
    {
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        return await database.WithConnectionAsync<IReadOnlyList<MetricEntry>>(async connection =>
        {
            await using var command = new NpgsqlCommand(
                "SELECT execution_id, namespace, flow_id, task_id, task_run_id, type, name, value, timestamp, tags FROM metrics WHERE execution_id = $1 ORDER BY seq",
                connection);
            command.Parameters.AddWithValue(executionId);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var list = new List<MetricEntry>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
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
                        : JsonSerializer.Deserialize(reader.GetString(9), PostgresMetricJson.Default.IReadOnlyDictionaryStringString) ?? new Dictionary<string, string>(),
                });
            }

            return list;
        }, cancellationToken).ConfigureAwait(false);
    }

    public async Task DeleteAsync(string executionId, CancellationToken cancellationToken = default)
    {
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        await database.WithConnectionAsync(async connection =>
        {
            await using var command = new NpgsqlCommand("DELETE FROM metrics WHERE execution_id = $1", connection);
            command.Parameters.AddWithValue(executionId);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(IReadOnlyDictionary<string, string>))]
internal sealed partial class PostgresMetricJson : System.Text.Json.Serialization.JsonSerializerContext;

using System.Collections.Concurrent;
using System.Data.Common;
using System.Text.Json;

namespace Windhover.Engine.Stores;

/// <summary>
/// A database metric store. Recording is on the task's hot path (Return records two per run), so <see cref="Add"/>
/// only queues: one background flush writes every queued metric with <see cref="WriteAsync"/>. Reads and deletes flush
/// first, so a metric recorded before a read on this process is always seen. A failed write keeps its metrics queued
/// for the next flush.
/// </summary>
public abstract class BatchedMetricStore : IMetricStore
{
    /// <summary>The columns <see cref="ReadRow"/> reads, in order.</summary>
    protected const string Columns = "execution_id, namespace, flow_id, task_id, task_run_id, type, name, value, timestamp, tags";

    private readonly ConcurrentQueue<MetricEntry> _pending = new();
    private readonly SemaphoreSlim _flushLock = new(1, 1);
    private int _flushScheduled;

    /// <summary>Stores <paramref name="batch"/> in recording order (one transaction or statement).</summary>
    protected abstract Task WriteAsync(IReadOnlyList<MetricEntry> batch, CancellationToken cancellationToken);

    /// <summary>The stored metrics of an execution, in recording order.</summary>
    protected abstract Task<IReadOnlyList<MetricEntry>> ReadAsync(string executionId, CancellationToken cancellationToken);

    /// <summary>Deletes the stored metrics of an execution.</summary>
    protected abstract Task DeleteStoredAsync(string executionId, CancellationToken cancellationToken);

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

    /// <summary>Writes every queued metric.</summary>
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
                await WriteAsync(batch, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                // kept for the next flush (behind anything recorded meanwhile)
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

    public IReadOnlyList<MetricEntry> Find(string executionId) => FindAsync(executionId).GetAwaiter().GetResult();

    public async Task<IReadOnlyList<MetricEntry>> FindAsync(string executionId, CancellationToken cancellationToken = default)
    {
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        return await ReadAsync(executionId, cancellationToken).ConfigureAwait(false);
    }

    public async Task DeleteAsync(string executionId, CancellationToken cancellationToken = default)
    {
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        await DeleteStoredAsync(executionId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>One row of <see cref="Columns"/> (timestamp as UTC ticks, tags as a JSON object or null).</summary>
    protected static MetricEntry ReadRow(DbDataReader reader) => new()
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
            : JsonSerializer.Deserialize(reader.GetString(9), MetricTagsJson.Default.IReadOnlyDictionaryStringString) ?? new Dictionary<string, string>(),
    };

    /// <summary>The tags column: null when there are none.</summary>
    protected static string? TagsJson(MetricEntry entry) =>
        entry.Tags.Count == 0 ? null : JsonSerializer.Serialize(entry.Tags, MetricTagsJson.Default.IReadOnlyDictionaryStringString);
}

[System.Text.Json.Serialization.JsonSerializable(typeof(IReadOnlyDictionary<string, string>))]
internal sealed partial class MetricTagsJson : System.Text.Json.Serialization.JsonSerializerContext;

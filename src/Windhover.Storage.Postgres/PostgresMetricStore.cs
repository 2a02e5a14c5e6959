using Npgsql;
using Windhover.Engine.Stores;

namespace Windhover.Storage.Postgres;

/// <summary>
/// Task run metrics in the shared <c>metrics</c> table; each flush is one statement. Other nodes see a metric once the
/// background flush committed (it starts when the metric is recorded, before the task run's result is reported).
/// </summary>
public sealed class PostgresMetricStore(PostgresDatabase database) : BatchedMetricStore
{
    protected override Task WriteAsync(IReadOnlyList<MetricEntry> batch, CancellationToken cancellationToken) =>
        database.WithConnectionAsync(async connection =>
        {
            await using var command = new NpgsqlCommand($"""
                INSERT INTO metrics ({Columns})
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
            p.AddWithValue(batch.Select(TagsJson).ToArray());
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    protected override Task<IReadOnlyList<MetricEntry>> ReadAsync(string executionId, CancellationToken cancellationToken) =>
        database.QueryListAsync<MetricEntry>($"SELECT {Columns} FROM metrics WHERE execution_id = $1 ORDER BY seq", ReadRow, cancellationToken, executionId);

    protected override Task DeleteStoredAsync(string executionId, CancellationToken cancellationToken) =>
        database.WithConnectionAsync(async connection =>
        {
            await using var command = new NpgsqlCommand("DELETE FROM metrics WHERE execution_id = $1", connection);
            command.Parameters.AddWithValue(executionId);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken);
}

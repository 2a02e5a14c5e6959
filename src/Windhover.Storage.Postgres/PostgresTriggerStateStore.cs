using Npgsql;
using NpgsqlTypes;
using Windhover.Engine.Stores;
using Windhover.Engine.Triggers;

namespace Windhover.Storage.Postgres;

/// <summary>Trigger state in the <c>trigger_states</c> table (one row per trigger).</summary>
public sealed class PostgresTriggerStateStore(PostgresDatabase database) : ITriggerStateStore
{
    private const string Columns = StoreRows.TriggerStateColumns;

    public Task<TriggerState?> GetAsync(string @namespace, string flowId, string triggerId, CancellationToken cancellationToken = default) =>
        database.WithConnectionAsync(async connection =>
        {
            await using var command = new NpgsqlCommand($"SELECT {Columns} FROM trigger_states WHERE namespace = $1 AND flow_id = $2 AND trigger_id = $3", connection);
            command.Parameters.AddWithValue(@namespace);
            command.Parameters.AddWithValue(flowId);
            command.Parameters.AddWithValue(triggerId);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? StoreRows.ReadTriggerState(reader) : null;
        }, cancellationToken);

    public Task<IReadOnlyList<TriggerState>> ListAsync(CancellationToken cancellationToken = default) =>
        database.WithConnectionAsync<IReadOnlyList<TriggerState>>(async connection =>
        {
            await using var command = new NpgsqlCommand($"SELECT {Columns} FROM trigger_states ORDER BY namespace, flow_id, trigger_id", connection);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var list = new List<TriggerState>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                list.Add(StoreRows.ReadTriggerState(reader));
            }

            return list;
        }, cancellationToken);

    public Task SaveAsync(TriggerState state, CancellationToken cancellationToken = default) =>
        database.WithConnectionAsync(async connection =>
        {
            await using var command = new NpgsqlCommand($"""
                INSERT INTO trigger_states ({Columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                ON CONFLICT (namespace, flow_id, trigger_id) DO UPDATE SET last_fire = excluded.last_fire, next_fire = excluded.next_fire,
                    last_execution_id = excluded.last_execution_id, disabled = excluded.disabled, data = excluded.data, updated = excluded.updated
                """, connection);
            var p = command.Parameters;
            p.AddWithValue(state.Namespace);
            p.AddWithValue(state.FlowId);
            p.AddWithValue(state.TriggerId);
            p.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bigint, Value = state.LastFire is { } l ? l.UtcTicks : DBNull.Value });
            p.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bigint, Value = state.NextFire is { } n ? n.UtcTicks : DBNull.Value });
            p.Add(PostgresExecutionStore.Text(state.LastExecutionId));
            p.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Boolean, Value = state.Disabled is { } d ? d : DBNull.Value });
            p.Add(PostgresExecutionStore.Text(state.Data));
            p.AddWithValue(state.Updated.UtcTicks);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    public Task<bool> DeleteAsync(string @namespace, string flowId, string triggerId, CancellationToken cancellationToken = default) =>
        database.WithConnectionAsync(async connection =>
        {
            await using var command = new NpgsqlCommand("DELETE FROM trigger_states WHERE namespace = $1 AND flow_id = $2 AND trigger_id = $3", connection);
            command.Parameters.AddWithValue(@namespace);
            command.Parameters.AddWithValue(flowId);
            command.Parameters.AddWithValue(triggerId);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
        }, cancellationToken);
}

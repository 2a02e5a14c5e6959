using Microsoft.Data.Sqlite;
using Windhover.Engine.Stores;
using Windhover.Engine.Triggers;

namespace Windhover.Storage.Sqlite;

/// <summary>Trigger state in the <c>trigger_states</c> table (one row per trigger, written through the serialised writer).</summary>
public sealed class SqliteTriggerStateStore(SqliteDatabase database) : ITriggerStateStore
{
    private const string Columns = StoreRows.TriggerStateColumns;

    public Task<TriggerState?> GetAsync(string @namespace, string flowId, string triggerId, CancellationToken cancellationToken = default) =>
        Task.FromResult(database.Read(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT {Columns} FROM trigger_states WHERE namespace = $ns AND flow_id = $f AND trigger_id = $t";
            command.Parameters.AddWithValue("$ns", @namespace);
            command.Parameters.AddWithValue("$f", flowId);
            command.Parameters.AddWithValue("$t", triggerId);
            using var reader = command.ExecuteReader();
            return reader.Read() ? StoreRows.ReadTriggerState(reader) : null;
        }));

    public Task<IReadOnlyList<TriggerState>> ListAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<TriggerState>>(database.Read(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT {Columns} FROM trigger_states ORDER BY namespace, flow_id, trigger_id";
            using var reader = command.ExecuteReader();
            var list = new List<TriggerState>();
            while (reader.Read())
            {
                list.Add(StoreRows.ReadTriggerState(reader));
            }

            return list;
        }));

    public Task SaveAsync(TriggerState state, CancellationToken cancellationToken = default) =>
        database.WriteAsync(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"INSERT OR REPLACE INTO trigger_states ({Columns}) VALUES ($ns, $f, $t, $last, $next, $exec, $disabled, $data, $updated)";
            command.Parameters.AddWithValue("$ns", state.Namespace);
            command.Parameters.AddWithValue("$f", state.FlowId);
            command.Parameters.AddWithValue("$t", state.TriggerId);
            command.Parameters.AddWithValue("$last", state.LastFire is { } l ? l.UtcTicks : DBNull.Value);
            command.Parameters.AddWithValue("$next", state.NextFire is { } n ? n.UtcTicks : DBNull.Value);
            command.Parameters.AddWithValue("$exec", (object?)state.LastExecutionId ?? DBNull.Value);
            command.Parameters.AddWithValue("$disabled", state.Disabled is { } d ? (d ? 1 : 0) : DBNull.Value);
            command.Parameters.AddWithValue("$data", (object?)state.Data ?? DBNull.Value);
            command.Parameters.AddWithValue("$updated", state.Updated.UtcTicks);
            return command.ExecuteNonQuery();
        }, cancellationToken);

    public Task<bool> DeleteAsync(string @namespace, string flowId, string triggerId, CancellationToken cancellationToken = default) =>
        database.WriteAsync(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "DELETE FROM trigger_states WHERE namespace = $ns AND flow_id = $f AND trigger_id = $t";
            command.Parameters.AddWithValue("$ns", @namespace);
            command.Parameters.AddWithValue("$f", flowId);
            command.Parameters.AddWithValue("$t", triggerId);
            return command.ExecuteNonQuery() > 0;
        }, cancellationToken);
}

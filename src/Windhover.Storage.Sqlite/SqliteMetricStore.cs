using Microsoft.Data.Sqlite;
using Windhover.Engine.Stores;

namespace Windhover.Storage.Sqlite;

/// <summary>Task run metrics in the <c>metrics</c> table; each flush is one transaction of the writer.</summary>
public sealed class SqliteMetricStore(SqliteDatabase database) : BatchedMetricStore
{
    protected override Task WriteAsync(IReadOnlyList<MetricEntry> batch, CancellationToken cancellationToken) =>
        database.WriteAsync(connection => Insert(connection, batch), cancellationToken);

    private static int Insert(SqliteConnection connection, IReadOnlyList<MetricEntry> batch)
    {
        using var transaction = connection.BeginTransaction();
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"""
            INSERT INTO metrics ({Columns})
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
            p[9].Value = (object?)TagsJson(m) ?? DBNull.Value;
            command.ExecuteNonQuery();
        }

        transaction.Commit();
        return batch.Count;
    }

    protected override Task<IReadOnlyList<MetricEntry>> ReadAsync(string executionId, CancellationToken cancellationToken) =>
        Task.FromResult(database.Read(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT {Columns} FROM metrics WHERE execution_id = $e ORDER BY seq";
            command.Parameters.AddWithValue("$e", executionId);
            using var reader = command.ExecuteReader();
            var list = new List<MetricEntry>();
            while (reader.Read())
            {
                list.Add(ReadRow(reader));
            }

            return (IReadOnlyList<MetricEntry>)list;
        }));

    protected override Task DeleteStoredAsync(string executionId, CancellationToken cancellationToken) =>
        database.WriteAsync(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "DELETE FROM metrics WHERE execution_id = $e";
            command.Parameters.AddWithValue("$e", executionId);
            return command.ExecuteNonQuery();
        }, cancellationToken);
}

using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Windhover.Engine.Executions;
using Windhover.Engine.Executor;
using Windhover.Engine.Serialization;
using Windhover.Engine.Stores;

namespace Windhover.Storage.Postgres;

/// <summary>
/// Executions as a narrow row (list columns) + a header JSON (inputs, outputs, state history...) + one row per task run,
/// as in SQLite. A step is one batch (one round trip, one commit): the header only when it changed, only the task runs
/// that changed, and its timers.
/// </summary>
public sealed class PostgresExecutionStore(PostgresDatabase database) : IExecutionStore, ITimerStore
{
    private const string SummaryColumns = StoreRows.SummaryColumns;

    public Task<Execution?> GetAsync(string id, CancellationToken cancellationToken = default) =>
        database.WithConnectionAsync(connection => LoadAsync(connection, null, id, forUpdate: false, cancellationToken), cancellationToken);

    /// <summary>Reads the execution and its task runs in one round trip; <paramref name="forUpdate"/> locks its row until the transaction ends.</summary>
    internal static async Task<Execution?> LoadAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string id, bool forUpdate, CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection, transaction);
        var header = new NpgsqlBatchCommand("SELECT header FROM executions WHERE id = $1" + (forUpdate ? " FOR UPDATE" : ""));
        header.Parameters.AddWithValue(id);
        var runs = new NpgsqlBatchCommand("SELECT data FROM task_runs WHERE execution_id = $1 ORDER BY position");
        runs.Parameters.AddWithValue(id);
        batch.BatchCommands.Add(header);
        batch.BatchCommands.Add(runs);
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        var execution = KestraJson.DeserializeExecution(reader.GetString(0));
        await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
        var list = ImmutableArray.CreateBuilder<TaskRun>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(KestraJson.DeserializeTaskRun(reader.GetString(0)));
        }

        return execution with { TaskRunList = list.ToImmutable() };
    }

    public async Task SaveAsync(Execution execution, ExecutionChanges changes, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var batch = new NpgsqlBatch(connection);
        AddSave(batch, execution, changes);
        if (batch.BatchCommands.Count > 0)
        {
            // One round trip: the statements of a batch without a transaction run in one implicit transaction.
            await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Adds the statements of one step to <paramref name="batch"/>. <paramref name="absent"/>: the caller holds that the
    /// execution has no row yet (its task runs and labels need no clearing).
    /// </summary>
    internal static void AddSave(NpgsqlBatch batch, Execution execution, ExecutionChanges changes, bool absent = false)
    {
        if (changes.HeaderChanged || changes.ReplaceAllTaskRuns)
        {
            AddHeader(batch, execution, changes.LabelsChanged || changes.ReplaceAllTaskRuns, absent);
        }
        else if (!changes.IsEmpty)
        {
            var touch = new NpgsqlBatchCommand("UPDATE executions SET version = version + 1, updated_at = clock_timestamp() WHERE id = $1");
            touch.Parameters.AddWithValue(execution.Id);
            batch.BatchCommands.Add(touch);
        }

        if (changes.ReplaceAllTaskRuns)
        {
            if (!absent)
            {
                var delete = new NpgsqlBatchCommand("DELETE FROM task_runs WHERE execution_id = $1");
                delete.Parameters.AddWithValue(execution.Id);
                batch.BatchCommands.Add(delete);
            }

            AddTaskRuns(batch, execution.Id, execution.TaskRunList.Select((t, i) => new TaskRunChange(i, t)).ToList());
        }
        else if (!changes.TaskRuns.IsEmpty)
        {
            AddTaskRuns(batch, execution.Id, changes.TaskRuns);
        }

        if (!changes.RemoveTimers.IsEmpty)
        {
            var delete = new NpgsqlBatchCommand("DELETE FROM timers WHERE id = ANY($1)");
            delete.Parameters.AddWithValue(changes.RemoveTimers.ToArray());
            batch.BatchCommands.Add(delete);
        }

        foreach (var timer in changes.AddTimers)
        {
            batch.BatchCommands.Add(InsertTimer(timer));
        }
    }

    private static void AddHeader(NpgsqlBatch batch, Execution execution, bool labelsChanged, bool absent)
    {
        var command = new NpgsqlBatchCommand("""
            INSERT INTO executions (id, namespace, flow_id, flow_revision, state, terminal, start_date, end_date, parent_id, original_id,
                                    trigger_id, trigger_type, labels, deleted, header)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
            ON CONFLICT (id) DO UPDATE SET namespace = excluded.namespace, flow_id = excluded.flow_id, flow_revision = excluded.flow_revision,
                state = excluded.state, terminal = excluded.terminal, start_date = excluded.start_date, end_date = excluded.end_date,
                parent_id = excluded.parent_id, original_id = excluded.original_id, trigger_id = excluded.trigger_id,
                trigger_type = excluded.trigger_type, labels = excluded.labels, deleted = excluded.deleted, header = excluded.header,
                version = executions.version + 1, updated_at = clock_timestamp()
            """);
        var p = command.Parameters;
        p.AddWithValue(execution.Id);
        p.AddWithValue(execution.Namespace);
        p.AddWithValue(execution.FlowId);
        p.AddWithValue(execution.FlowRevision);
        p.AddWithValue(execution.State.Current.ToKestraName());
        p.AddWithValue(execution.State.Current.IsTerminal());
        p.AddWithValue(execution.State.StartDate.UtcTicks);
        p.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bigint, Value = execution.State.EndDate is { } end ? end.UtcTicks : DBNull.Value });
        p.Add(Text(execution.ParentId));
        p.Add(Text(execution.OriginalId));
        p.Add(Text(execution.Trigger?.Id));
        p.Add(Text(execution.Trigger?.Type));
        p.AddWithValue(StoreRows.LabelsJson(execution.Labels));
        p.AddWithValue(execution.Deleted);
        p.AddWithValue(KestraJson.Serialize(execution with { TaskRunList = [] }));
        batch.BatchCommands.Add(command);
        if (!labelsChanged)
        {
            return; // the label rows are those of the last write
        }

        var labels = execution.Labels.IsDefault ? [] : execution.Labels;
        // Last value of a key wins, as INSERT OR REPLACE does in SQLite.
        var distinct = labels.GroupBy(l => l.Key, StringComparer.Ordinal).Select(g => g.Last()).ToList();
        if (!absent)
        {
            var replace = new NpgsqlBatchCommand("DELETE FROM execution_labels WHERE execution_id = $1");
            replace.Parameters.AddWithValue(execution.Id);
            batch.BatchCommands.Add(replace);
        }

        if (distinct.Count > 0)
        {
            var insert = new NpgsqlBatchCommand("INSERT INTO execution_labels (execution_id, key, value) SELECT $1, k, v FROM unnest($2::text[], $3::text[]) AS t(k, v)");
            insert.Parameters.AddWithValue(execution.Id);
            insert.Parameters.AddWithValue(distinct.Select(l => l.Key).ToArray());
            insert.Parameters.AddWithValue(distinct.Select(l => l.Value).ToArray());
            batch.BatchCommands.Add(insert);
        }
    }

    private static void AddTaskRuns(NpgsqlBatch batch, string executionId, IReadOnlyCollection<TaskRunChange> changes)
    {
        if (changes.Count == 0)
        {
            return;
        }

        var command = new NpgsqlBatchCommand("""
            INSERT INTO task_runs (execution_id, id, position, data)
            SELECT $1, i, p, d FROM unnest($2::text[], $3::int[], $4::text[]) AS t(i, p, d)
            ON CONFLICT (execution_id, id) DO UPDATE SET position = excluded.position, data = excluded.data
            """);
        command.Parameters.AddWithValue(executionId);
        command.Parameters.AddWithValue(changes.Select(c => c.TaskRun.Id).ToArray());
        command.Parameters.AddWithValue(changes.Select(c => c.Position).ToArray());
        command.Parameters.AddWithValue(changes.Select(c => KestraJson.Serialize(c.TaskRun)).ToArray());
        batch.BatchCommands.Add(command);
    }

    internal static NpgsqlParameter Text(string? value) => new() { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)value ?? DBNull.Value };

    public Task<PagedResult<ExecutionSummary>> SearchAsync(ExecutionQuery query, CancellationToken cancellationToken = default) =>
        database.WithConnectionAsync(async connection =>
        {
            var results = new List<ExecutionSummary>();
            await using (var command = new NpgsqlCommand { Connection = connection })
            {
                var where = Where(command, query);
                command.CommandText = $"SELECT {SummaryColumns} FROM executions e WHERE {where} " +
                    (query.Ascending ? "ORDER BY start_date, id" : "ORDER BY start_date DESC, id DESC") + " LIMIT @limit OFFSET @offset";
                command.Parameters.AddWithValue("limit", query.Size);
                command.Parameters.AddWithValue("offset", (long)(Math.Max(query.Page, 1) - 1) * query.Size);
                await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    results.Add(StoreRows.ReadSummary(reader));
                }
            }

            long total;
            if (query.Page <= 1 && results.Count < query.Size)
            {
                total = results.Count;
            }
            else
            {
                total = await CountAsync(connection, query, cancellationToken).ConfigureAwait(false);
            }

            return new PagedResult<ExecutionSummary>(results, total);
        }, cancellationToken);

    public Task<long> CountAsync(ExecutionQuery query, CancellationToken cancellationToken = default) =>
        database.WithConnectionAsync(connection => CountAsync(connection, query, cancellationToken), cancellationToken);

    private static async Task<long> CountAsync(NpgsqlConnection connection, ExecutionQuery query, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand { Connection = connection };
        command.CommandText = $"SELECT COUNT(*) FROM executions e WHERE {Where(command, query)}";
        return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    private static string Where(NpgsqlCommand command, ExecutionQuery query)
    {
        var where = new StringBuilder("NOT deleted");
        var p = command.Parameters;
        if (query.Namespace is { } ns)
        {
            // Prefix match that uses the index: 'a.b' or 'a.b.' <= namespace < 'a.b/' ('/' follows '.'; the column is COLLATE "C").
            where.Append(" AND (namespace = @ns OR (namespace >= @nsLow AND namespace < @nsHigh))");
            p.AddWithValue("ns", ns);
            p.AddWithValue("nsLow", ns + ".");
            p.AddWithValue("nsHigh", ns + "/");
        }

        if (!query.States.IsDefaultOrEmpty)
        {
            where.Append(" AND state = ANY(@states)");
            p.AddWithValue("states", query.States.Select(s => s.ToKestraName()).ToArray());
        }

        StoreRows.AppendExecutionFilters(where, command, '@', query);

        if (!query.Labels.IsDefaultOrEmpty)
        {
            for (var i = 0; i < query.Labels.Length; i++)
            {
                where.Append(" AND EXISTS (SELECT 1 FROM execution_labels l WHERE l.execution_id = e.id AND l.key = @lk").Append(i)
                    .Append(" AND l.value = @lv").Append(i).Append(')');
                p.AddWithValue("lk" + i, query.Labels[i].Key);
                p.AddWithValue("lv" + i, query.Labels[i].Value);
            }
        }

        return where.ToString();
    }

        public Task<IReadOnlyList<ExecutionSummary>> ChildrenAsync(string parentId, CancellationToken cancellationToken = default) =>
        database.QueryListAsync<ExecutionSummary>($"SELECT {SummaryColumns} FROM executions WHERE parent_id = $1 ORDER BY start_date, id", StoreRows.ReadSummary, cancellationToken, parentId);

    public Task<IReadOnlyList<string>> UnfinishedAsync(CancellationToken cancellationToken = default) =>
        database.QueryListAsync<string>("SELECT id FROM executions WHERE NOT terminal ORDER BY start_date", reader => reader.GetString(0), cancellationToken);

    public Task<bool> DeleteAsync(string id, CancellationToken cancellationToken = default) =>
        database.WithConnectionAsync(async connection =>
        {
            await using var batch = new NpgsqlBatch(connection);
            foreach (var sql in new[]
            {
                "DELETE FROM task_runs WHERE execution_id = $1", "DELETE FROM execution_labels WHERE execution_id = $1",
                "DELETE FROM timers WHERE execution_id = $1", "DELETE FROM task_queue WHERE execution_id = $1", "DELETE FROM executions WHERE id = $1",
            })
            {
                var command = new NpgsqlBatchCommand(sql);
                command.Parameters.AddWithValue(id);
                batch.BatchCommands.Add(command);
            }

            await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return batch.BatchCommands[^1].RecordsAffected > 0;
        }, cancellationToken);

    // ------------------------------------------------------------------ timers

    private static NpgsqlBatchCommand InsertTimer(StoredTimer timer)
    {
        var command = new NpgsqlBatchCommand("""
            INSERT INTO timers (id, execution_id, kind, task_run_id, due_at) VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (id) DO UPDATE SET execution_id = excluded.execution_id, kind = excluded.kind, task_run_id = excluded.task_run_id, due_at = excluded.due_at,
                claimed_until = NULL
            """);
        command.Parameters.AddWithValue(timer.Id);
        command.Parameters.AddWithValue(timer.ExecutionId);
        command.Parameters.Add(Text(timer.Kind?.ToString()));
        command.Parameters.Add(Text(timer.TaskRunId));
        command.Parameters.AddWithValue(timer.DueAt.UtcTicks);
        return command;
    }

    internal static StoredTimer ReadTimer(NpgsqlDataReader reader) => new(
        reader.GetString(0),
        reader.GetString(1),
        new DateTimeOffset(reader.GetInt64(4), TimeSpan.Zero),
        reader.IsDBNull(2) ? null : Enum.Parse<TimerKind>(reader.GetString(2)),
        reader.IsDBNull(3) ? null : reader.GetString(3));

    public Task<IReadOnlyList<StoredTimer>> ListAsync(CancellationToken cancellationToken = default) =>
        database.QueryListAsync<StoredTimer>("SELECT id, execution_id, kind, task_run_id, due_at FROM timers ORDER BY due_at, id", ReadTimer, cancellationToken);

    public Task AddAsync(StoredTimer timer, CancellationToken cancellationToken = default) =>
        database.WithConnectionAsync(async connection =>
        {
            await using var batch = new NpgsqlBatch(connection);
            batch.BatchCommands.Add(InsertTimer(timer));
            return await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    Task<bool> ITimerStore.DeleteAsync(string id, CancellationToken cancellationToken) =>
        database.WithConnectionAsync(async connection =>
        {
            await using var command = new NpgsqlCommand("DELETE FROM timers WHERE id = $1", connection);
            command.Parameters.AddWithValue(id);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
        }, cancellationToken);
}

using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Windhover.Engine.Executions;
using Windhover.Engine.Executor;
using Windhover.Engine.Serialization;
using Windhover.Engine.Stores;

namespace Windhover.Storage.Sqlite;

/// <summary>
/// Executions as a narrow row (list columns) + a header JSON (inputs, outputs, state history...) + one row per task run.
/// A step writes the header only when it changed and only the task runs that changed, in one transaction with its timers.
/// </summary>
public sealed class SqliteExecutionStore(SqliteDatabase database) : IExecutionStore, ITimerStore
{
    private const string SummaryColumns = StoreRows.SummaryColumns;

    private static string SummaryColumnsOf(string alias) => string.Join(", ", SummaryColumns.Split(", ").Select(c => alias + "." + c));

    public Task<Execution?> GetAsync(string id, CancellationToken cancellationToken = default) =>
        Task.FromResult(database.Read(connection => Load(connection, id)));

    private static Execution? Load(SqliteConnection connection, string id)
    {
        string header;
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT header FROM executions WHERE id = $id";
            command.Parameters.AddWithValue("$id", id);
            if (command.ExecuteScalar() is not string text)
            {
                return null;
            }

            header = text;
        }

        var runs = ImmutableArray.CreateBuilder<TaskRun>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT data FROM task_runs WHERE execution_id = $id ORDER BY position";
            command.Parameters.AddWithValue("$id", id);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                runs.Add(KestraJson.DeserializeTaskRun(reader.GetString(0)));
            }
        }

        return KestraJson.DeserializeExecution(header) with { TaskRunList = runs.ToImmutable() };
    }

    public Task SaveAsync(Execution execution, ExecutionChanges changes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(execution);
        ArgumentNullException.ThrowIfNull(changes);

        // Serialised before taking the writer, so that JSON work of concurrent steps runs in parallel and the group
        // commit holds the writer only for SQL.
        var header = changes.HeaderChanged || changes.ReplaceAllTaskRuns ? KestraJson.Serialize(execution with { TaskRunList = [] }) : null;
        var runs = changes.ReplaceAllTaskRuns
            ? execution.TaskRunList.Select((run, i) => (Position: i, run.Id, Json: KestraJson.Serialize(run))).ToArray()
            : changes.TaskRuns.Select(c => (c.Position, c.TaskRun.Id, Json: KestraJson.Serialize(c.TaskRun))).ToArray();
        return database.WriteGroupedAsync((connection, transaction) =>
        {
            if (header is not null)
            {
                WriteHeader(transaction, execution, header, changes.LabelsChanged || changes.ReplaceAllTaskRuns);
            }

            if (changes.ReplaceAllTaskRuns)
            {
                var delete = database.WriterCommand(transaction, "DELETE FROM task_runs WHERE execution_id = $id", "$id");
                delete.Parameters[0].Value = execution.Id;
                delete.ExecuteNonQuery();
            }

            WriteTaskRuns(transaction, execution.Id, runs);

            foreach (var timerId in changes.RemoveTimers)
            {
                var delete = database.WriterCommand(transaction, "DELETE FROM timers WHERE id = $id", "$id");
                delete.Parameters[0].Value = timerId;
                delete.ExecuteNonQuery();
            }

            foreach (var timer in changes.AddTimers)
            {
                InsertTimer(connection, transaction, timer);
            }

            return 0;
        }, cancellationToken);
    }

    private void WriteHeader(SqliteTransaction transaction, Execution execution, string header, bool labelsChanged)
    {
        var command = database.WriterCommand(transaction, """
            INSERT INTO executions (id, namespace, flow_id, flow_revision, state, terminal, start_date, end_date, parent_id, original_id,
                                    trigger_id, trigger_type, labels, deleted, header)
            VALUES ($id, $ns, $flow, $rev, $state, $terminal, $start, $end, $parent, $original, $tid, $ttype, $labels, $deleted, $header)
            ON CONFLICT (id) DO UPDATE SET namespace = excluded.namespace, flow_id = excluded.flow_id, flow_revision = excluded.flow_revision,
                state = excluded.state, terminal = excluded.terminal, start_date = excluded.start_date, end_date = excluded.end_date,
                parent_id = excluded.parent_id, original_id = excluded.original_id, trigger_id = excluded.trigger_id,
                trigger_type = excluded.trigger_type, labels = excluded.labels, deleted = excluded.deleted, header = excluded.header
            """, "$id", "$ns", "$flow", "$rev", "$state", "$terminal", "$start", "$end", "$parent", "$original", "$tid", "$ttype", "$labels", "$deleted", "$header");
        var p = command.Parameters;
        p[0].Value = execution.Id;
        p[1].Value = execution.Namespace;
        p[2].Value = execution.FlowId;
        p[3].Value = execution.FlowRevision;
        p[4].Value = execution.State.Current.ToKestraName();
        p[5].Value = execution.State.Current.IsTerminal() ? 1 : 0;
        p[6].Value = execution.State.StartDate.UtcTicks;
        p[7].Value = execution.State.EndDate is { } end ? end.UtcTicks : DBNull.Value;
        p[8].Value = (object?)execution.ParentId ?? DBNull.Value;
        p[9].Value = (object?)execution.OriginalId ?? DBNull.Value;
        p[10].Value = (object?)execution.Trigger?.Id ?? DBNull.Value;
        p[11].Value = (object?)execution.Trigger?.Type ?? DBNull.Value;
        p[12].Value = StoreRows.LabelsJson(execution.Labels);
        p[13].Value = execution.Deleted ? 1 : 0;
        p[14].Value = header;
        command.ExecuteNonQuery();

        if (!labelsChanged)
        {
            return; // the label rows are as the last write left them
        }

        var delete = database.WriterCommand(transaction, "DELETE FROM execution_labels WHERE execution_id = $id", "$id");
        delete.Parameters[0].Value = execution.Id;
        delete.ExecuteNonQuery();

        if (!execution.Labels.IsDefaultOrEmpty)
        {
            var insert = database.WriterCommand(transaction, "INSERT OR REPLACE INTO execution_labels (execution_id, key, value) VALUES ($id, $k, $v)", "$id", "$k", "$v");
            insert.Parameters[0].Value = execution.Id;
            foreach (var label in execution.Labels)
            {
                insert.Parameters[1].Value = label.Key;
                insert.Parameters[2].Value = label.Value;
                insert.ExecuteNonQuery();
            }
        }
    }

    private void WriteTaskRuns(SqliteTransaction transaction, string executionId, IReadOnlyList<(int Position, string Id, string Json)> runs)
    {
        if (runs.Count == 0)
        {
            return;
        }

        var command = database.WriterCommand(transaction,
            "INSERT INTO task_runs (execution_id, id, position, data) VALUES ($e, $id, $pos, $data) " +
            "ON CONFLICT (execution_id, id) DO UPDATE SET position = excluded.position, data = excluded.data",
            "$e", "$id", "$pos", "$data");
        command.Parameters[0].Value = executionId;
        foreach (var (position, id, json) in runs)
        {
            command.Parameters[1].Value = id;
            command.Parameters[2].Value = position;
            command.Parameters[3].Value = json;
            command.ExecuteNonQuery();
        }
    }

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction transaction, string sql)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command;
    }

    public Task<PagedResult<ExecutionSummary>> SearchAsync(ExecutionQuery query, CancellationToken cancellationToken = default) =>
        Task.FromResult(database.Read(connection =>
        {
            using var command = connection.CreateCommand();
            var where = Where(command, query, pageOrder: true);
            // Deferred join: the page's rowids come from a covering list index (OFFSET skips index entries, not rows),
            // then only those rows are read.
            var order = query.Ascending ? "start_date, id" : "start_date DESC, id DESC";
            var outerOrder = query.Ascending ? "x.start_date, x.id" : "x.start_date DESC, x.id DESC";
            command.CommandText =
                $"SELECT {SummaryColumnsOf("x")} FROM (SELECT e.rowid AS r FROM executions e WHERE {where} ORDER BY {order} LIMIT $limit OFFSET $offset) k " +
                $"JOIN executions x ON x.rowid = k.r ORDER BY {outerOrder}";
            command.Parameters.AddWithValue("$limit", query.Size);
            command.Parameters.AddWithValue("$offset", (long)(Math.Max(query.Page, 1) - 1) * query.Size);
            var results = new List<ExecutionSummary>();
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
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
                using var count = connection.CreateCommand();
                count.CommandText = query.CountLimit is { } limit
                    ? $"SELECT COUNT(*) FROM (SELECT 1 FROM executions e WHERE {Where(count, query)} LIMIT {Math.Max(limit, 0) + 1})"
                    : $"SELECT COUNT(*) FROM executions e WHERE {Where(count, query)}";
                total = (long)count.ExecuteScalar()!;
            }

            return new PagedResult<ExecutionSummary>(results, total);
        }));

    public Task<IReadOnlyList<ExecutionCountBucket>> CountByStateAsync(ExecutionQuery query, DateTimeOffset from, TimeSpan bucket, int buckets, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(bucket, TimeSpan.Zero);
        return Task.FromResult(database.Read<IReadOnlyList<ExecutionCountBucket>>(connection =>
        {
            // One range walk of the list index (start_date leads; state is covered).
            using var command = connection.CreateCommand();
            var where = Where(command, query with { StartDate = from, EndDate = null, States = [] });
            command.CommandText = $"SELECT (start_date - $from) / $bucket AS b, state, COUNT(*) FROM executions e WHERE {where} AND start_date < $to GROUP BY b, state";
            command.Parameters.AddWithValue("$from", from.UtcTicks);
            command.Parameters.AddWithValue("$bucket", bucket.Ticks);
            command.Parameters.AddWithValue("$to", (from + (bucket * buckets)).UtcTicks);
            using var reader = command.ExecuteReader();
            var list = new List<ExecutionCountBucket>();
            while (reader.Read())
            {
                list.Add(new ExecutionCountBucket((int)reader.GetInt64(0), StateExtensions.ParseKestraName(reader.GetString(1)), reader.GetInt64(2)));
            }

            return [.. list.OrderBy(b => b.Bucket).ThenBy(b => b.State)];
        }));
    }

    public Task<long> CountAsync(ExecutionQuery query, CancellationToken cancellationToken = default) =>
        Task.FromResult(database.Read(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT COUNT(*) FROM executions e WHERE {Where(command, query)}";
            return (long)command.ExecuteScalar()!;
        }));

    private static string Where(SqliteCommand command, ExecutionQuery query, bool pageOrder = false)
    {
        var where = new StringBuilder("deleted = 0");
        var p = command.Parameters;
        if (query.Namespace is { } ns)
        {
            // Prefix match 'a.b' or 'a.b.*' as one index range 'a.b' <= namespace < 'a.b/' ('/' follows '.') less the
            // siblings inside it ('a.b-c' < 'a.b.'). For a page without a flow or state (which have their own indexes) the
            // range is hidden from the planner (unary +): walking the list index in date order and stopping after the page
            // beats sorting every match when the prefix is broad, and costs at most one index walk when it is narrow.
            var column = pageOrder && query.FlowId is null && query.States.IsDefaultOrEmpty ? "+namespace" : "namespace";
            where.Append(" AND ").Append(column).Append(" >= $ns AND ").Append(column).Append(" < $nsHigh AND (namespace = $ns OR namespace >= $nsLow)");
            p.AddWithValue("$ns", ns);
            p.AddWithValue("$nsLow", ns + ".");
            p.AddWithValue("$nsHigh", ns + "/");
        }

        if (!query.States.IsDefaultOrEmpty)
        {
            where.Append(" AND state IN (");
            for (var i = 0; i < query.States.Length; i++)
            {
                where.Append(i == 0 ? "" : ", ").Append("$s").Append(i);
                p.AddWithValue("$s" + i, query.States[i].ToKestraName());
            }

            where.Append(')');
        }

        StoreRows.AppendExecutionFilters(where, command, '$', query);

        if (!query.Labels.IsDefaultOrEmpty)
        {
            // A rare label drives the query from its index (cost per match); a common one is checked per row of the
            // date-ordered walk, which stops after the page (a probe per row scanned).
            var rarest = RarestLabel(command.Connection!, query.Labels);
            for (var i = 0; i < query.Labels.Length; i++)
            {
                where.Append(i == rarest
                        ? " AND e.id IN (SELECT l.execution_id FROM execution_labels l WHERE l.key = $lk"
                        : " AND EXISTS (SELECT 1 FROM execution_labels l WHERE l.execution_id = e.id AND l.key = $lk")
                    .Append(i).Append(" AND l.value = $lv").Append(i).Append(')');
                p.AddWithValue("$lk" + i, query.Labels[i].Key);
                p.AddWithValue("$lv" + i, query.Labels[i].Value);
            }
        }

        return where.ToString();
    }

    /// <summary>Below this many executions carrying a label, the label drives the search.</summary>
    private const long RareLabel = 2_000;

    /// <summary>The index of the label with fewest executions when it has under <see cref="RareLabel"/>; -1 otherwise.</summary>
    private static int RarestLabel(SqliteConnection connection, ImmutableArray<ExecutionLabel> labels)
    {
        var best = -1;
        var fewest = RareLabel;
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT COUNT(*) FROM (SELECT 1 FROM execution_labels WHERE key = $k AND value = $v LIMIT {RareLabel})";
        var key = command.Parameters.Add("$k", SqliteType.Text);
        var value = command.Parameters.Add("$v", SqliteType.Text);
        for (var i = 0; i < labels.Length; i++)
        {
            key.Value = labels[i].Key;
            value.Value = labels[i].Value;
            var count = (long)command.ExecuteScalar()!;
            if (count < fewest)
            {
                fewest = count;
                best = i;
            }
        }

        return best;
    }

        public Task<IReadOnlyList<ExecutionSummary>> ChildrenAsync(string parentId, CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<ExecutionSummary>>(database.Read(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT {SummaryColumns} FROM executions WHERE parent_id = $p ORDER BY start_date, id";
            command.Parameters.AddWithValue("$p", parentId);
            using var reader = command.ExecuteReader();
            var list = new List<ExecutionSummary>();
            while (reader.Read())
            {
                list.Add(StoreRows.ReadSummary(reader));
            }

            return list;
        }));

    public Task<IReadOnlyList<string>> UnfinishedAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<string>>(database.Read(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT id FROM executions WHERE terminal = 0 ORDER BY start_date";
            using var reader = command.ExecuteReader();
            var list = new List<string>();
            while (reader.Read())
            {
                list.Add(reader.GetString(0));
            }

            return list;
        }));

    public Task<bool> DeleteAsync(string id, CancellationToken cancellationToken = default) =>
        database.WriteAsync(connection =>
        {
            using var transaction = connection.BeginTransaction();
            int deleted;
            using (var command = Command(connection, transaction,
                "DELETE FROM task_runs WHERE execution_id = $id; DELETE FROM execution_labels WHERE execution_id = $id; DELETE FROM timers WHERE execution_id = $id;"))
            {
                command.Parameters.AddWithValue("$id", id);
                command.ExecuteNonQuery();
            }

            using (var command = Command(connection, transaction, "DELETE FROM executions WHERE id = $id"))
            {
                command.Parameters.AddWithValue("$id", id);
                deleted = command.ExecuteNonQuery();
            }

            transaction.Commit();
            return deleted > 0;
        }, cancellationToken);

    // ------------------------------------------------------------------ timers

    private static void InsertTimer(SqliteConnection connection, SqliteTransaction? transaction, StoredTimer timer)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT OR REPLACE INTO timers (id, execution_id, kind, task_run_id, due_at) VALUES ($id, $e, $k, $t, $d)";
        command.Parameters.AddWithValue("$id", timer.Id);
        command.Parameters.AddWithValue("$e", timer.ExecutionId);
        command.Parameters.AddWithValue("$k", (object?)timer.Kind?.ToString() ?? DBNull.Value);
        command.Parameters.AddWithValue("$t", (object?)timer.TaskRunId ?? DBNull.Value);
        command.Parameters.AddWithValue("$d", timer.DueAt.UtcTicks);
        command.ExecuteNonQuery();
    }

    public Task<IReadOnlyList<StoredTimer>> ListAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<StoredTimer>>(database.Read(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT id, execution_id, kind, task_run_id, due_at FROM timers ORDER BY due_at";
            using var reader = command.ExecuteReader();
            var list = new List<StoredTimer>();
            while (reader.Read())
            {
                list.Add(new StoredTimer(
                    reader.GetString(0),
                    reader.GetString(1),
                    new DateTimeOffset(reader.GetInt64(4), TimeSpan.Zero),
                    reader.IsDBNull(2) ? null : Enum.Parse<TimerKind>(reader.GetString(2)),
                    reader.IsDBNull(3) ? null : reader.GetString(3)));
            }

            return list;
        }));

    public Task AddAsync(StoredTimer timer, CancellationToken cancellationToken = default) =>
        database.WriteAsync(connection =>
        {
            InsertTimer(connection, null, timer);
            return 0;
        }, cancellationToken);

    Task<bool> ITimerStore.DeleteAsync(string id, CancellationToken cancellationToken) =>
        database.WriteAsync(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "DELETE FROM timers WHERE id = $id";
            command.Parameters.AddWithValue("$id", id);
            return command.ExecuteNonQuery() > 0;
        }, cancellationToken);
}

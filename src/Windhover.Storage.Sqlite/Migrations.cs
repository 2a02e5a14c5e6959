using Microsoft.Data.Sqlite;

namespace Windhover.Storage.Sqlite;

/// <summary>
/// Schema versions, applied in order at open inside one transaction each. Never edit a released migration: add one.
/// List queries read only the narrow columns of <c>executions</c> (never <c>header</c>) and are served by the indexes below.
/// </summary>
internal static class Migrations
{
    public static readonly string[] All =
    [
        // 1: initial schema
        """
        CREATE TABLE flows (
            namespace TEXT NOT NULL, id TEXT NOT NULL, revision INTEGER NOT NULL, source TEXT NOT NULL, updated INTEGER NOT NULL,
            PRIMARY KEY (namespace, id, revision)) WITHOUT ROWID;
        CREATE TABLE flows_current (
            namespace TEXT NOT NULL, id TEXT NOT NULL, revision INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (namespace, id)) WITHOUT ROWID;

        CREATE TABLE executions (
            id TEXT NOT NULL PRIMARY KEY,
            namespace TEXT NOT NULL, flow_id TEXT NOT NULL, flow_revision INTEGER NOT NULL,
            state TEXT NOT NULL, terminal INTEGER NOT NULL, start_date INTEGER NOT NULL, end_date INTEGER,
            parent_id TEXT, original_id TEXT, trigger_id TEXT, trigger_type TEXT, labels TEXT,
            deleted INTEGER NOT NULL DEFAULT 0,
            header TEXT NOT NULL);
        CREATE INDEX ix_executions_start ON executions (start_date, id);
        CREATE INDEX ix_executions_namespace ON executions (namespace, start_date);
        CREATE INDEX ix_executions_flow ON executions (namespace, flow_id, start_date);
        CREATE INDEX ix_executions_flow_state ON executions (namespace, flow_id, state, start_date);
        CREATE INDEX ix_executions_state ON executions (state, start_date);
        CREATE INDEX ix_executions_unfinished ON executions (start_date) WHERE terminal = 0;
        CREATE INDEX ix_executions_parent ON executions (parent_id, start_date) WHERE parent_id IS NOT NULL;

        CREATE TABLE execution_labels (
            execution_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
            PRIMARY KEY (execution_id, key)) WITHOUT ROWID;
        CREATE INDEX ix_execution_labels ON execution_labels (key, value, execution_id);

        CREATE TABLE task_runs (
            execution_id TEXT NOT NULL, id TEXT NOT NULL, position INTEGER NOT NULL, data TEXT NOT NULL,
            PRIMARY KEY (execution_id, id)) WITHOUT ROWID;

        CREATE TABLE timers (
            id TEXT NOT NULL PRIMARY KEY, execution_id TEXT NOT NULL, kind TEXT, task_run_id TEXT, due_at INTEGER NOT NULL);
        CREATE INDEX ix_timers_execution ON timers (execution_id);

        CREATE TABLE logs (
            seq INTEGER PRIMARY KEY, execution_id TEXT NOT NULL, namespace TEXT NOT NULL, flow_id TEXT NOT NULL,
            task_run_id TEXT, task_id TEXT, attempt INTEGER, trigger_id TEXT, timestamp INTEGER NOT NULL,
            level INTEGER NOT NULL, message TEXT NOT NULL, thread TEXT);
        CREATE INDEX ix_logs_execution ON logs (execution_id, seq);

        CREATE TABLE kv (
            namespace TEXT NOT NULL, key TEXT NOT NULL, value TEXT, updated INTEGER NOT NULL, expires_at INTEGER,
            PRIMARY KEY (namespace, key)) WITHOUT ROWID;
        """,

        // 2: trigger state (schedules: last/next fire; enable/disable override; Flow trigger preconditions)
        """
        CREATE TABLE trigger_states (
            namespace TEXT NOT NULL, flow_id TEXT NOT NULL, trigger_id TEXT NOT NULL,
            last_fire INTEGER, next_fire INTEGER, last_execution_id TEXT, disabled INTEGER, data TEXT, updated INTEGER NOT NULL,
            PRIMARY KEY (namespace, flow_id, trigger_id)) WITHOUT ROWID;
        """,

        // 3: task run metrics (counters and timers, Kestra's MetricEntry)
        """
        CREATE TABLE metrics (
            seq INTEGER PRIMARY KEY, execution_id TEXT NOT NULL, namespace TEXT NOT NULL, flow_id TEXT NOT NULL,
            task_id TEXT, task_run_id TEXT, type TEXT NOT NULL, name TEXT NOT NULL, value REAL NOT NULL,
            timestamp INTEGER NOT NULL, tags TEXT);
        CREATE INDEX ix_metrics_execution ON metrics (execution_id, seq);
        """,

        // 4: list indexes for the executions list with 100,000+ rows (issue 8: under 300 ms). Partial on deleted = 0 (every
        // list query has that term) and covering every filter column, so ordering, filtering, OFFSET and COUNT(*) walk one
        // index without touching the table rows (which carry the header JSON); the page's rows are then read by rowid.
        // They replace the five list indexes of version 1, which lacked deleted and id (a table lookup per skipped row).
        """
        CREATE INDEX ix_executions_list ON executions (start_date, id, namespace, flow_id, state, end_date) WHERE deleted = 0;
        CREATE INDEX ix_executions_list_namespace ON executions (namespace, start_date, id, flow_id, state, end_date) WHERE deleted = 0;
        CREATE INDEX ix_executions_list_flow ON executions (namespace, flow_id, start_date, id, state, end_date) WHERE deleted = 0;
        CREATE INDEX ix_executions_list_state ON executions (state, start_date, id, namespace, flow_id, end_date) WHERE deleted = 0;
        DROP INDEX ix_executions_start;
        DROP INDEX ix_executions_namespace;
        DROP INDEX ix_executions_flow;
        DROP INDEX ix_executions_flow_state;
        DROP INDEX ix_executions_state;
        """,
    ];

    public static int CurrentVersion => All.Length;

    public static void Apply(SqliteConnection connection)
    {
        using (var create = connection.CreateCommand())
        {
            create.CommandText = "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)";
            create.ExecuteNonQuery();
        }

        var version = Version(connection);
        if (version > All.Length)
        {
            throw new InvalidOperationException($"The database schema version {version} is newer than this Windhover ({All.Length})");
        }

        for (var i = version; i < All.Length; i++)
        {
            using var transaction = connection.BeginTransaction();
            using (var command = connection.CreateCommand())
            {
                command.Transaction = transaction;
                command.CommandText = All[i];
                command.ExecuteNonQuery();
            }

            using (var update = connection.CreateCommand())
            {
                update.Transaction = transaction;
                update.CommandText = "DELETE FROM schema_version; INSERT INTO schema_version (version) VALUES ($v)";
                update.Parameters.AddWithValue("$v", i + 1);
                update.ExecuteNonQuery();
            }

            transaction.Commit();
        }
    }

    public static int Version(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT MAX(version) FROM schema_version";
        return command.ExecuteScalar() is long v ? (int)v : 0;
    }
}

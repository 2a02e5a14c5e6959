using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Windhover.Blueprints.DevOpsCommander.Analysis;
using Windhover.Blueprints.DevOpsCommander.Telemetry;

namespace Windhover.Blueprints.DevOpsCommander.Storage;

/// <summary>
/// Everything the commander records, in one SQLite file (WAL): registered deployments, pushed telemetry, the running
/// version per service, actions (rollbacks, continues), outcomes and dashboard events. Each write is one transaction,
/// so nothing acknowledged is lost on restart.
/// </summary>
public sealed class CommanderStore
{
    private readonly string _connectionString;

    public CommanderStore(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        Path = System.IO.Path.Combine(dataDirectory, "devops-commander.db");
        _connectionString = new SqliteConnectionStringBuilder { DataSource = Path, Pooling = true, DefaultTimeout = 30 }.ToString();
        using var c = Open();
        Exec(c, """
            PRAGMA journal_mode=WAL;
            CREATE TABLE IF NOT EXISTS deployments (
              id TEXT PRIMARY KEY, service TEXT NOT NULL, version TEXT NOT NULL, previous_version TEXT,
              started_at TEXT, origin TEXT NOT NULL, ground_truth TEXT);
            CREATE TABLE IF NOT EXISTS log_lines (
              seq INTEGER PRIMARY KEY AUTOINCREMENT, deployment_id TEXT NOT NULL, time TEXT NOT NULL, level TEXT NOT NULL, message TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS log_lines_deployment ON log_lines(deployment_id, seq);
            CREATE TABLE IF NOT EXISTS metric_samples (
              seq INTEGER PRIMARY KEY AUTOINCREMENT, deployment_id TEXT NOT NULL, name TEXT NOT NULL, value REAL NOT NULL, time TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS metric_samples_deployment ON metric_samples(deployment_id, seq);
            CREATE TABLE IF NOT EXISTS service_versions (service TEXT PRIMARY KEY, version TEXT NOT NULL, updated_at TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS actions (
              id INTEGER PRIMARY KEY AUTOINCREMENT, deployment_id TEXT NOT NULL, kind TEXT NOT NULL, service TEXT NOT NULL,
              from_version TEXT NOT NULL, to_version TEXT, at TEXT NOT NULL, execution_id TEXT, reason TEXT, hook TEXT NOT NULL, hook_result TEXT);
            CREATE INDEX IF NOT EXISTS actions_deployment ON actions(deployment_id, kind);
            CREATE TABLE IF NOT EXISTS outcomes (
              id INTEGER PRIMARY KEY AUTOINCREMENT, execution_id TEXT NOT NULL UNIQUE, deployment_id TEXT NOT NULL,
              recorded_at TEXT NOT NULL, actual_outcome TEXT, body TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS dashboard_events (
              id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, kind TEXT NOT NULL, deployment_id TEXT, payload TEXT NOT NULL);
            """);
    }

    public string Path { get; }

    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    // ---- deployments

    public void UpsertDeployment(DeploymentInfo d)
    {
        using var c = Open();
        Exec(c, """
            INSERT INTO deployments (id, service, version, previous_version, started_at, origin, ground_truth)
            VALUES ($id, $service, $version, $previous, $started, $origin, $truth)
            ON CONFLICT(id) DO UPDATE SET service = excluded.service, version = excluded.version,
              previous_version = COALESCE(excluded.previous_version, deployments.previous_version),
              started_at = COALESCE(deployments.started_at, excluded.started_at),
              ground_truth = COALESCE(excluded.ground_truth, deployments.ground_truth)
            """,
            ("$id", d.Id), ("$service", d.Service), ("$version", d.Version), ("$previous", d.PreviousVersion),
            ("$started", Iso(d.StartedAt)), ("$origin", d.Origin), ("$truth", d.GroundTruth));
    }

    public DeploymentInfo? GetDeployment(string id)
    {
        using var c = Open();
        using var cmd = Command(c, "SELECT id, service, version, previous_version, started_at, origin, ground_truth FROM deployments WHERE id = $id", ("$id", id));
        using var r = cmd.ExecuteReader();
        return r.Read() ? ReadDeployment(r) : null;
    }

    public IReadOnlyList<DeploymentInfo> ListDeployments()
    {
        using var c = Open();
        using var cmd = Command(c, "SELECT id, service, version, previous_version, started_at, origin, ground_truth FROM deployments ORDER BY started_at, id");
        using var r = cmd.ExecuteReader();
        var list = new List<DeploymentInfo>();
        while (r.Read())
        {
            list.Add(ReadDeployment(r));
        }

        return list;
    }

    private static DeploymentInfo ReadDeployment(SqliteDataReader r) => new()
    {
        Id = r.GetString(0),
        Service = r.GetString(1),
        Version = r.GetString(2),
        PreviousVersion = r.IsDBNull(3) ? null : r.GetString(3),
        StartedAt = r.IsDBNull(4) ? null : ParseIso(r.GetString(4)),
        Origin = r.GetString(5),
        GroundTruth = r.IsDBNull(6) ? null : r.GetString(6),
    };

    // ---- telemetry

    public void AppendTelemetry(string deploymentId, IReadOnlyList<LogLine> logs, IReadOnlyList<MetricSample> metrics)
    {
        using var c = Open();
        using var tx = c.BeginTransaction();
        foreach (var l in logs)
        {
            Exec(c, tx, "INSERT INTO log_lines (deployment_id, time, level, message) VALUES ($d, $t, $l, $m)",
                ("$d", deploymentId), ("$t", Iso(l.Time)), ("$l", l.Level), ("$m", l.Message));
        }

        foreach (var m in metrics)
        {
            Exec(c, tx, "INSERT INTO metric_samples (deployment_id, name, value, time) VALUES ($d, $n, $v, $t)",
                ("$d", deploymentId), ("$n", m.Name), ("$v", m.Value), ("$t", Iso(m.Time)));
        }

        tx.Commit();
    }

    public IReadOnlyList<LogLine> GetLogs(string deploymentId)
    {
        using var c = Open();
        using var cmd = Command(c, "SELECT time, level, message FROM log_lines WHERE deployment_id = $d ORDER BY time, seq", ("$d", deploymentId));
        using var r = cmd.ExecuteReader();
        var list = new List<LogLine>();
        while (r.Read())
        {
            list.Add(new LogLine(ParseIso(r.GetString(0)), r.GetString(1), r.GetString(2)));
        }

        return list;
    }

    public IReadOnlyList<MetricSample> GetMetricSamples(string deploymentId)
    {
        using var c = Open();
        using var cmd = Command(c, "SELECT name, value, time FROM metric_samples WHERE deployment_id = $d ORDER BY time, seq", ("$d", deploymentId));
        using var r = cmd.ExecuteReader();
        var list = new List<MetricSample>();
        while (r.Read())
        {
            list.Add(new MetricSample(r.GetString(0), r.GetDouble(1), ParseIso(r.GetString(2))));
        }

        return list;
    }

    // ---- versions and actions

    public string? GetRunningVersion(string service)
    {
        using var c = Open();
        return Scalar(c, null, "SELECT version FROM service_versions WHERE service = $s", ("$s", service)) as string;
    }

    public void SetRunningVersion(string service, string version, DateTimeOffset at)
    {
        using var c = Open();
        Exec(c, "INSERT INTO service_versions (service, version, updated_at) VALUES ($s, $v, $a) ON CONFLICT(service) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at",
            ("$s", service), ("$v", version), ("$a", Iso(at)));
    }

    /// <summary>Records an action; for a rollback also sets the service's running version, in the same transaction.</summary>
    public DeploymentAction RecordAction(DeploymentAction a)
    {
        using var c = Open();
        using var tx = c.BeginTransaction();
        Exec(c, tx, """
            INSERT INTO actions (deployment_id, kind, service, from_version, to_version, at, execution_id, reason, hook, hook_result)
            VALUES ($d, $k, $s, $f, $t, $a, $e, $r, $h, $hr)
            """,
            ("$d", a.DeploymentId), ("$k", a.Kind), ("$s", a.Service), ("$f", a.FromVersion), ("$t", a.ToVersion), ("$a", Iso(a.At)),
            ("$e", a.ExecutionId), ("$r", a.Reason), ("$h", a.Hook), ("$hr", a.HookResult));
        var id = (long)Scalar(c, tx, "SELECT last_insert_rowid()")!;
        if (a.Kind == "rollback" && a.ToVersion is not null)
        {
            Exec(c, tx, "INSERT INTO service_versions (service, version, updated_at) VALUES ($s, $v, $a) ON CONFLICT(service) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at",
                ("$s", a.Service), ("$v", a.ToVersion), ("$a", Iso(a.At)));
        }

        tx.Commit();
        return a with { Id = id };
    }

    public IReadOnlyList<DeploymentAction> ListActions(string? deploymentId = null, string? kind = null)
    {
        using var c = Open();
        using var cmd = Command(c, """
            SELECT id, deployment_id, kind, service, from_version, to_version, at, execution_id, reason, hook, hook_result FROM actions
            WHERE ($d IS NULL OR deployment_id = $d) AND ($k IS NULL OR kind = $k) ORDER BY id
            """, ("$d", deploymentId), ("$k", kind));
        using var r = cmd.ExecuteReader();
        var list = new List<DeploymentAction>();
        while (r.Read())
        {
            list.Add(new DeploymentAction
            {
                Id = r.GetInt64(0),
                DeploymentId = r.GetString(1),
                Kind = r.GetString(2),
                Service = r.GetString(3),
                FromVersion = r.GetString(4),
                ToVersion = r.IsDBNull(5) ? null : r.GetString(5),
                At = ParseIso(r.GetString(6)),
                ExecutionId = r.IsDBNull(7) ? null : r.GetString(7),
                Reason = r.IsDBNull(8) ? null : r.GetString(8),
                Hook = r.GetString(9),
                HookResult = r.IsDBNull(10) ? null : r.GetString(10),
            });
        }

        return list;
    }

    // ---- outcomes

    /// <summary>Inserts, or replaces the record of the same execution (a retried task records once).</summary>
    public OutcomeRecord UpsertOutcome(OutcomeRecord o)
    {
        using var c = Open();
        using var tx = c.BeginTransaction();
        Exec(c, tx, """
            INSERT INTO outcomes (execution_id, deployment_id, recorded_at, actual_outcome, body) VALUES ($e, $d, $a, $o, $b)
            ON CONFLICT(execution_id) DO UPDATE SET deployment_id = excluded.deployment_id, recorded_at = excluded.recorded_at,
              actual_outcome = COALESCE(excluded.actual_outcome, outcomes.actual_outcome), body = excluded.body
            """,
            ("$e", o.ExecutionId), ("$d", o.DeploymentId), ("$a", Iso(o.RecordedAt)), ("$o", o.ActualOutcome), ("$b", JsonSerializer.Serialize(o, Json)));
        var id = (long)Scalar(c, tx, "SELECT id FROM outcomes WHERE execution_id = $e", ("$e", o.ExecutionId))!;
        tx.Commit();
        return GetOutcome(o.ExecutionId) ?? o with { Id = id };
    }

    public OutcomeRecord? GetOutcome(string executionId) => QueryOutcomes("WHERE execution_id = $e", ("$e", executionId)).FirstOrDefault();

    public IReadOnlyList<OutcomeRecord> ListOutcomes() => QueryOutcomes("");

    /// <summary>Sets the actual outcome of every outcome of a deployment that has none yet; returns how many changed.</summary>
    public int VerifyDeployment(string deploymentId, string actual, DateTimeOffset at) =>
        Verify("deployment_id = $k", deploymentId, actual, at);

    public int VerifyExecution(string executionId, string actual, DateTimeOffset at) =>
        Verify("execution_id = $k", executionId, actual, at);

    private int Verify(string where, string key, string actual, DateTimeOffset at)
    {
        var changed = 0;
        foreach (var o in QueryOutcomes("WHERE " + where, ("$k", key)))
        {
            var updated = o with { ActualOutcome = actual, VerifiedAt = at };
            using var c = Open();
            Exec(c, "UPDATE outcomes SET actual_outcome = $o, body = $b WHERE id = $id",
                ("$o", actual), ("$b", JsonSerializer.Serialize(updated, Json)), ("$id", o.Id));
            changed++;
        }

        return changed;
    }

    private List<OutcomeRecord> QueryOutcomes(string where, params (string, object?)[] args)
    {
        using var c = Open();
        using var cmd = Command(c, $"SELECT id, body FROM outcomes {where} ORDER BY id", args);
        using var r = cmd.ExecuteReader();
        var list = new List<OutcomeRecord>();
        while (r.Read())
        {
            var o = JsonSerializer.Deserialize<OutcomeRecord>(r.GetString(1), Json)!;
            list.Add(o with { Id = r.GetInt64(0) });
        }

        return list;
    }

    // ---- dashboard events

    public DashboardEvent AppendEvent(DateTimeOffset at, string kind, string? deploymentId, JsonObject payload)
    {
        using var c = Open();
        Exec(c, "INSERT INTO dashboard_events (at, kind, deployment_id, payload) VALUES ($a, $k, $d, $p)",
            ("$a", Iso(at)), ("$k", kind), ("$d", deploymentId), ("$p", payload.ToJsonString()));
        var id = (long)Scalar(c, null, "SELECT last_insert_rowid()")!;
        return new DashboardEvent(id, at, kind, deploymentId, payload);
    }

    public IReadOnlyList<DashboardEvent> ListEvents(long afterId = 0, int limit = 200)
    {
        using var c = Open();
        using var cmd = Command(c, "SELECT id, at, kind, deployment_id, payload FROM dashboard_events WHERE id > $a ORDER BY id DESC LIMIT $l", ("$a", afterId), ("$l", limit));
        using var r = cmd.ExecuteReader();
        var list = new List<DashboardEvent>();
        while (r.Read())
        {
            list.Add(new DashboardEvent(r.GetInt64(0), ParseIso(r.GetString(1)), r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3),
                JsonNode.Parse(r.GetString(4)) as JsonObject ?? []));
        }

        list.Reverse();
        return list;
    }

    // ---- plumbing

    private SqliteConnection Open()
    {
        var c = new SqliteConnection(_connectionString);
        c.Open();
        return c;
    }

    private static SqliteCommand Command(SqliteConnection c, string sql, params (string Name, object? Value)[] args) => Command(c, null, sql, args);

    private static SqliteCommand Command(SqliteConnection c, SqliteTransaction? tx, string sql, params (string Name, object? Value)[] args)
    {
        var cmd = c.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        foreach (var (name, value) in args)
        {
            cmd.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return cmd;
    }

    private static void Exec(SqliteConnection c, string sql, params (string, object?)[] args) => Exec(c, null, sql, args);

    private static void Exec(SqliteConnection c, SqliteTransaction? tx, string sql, params (string, object?)[] args)
    {
        using var cmd = Command(c, tx, sql, args);
        cmd.ExecuteNonQuery();
    }

    private static object? Scalar(SqliteConnection c, SqliteTransaction? tx, string sql, params (string, object?)[] args)
    {
        using var cmd = Command(c, tx, sql, args);
        return cmd.ExecuteScalar();
    }

    private static string? Iso(DateTimeOffset? t) => t?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static DateTimeOffset ParseIso(string s) => DateTimeOffset.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
}

using System.Globalization;
using Microsoft.Data.Sqlite;
using Windhover.Blueprints.Arena.Model;

namespace Windhover.Blueprints.Arena.Storage;

/// <summary>
/// SQLite persistence of everything the arena knows (one file under the data folder, WAL mode). Entities are stored as JSON
/// documents next to the columns that are queried. Writes are serialised by one lock: the arena writes a few rows per round,
/// so simplicity wins over write concurrency.
/// </summary>
public sealed class ArenaStore : IDisposable
{
    private readonly string _connectionString;
    private readonly Lock _gate = new();
    private readonly SqliteConnection _keepAlive;

    public ArenaStore(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        DatabasePath = Path.Combine(dataDirectory, "arena.db");
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = DatabasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Shared,
            Pooling = true,
        }.ToString();
        _keepAlive = Open();
        Execute(_keepAlive, """
            PRAGMA journal_mode=WAL;
            PRAGMA synchronous=NORMAL;
            CREATE TABLE IF NOT EXISTS agents (id TEXT PRIMARY KEY, type TEXT NOT NULL, created TEXT NOT NULL, json TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS agent_versions (agent_id TEXT NOT NULL, version INTEGER NOT NULL, json TEXT NOT NULL, PRIMARY KEY (agent_id, version));
            CREATE TABLE IF NOT EXISTS matches (id TEXT PRIMARY KEY, created TEXT NOT NULL, status TEXT NOT NULL, json TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS matches_created ON matches(created);
            CREATE TABLE IF NOT EXISTS rounds (match_id TEXT NOT NULL, number INTEGER NOT NULL, json TEXT NOT NULL, PRIMARY KEY (match_id, number));
            CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, match_id TEXT NOT NULL, json TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS events_match ON events(match_id, seq);
            CREATE TABLE IF NOT EXISTS alerts (id TEXT PRIMARY KEY, created TEXT NOT NULL, json TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS datasets (id TEXT PRIMARY KEY, created TEXT NOT NULL, json TEXT NOT NULL, records TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, created TEXT NOT NULL, json TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS detector_models (id TEXT PRIMARY KEY, created TEXT NOT NULL, json TEXT NOT NULL);
            """);
    }

    public string DatabasePath { get; }

    private SqliteConnection Open()
    {
        var c = new SqliteConnection(_connectionString);
        c.Open();
        Execute(c, "PRAGMA busy_timeout=5000;");
        return c;
    }

    private static void Execute(SqliteConnection c, string sql, params (string Name, object? Value)[] args)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        foreach (var (n, v) in args)
        {
            cmd.Parameters.AddWithValue(n, v ?? DBNull.Value);
        }

        cmd.ExecuteNonQuery();
    }

    private void Write(string sql, params (string Name, object? Value)[] args)
    {
        lock (_gate)
        {
            using var c = Open();
            Execute(c, sql, args);
        }
    }

    private List<string> Query(string sql, params (string Name, object? Value)[] args)
    {
        lock (_gate)
        {
            using var c = Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = sql;
            foreach (var (n, v) in args)
            {
                cmd.Parameters.AddWithValue(n, v ?? DBNull.Value);
            }

            var list = new List<string>();
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                list.Add(r.GetString(0));
            }

            return list;
        }
    }

    private long Scalar(string sql, params (string Name, object? Value)[] args)
    {
        lock (_gate)
        {
            using var c = Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = sql;
            foreach (var (n, v) in args)
            {
                cmd.Parameters.AddWithValue(n, v ?? DBNull.Value);
            }

            return Convert.ToInt64(cmd.ExecuteScalar() ?? 0L, CultureInfo.InvariantCulture);
        }
    }

    private static string Date(DateTimeOffset d) => d.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);

    // ---- agents

    public void UpsertAgent(Agent agent)
    {
        var json = ArenaJson.Serialize(agent);
        lock (_gate)
        {
            using var c = Open();
            using var tx = c.BeginTransaction();
            Execute(c, "INSERT INTO agents(id, type, created, json) VALUES($id, $type, $created, $json) ON CONFLICT(id) DO UPDATE SET type=$type, json=$json",
                ("$id", agent.Id), ("$type", agent.Type), ("$created", Date(agent.CreatedAt)), ("$json", json));
            Execute(c, "INSERT OR REPLACE INTO agent_versions(agent_id, version, json) VALUES($id, $v, $json)",
                ("$id", agent.Id), ("$v", agent.Version), ("$json", json));
            tx.Commit();
        }
    }

    public Agent? GetAgent(string id) =>
        Query("SELECT json FROM agents WHERE id=$id", ("$id", id)).Select(ArenaJson.Deserialize<Agent>).FirstOrDefault();

    public IReadOnlyList<Agent> ListAgents(string? type) =>
        Query("SELECT json FROM agents WHERE ($type IS NULL OR type=$type) ORDER BY created, id", ("$type", type))
            .Select(ArenaJson.Deserialize<Agent>).ToList();

    public IReadOnlyList<Agent> AgentVersions(string id) =>
        Query("SELECT json FROM agent_versions WHERE agent_id=$id ORDER BY version", ("$id", id)).Select(ArenaJson.Deserialize<Agent>).ToList();

    public bool DeleteAgent(string id)
    {
        var exists = Scalar("SELECT COUNT(*) FROM agents WHERE id=$id", ("$id", id)) > 0;
        Write("DELETE FROM agents WHERE id=$id", ("$id", id));
        return exists;
    }

    // ---- matches

    public void SaveMatch(Match match) =>
        Write("INSERT INTO matches(id, created, status, json) VALUES($id, $created, $status, $json) ON CONFLICT(id) DO UPDATE SET status=$status, json=$json",
            ("$id", match.Id), ("$created", Date(match.CreatedAt)), ("$status", match.Status), ("$json", ArenaJson.Serialize(match)));

    public Match? GetMatch(string id) =>
        Query("SELECT json FROM matches WHERE id=$id", ("$id", id)).Select(ArenaJson.Deserialize<Match>).FirstOrDefault();

    public IReadOnlyList<Match> ListMatches(int limit, int offset, string? status = null) =>
        Query("SELECT json FROM matches WHERE ($status IS NULL OR status=$status) ORDER BY created DESC, id DESC LIMIT $limit OFFSET $offset",
            ("$status", status), ("$limit", limit), ("$offset", offset)).Select(ArenaJson.Deserialize<Match>).ToList();

    public IReadOnlyList<Match> MatchesOfBatch(string batchId) =>
        Query("SELECT json FROM matches WHERE json_extract(json, '$.batchId')=$b ORDER BY created, id", ("$b", batchId)).Select(ArenaJson.Deserialize<Match>).ToList();

    public long CountMatches(string? status = null) =>
        Scalar("SELECT COUNT(*) FROM matches WHERE ($status IS NULL OR status=$status)", ("$status", status));

    public IReadOnlyList<Match> UnfinishedMatches() =>
        Query("SELECT json FROM matches WHERE status IN ('pending','running','paused') ORDER BY created").Select(ArenaJson.Deserialize<Match>).ToList();

    /// <summary>Stores a round and the match state after it in one transaction.</summary>
    public void SaveRound(Round round, Match match)
    {
        lock (_gate)
        {
            using var c = Open();
            using var tx = c.BeginTransaction();
            Execute(c, "INSERT OR REPLACE INTO rounds(match_id, number, json) VALUES($m, $n, $json)",
                ("$m", round.MatchId), ("$n", round.Number), ("$json", ArenaJson.Serialize(round)));
            Execute(c, "UPDATE matches SET status=$status, json=$json WHERE id=$id",
                ("$id", match.Id), ("$status", match.Status), ("$json", ArenaJson.Serialize(match)));
            tx.Commit();
        }
    }

    public IReadOnlyList<Round> Rounds(string matchId) =>
        Query("SELECT json FROM rounds WHERE match_id=$m ORDER BY number", ("$m", matchId)).Select(ArenaJson.Deserialize<Round>).ToList();

    // ---- events

    public MatchEvent AppendEvent(MatchEvent e)
    {
        lock (_gate)
        {
            using var c = Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "INSERT INTO events(match_id, json) VALUES($m, $json); SELECT last_insert_rowid();";
            cmd.Parameters.AddWithValue("$m", e.MatchId);
            cmd.Parameters.AddWithValue("$json", ArenaJson.Serialize(e));
            var seq = Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
            var stored = e with { Seq = seq };
            Execute(c, "UPDATE events SET json=$json WHERE seq=$seq", ("$seq", seq), ("$json", ArenaJson.Serialize(stored)));
            return stored;
        }
    }

    public IReadOnlyList<MatchEvent> Events(string matchId, long afterSeq, int limit) =>
        Query("SELECT json FROM events WHERE match_id=$m AND seq>$after ORDER BY seq LIMIT $limit",
            ("$m", matchId), ("$after", afterSeq), ("$limit", limit)).Select(ArenaJson.Deserialize<MatchEvent>).ToList();

    public IReadOnlyList<MatchEvent> RecentEvents(int limit) =>
        Query("SELECT json FROM (SELECT seq, json FROM events ORDER BY seq DESC LIMIT $limit) ORDER BY seq", ("$limit", limit))
            .Select(ArenaJson.Deserialize<MatchEvent>).ToList();

    // ---- alerts

    public void SaveAlert(Alert alert) =>
        Write("INSERT OR REPLACE INTO alerts(id, created, json) VALUES($id, $c, $json)",
            ("$id", alert.Id), ("$c", Date(alert.CreatedAt)), ("$json", ArenaJson.Serialize(alert)));

    public Alert? GetAlert(string id) =>
        Query("SELECT json FROM alerts WHERE id=$id", ("$id", id)).Select(ArenaJson.Deserialize<Alert>).FirstOrDefault();

    public IReadOnlyList<Alert> ListAlerts(int limit) =>
        Query("SELECT json FROM alerts ORDER BY created DESC, id DESC LIMIT $limit", ("$limit", limit)).Select(ArenaJson.Deserialize<Alert>).ToList();

    // ---- datasets

    public void SaveDataset(Dataset dataset, IReadOnlyList<DatasetRecord> records) =>
        Write("INSERT OR REPLACE INTO datasets(id, created, json, records) VALUES($id, $c, $json, $records)",
            ("$id", dataset.Id), ("$c", Date(dataset.CreatedAt)), ("$json", ArenaJson.Serialize(dataset)), ("$records", ArenaJson.Serialize(records)));

    public Dataset? GetDataset(string id) =>
        Query("SELECT json FROM datasets WHERE id=$id", ("$id", id)).Select(ArenaJson.Deserialize<Dataset>).FirstOrDefault();

    public IReadOnlyList<DatasetRecord>? DatasetRecords(string id) =>
        Query("SELECT records FROM datasets WHERE id=$id", ("$id", id)).Select(ArenaJson.Deserialize<List<DatasetRecord>>).FirstOrDefault();

    public IReadOnlyList<Dataset> ListDatasets(int limit) =>
        Query("SELECT json FROM datasets ORDER BY created DESC, id DESC LIMIT $limit", ("$limit", limit)).Select(ArenaJson.Deserialize<Dataset>).ToList();

    // ---- fine-tune jobs

    public void SaveJob(FineTuneJob job) =>
        Write("INSERT OR REPLACE INTO jobs(id, created, json) VALUES($id, $c, $json)",
            ("$id", job.JobId), ("$c", Date(job.CreatedAt)), ("$json", ArenaJson.Serialize(job)));

    public FineTuneJob? GetJob(string id) =>
        Query("SELECT json FROM jobs WHERE id=$id", ("$id", id)).Select(ArenaJson.Deserialize<FineTuneJob>).FirstOrDefault();

    public IReadOnlyList<FineTuneJob> ListJobs(int limit) =>
        Query("SELECT json FROM jobs ORDER BY created DESC, id DESC LIMIT $limit", ("$limit", limit)).Select(ArenaJson.Deserialize<FineTuneJob>).ToList();

    // ---- trained detector models (JSON of Training.DetectorModel)

    public void SaveDetectorModel(string id, string json, DateTimeOffset created) =>
        Write("INSERT OR REPLACE INTO detector_models(id, created, json) VALUES($id, $c, $json)", ("$id", id), ("$c", Date(created)), ("$json", json));

    public string? GetDetectorModel(string id) => Query("SELECT json FROM detector_models WHERE id=$id", ("$id", id)).FirstOrDefault();

    public void Dispose()
    {
        _keepAlive.Dispose();
    }
}

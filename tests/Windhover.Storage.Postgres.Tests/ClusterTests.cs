using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Npgsql;

namespace Windhover.Storage.Postgres.Tests;

/// <summary>
/// Nodes as real processes of the built CLI over one PostgreSQL database (fresh per test): throughput without loss or
/// duplicates, and the faults of issue 9 (a worker killed mid-task, the scheduler leader killed, PostgreSQL restarted).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ClusterTests(Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>Short lease and stall times so that fault tests finish in seconds.</summary>
    private static readonly string[] FastFaults = ["--lease-timeout", "3", "--stall-after", "6"];

    private readonly List<NodeProcess> _nodes = [];
    private TestDatabase? _database;

    private string ConnectionString => _database!.ConnectionString;

    public async Task InitializeAsync()
    {
        if (TestDatabase.Available)
        {
            _database = await TestDatabase.CreateAsync();
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }

        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }

    private async Task<List<NodeProcess>> StartNodesAsync(int count, string role = "standalone", params string[] options)
    {
        Assert.True(_database is not null, $"{TestDatabase.Variable} is not set but CI=true: PostgreSQL tests must run in CI");
        // The first node migrates alone; the others start together.
        var first = await NodeProcess.StartAsync(role, ConnectionString, options);
        _nodes.Add(first);
        var rest = await Task.WhenAll(Enumerable.Range(1, count - 1).Select(_ => NodeProcess.StartAsync(role, ConnectionString, options)));
        _nodes.AddRange(rest);
        return [first, .. rest];
    }

    private static async Task DeployAsync(NodeProcess node, string yaml)
    {
        using var content = new StringContent(yaml, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-yaml");
        using var response = await node.Http.PostAsync("/api/v1/flows", content);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task<string> ExecuteAsync(NodeProcess node, string ns, string flowId)
    {
        using var response = await node.Http.PostAsync($"/api/v1/executions/{ns}/{flowId}", null);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("id").GetString()!;
    }

    private async Task<T> QueryAsync<T>(string sql, params object[] parameters)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
        {
            command.Parameters.AddWithValue(parameter);
        }

        var value = await command.ExecuteScalarAsync();
        return value is DBNull or null ? default! : (T)Convert.ChangeType(value, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    private async Task<List<string>> ListAsync(string sql, params object[] parameters)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
        {
            command.Parameters.AddWithValue(parameter);
        }

        var list = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            list.Add(string.Join(" ", Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "null" : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture))));
        }

        return list;
    }

    /// <summary>Waits until <paramref name="expected"/> executions are terminal (or the timeout).</summary>
    private async Task<long> WaitForTerminalAsync(long expected, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        long terminal;
        do
        {
            terminal = await QueryAsync<long>("SELECT COUNT(*) FROM executions WHERE terminal");
            if (terminal >= expected)
            {
                return terminal;
            }

            await Task.Delay(250);
        }
        while (DateTime.UtcNow < deadline);
        return terminal;
    }

    private string Diagnostics() => string.Join("\n---\n", _nodes.Select(n => $"node {n.Pid} (exited: {n.Exited}):\n{Tail(n.Output, 3000)}"));

    private static string Tail(string text, int length) => text.Length <= length ? text : text[^length..];

    private const string FiveTasks = """
        id: five
        namespace: cluster.test
        tasks:
          - id: t1
            type: io.kestra.plugin.core.debug.Return
            format: "one"
          - id: t2
            type: io.kestra.plugin.core.log.Log
            message: "{{ outputs.t1.value }}"
          - id: t3
            type: io.kestra.plugin.core.debug.Return
            format: "three"
          - id: t4
            type: io.kestra.plugin.core.log.Log
            message: "four"
          - id: t5
            type: io.kestra.plugin.core.output.OutputValues
            values:
              x: "{{ outputs.t3.value }}"
        """;

    [PostgresFact]
    public async Task Three_nodes_run_1000_executions_of_a_five_task_flow_none_lost_none_twice()
    {
        const int Executions = 1000;
        var nodes = await StartNodesAsync(3);
        await DeployAsync(nodes[0], FiveTasks);

        using var gate = new SemaphoreSlim(24);
        var ids = await Task.WhenAll(Enumerable.Range(0, Executions).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                return await ExecuteAsync(nodes[i % nodes.Count], "cluster.test", "five");
            }
            finally
            {
                gate.Release();
            }
        }));
        Assert.Equal(Executions, ids.Distinct().Count());

        var terminal = await WaitForTerminalAsync(Executions, TimeSpan.FromMinutes(3));
        Assert.True(terminal == Executions, $"{terminal}/{Executions} terminal\n{Diagnostics()}");

        // none lost: every execution is stored and ended SUCCESS
        Assert.Equal(Executions, await QueryAsync<long>("SELECT COUNT(*) FROM executions WHERE state = 'SUCCESS' AND id = ANY($1)", [ids]));
        // none finished twice: one SUCCESS in each state history, five task runs of one attempt each, each log line once
        Assert.Empty(await ListAsync("""
            SELECT id FROM executions e
            WHERE (SELECT COUNT(*) FROM jsonb_array_elements(e.header::jsonb -> 'state' -> 'histories') h WHERE h ->> 'state' = 'SUCCESS') <> 1
            """));
        Assert.Empty(await ListAsync("SELECT execution_id FROM task_runs GROUP BY execution_id HAVING COUNT(*) <> 5"));
        Assert.Empty(await ListAsync("SELECT execution_id, id FROM task_runs WHERE jsonb_array_length(data::jsonb -> 'attempts') <> 1 OR data::jsonb -> 'state' ->> 'current' <> 'SUCCESS'"));
        // A lease that lapsed under load (the machine too busy to renew it in time) is allowed, as long as no task ran
        // twice (asserted above and by the logs below); the warnings are kept in the test output.
        foreach (var warning in _nodes.SelectMany(n => n.Output.Split('\n')).Where(l => l.StartsWith("warn", StringComparison.Ordinal) || l.StartsWith("fail", StringComparison.Ordinal)))
        {
            output.WriteLine(warning);
        }

        Assert.Equal(Executions, await QueryAsync<long>("SELECT COUNT(*) FROM logs WHERE task_id = 't2' AND message = 'one'"));
        Assert.Equal(Executions, await QueryAsync<long>("SELECT COUNT(DISTINCT execution_id) FROM logs WHERE task_id = 't2' AND message = 'one'"));
        // every node's workers took part, and the queue holds nothing once all ended
        Assert.Equal(3, await QueryAsync<long>("SELECT COUNT(DISTINCT data::jsonb -> 'attempts' -> 0 ->> 'workerId') FROM task_runs"));
        Assert.Equal(0, await QueryAsync<long>("SELECT COUNT(*) FROM task_queue"));
    }

    private static int PidOf(string nodeId) => int.Parse(nodeId.Split('/')[1], System.Globalization.CultureInfo.InvariantCulture);

    [PostgresFact]
    public async Task A_worker_killed_mid_task_loses_its_lease_and_another_node_completes_the_execution()
    {
        var nodes = await StartNodesAsync(3, options: FastFaults);
        await DeployAsync(nodes[0], """
            id: slow
            namespace: cluster.test
            tasks:
              - id: sleep
                type: io.kestra.plugin.core.flow.Sleep
                duration: PT5S
              - id: after
                type: io.kestra.plugin.core.log.Log
                message: done
            """);
        var id = await ExecuteAsync(nodes[0], "cluster.test", "slow");

        // the node whose worker leases the sleeping task run
        string? worker = null;
        for (var i = 0; i < 200 && worker is null; i++)
        {
            worker = await QueryAsync<string>("""
                SELECT q.worker_id FROM task_queue q JOIN task_runs t ON t.id = q.task_run_id
                WHERE q.execution_id = $1 AND q.worker_id IS NOT NULL AND t.data::jsonb -> 'state' ->> 'current' = 'RUNNING'
                """, id);
            await Task.Delay(100);
        }

        Assert.True(worker is not null, $"the task run was never leased\n{Diagnostics()}");
        var victim = nodes.Single(n => n.Pid == PidOf(worker));
        victim.Kill();

        var terminal = await WaitForTerminalAsync(1, TimeSpan.FromSeconds(60));
        Assert.True(terminal == 1, $"the execution did not end after its worker was killed\n{Diagnostics()}");
        Assert.Equal("SUCCESS", await QueryAsync<string>("SELECT state FROM executions WHERE id = $1", id));
        var sleepWorker = await QueryAsync<string>("SELECT data::jsonb -> 'attempts' -> -1 ->> 'workerId' FROM task_runs WHERE execution_id = $1 AND data::jsonb ->> 'taskId' = 'sleep'", id);
        Assert.NotEqual(worker, sleepWorker);
        Assert.Contains(nodes.Where(n => n != victim), n => n.Pid == PidOf(sleepWorker));
        Assert.Equal(1, await QueryAsync<long>("SELECT COUNT(*) FROM logs WHERE execution_id = $1 AND task_id = 'after' AND message = 'done'", id));
        Assert.Contains(nodes.Where(n => n != victim), n => n.Output.Contains("claimed again", StringComparison.Ordinal));
    }

    [PostgresFact]
    public async Task A_schedule_every_second_fires_once_per_tick_across_nodes_and_through_a_leader_kill()
    {
        var nodes = await StartNodesAsync(3, options: FastFaults);
        await DeployAsync(nodes[0], """
            id: ticker
            namespace: cluster.test
            triggers:
              - id: every-second
                type: io.kestra.plugin.core.trigger.Schedule
                cron: "* * * * * *"
                withSeconds: true
                recoverMissedSchedules: ALL
            tasks:
              - id: log
                type: io.kestra.plugin.core.log.Log
                message: "{{ trigger.date }}"
            """);
        var started = DateTimeOffset.UtcNow;
        await Task.Delay(TimeSpan.FromSeconds(12));

        // the leader holds the session advisory lock; its connection is named after its node id
        var leader = await QueryAsync<string>("""
            SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND a.application_name LIKE 'windhover %' AND a.datname = current_database()
            """);
        Assert.True(leader is not null, $"no scheduler leader\n{Diagnostics()}");
        var victim = nodes.Single(n => n.Pid == PidOf(leader["windhover ".Length..]));
        var killedAt = DateTimeOffset.UtcNow;
        victim.Kill();
        await Task.Delay(TimeSpan.FromSeconds(18));
        var cutoff = DateTimeOffset.UtcNow - TimeSpan.FromSeconds(3);

        var ticks = (await ListAsync("SELECT header::jsonb -> 'trigger' -> 'variables' ->> 'date' FROM executions WHERE flow_id = 'ticker'"))
            .Select(d => DateTimeOffset.Parse(d, System.Globalization.CultureInfo.InvariantCulture)).Where(d => d <= cutoff).Order().ToList();
        Assert.True(ticks.Count >= 25, $"{ticks.Count} ticks in ~{(cutoff - started).TotalSeconds:F0} s\n{Diagnostics()}");
        // one execution per tick: no duplicate
        Assert.Equal(ticks.Count, ticks.Distinct().Count());
        // none missed, before, across and after the leader's death
        for (var i = 1; i < ticks.Count; i++)
        {
            Assert.True(ticks[i] - ticks[i - 1] == TimeSpan.FromSeconds(1), $"gap between {ticks[i - 1]:O} and {ticks[i]:O} (leader killed at {killedAt:O})");
        }

        Assert.True(ticks[^1] >= killedAt + TimeSpan.FromSeconds(10), $"no ticks after the leader was killed at {killedAt:O}; last {ticks[^1]:O}\n{Diagnostics()}");
        var newLeader = await QueryAsync<string>("""
            SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND a.application_name LIKE 'windhover %' AND a.datname = current_database()
            """);
        Assert.NotEqual(leader, newLeader);
    }

    /// <summary>
    /// The webserver node creates the execution; only the worker node runs its task runs and applies their results.
    /// The webserver's follow stream still ends with what the worker node applied, and its metrics API returns what the
    /// worker node's tasks recorded.
    /// </summary>
    [PostgresFact]
    public async Task A_webserver_node_follows_and_reads_the_metrics_of_an_execution_a_worker_node_runs()
    {
        var webserver = (await StartNodesAsync(1, "webserver"))[0];
        var worker = await NodeProcess.StartAsync("worker", ConnectionString);
        _nodes.Add(worker);
        await DeployAsync(webserver, """
            id: watched
            namespace: cluster.test
            tasks:
              - id: r
                type: io.kestra.plugin.core.debug.Return
                format: hello
              - id: wait
                type: io.kestra.plugin.core.flow.Sleep
                duration: PT1S
            """);
        var id = await ExecuteAsync(webserver, "cluster.test", "watched");

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/executions/{id}/follow");
        using var response = await webserver.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        string? eventName = null;
        JsonElement? end = null;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (end is null && await reader.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith("event:", StringComparison.Ordinal))
            {
                eventName = line["event:".Length..].Trim();
            }
            else if (line.StartsWith("data:", StringComparison.Ordinal) && eventName == "end")
            {
                end = JsonDocument.Parse(line["data:".Length..]).RootElement.Clone();
            }
        }

        Assert.True(end is not null, $"the follow stream ended without an end event\n{Diagnostics()}");
        Assert.Equal("SUCCESS", end.Value.GetProperty("state").GetProperty("current").GetString());
        var runs = end.Value.GetProperty("taskRunList").EnumerateArray().ToList();
        Assert.Equal(["r", "wait"], runs.Select(r => r.GetProperty("taskId").GetString()));
        Assert.All(runs, r => Assert.Equal("SUCCESS", r.GetProperty("state").GetProperty("current").GetString()));
        // the webserver has no worker: the worker node ran the task runs (and applied their results)
        Assert.All(runs, r => Assert.Equal(worker.Pid, PidOf(r.GetProperty("attempts")[0].GetProperty("workerId").GetString()!)));

        var metrics = JsonDocument.Parse(await webserver.Http.GetStringAsync($"/api/v1/metrics/{id}")).RootElement;
        var length = Assert.Single(metrics.GetProperty("results").EnumerateArray(), m => m.GetProperty("name").GetString() == "length");
        Assert.Equal(5, length.GetProperty("value").GetDouble());
        Assert.Equal(runs[0].GetProperty("id").GetString(), length.GetProperty("taskRunId").GetString());
    }

    [PostgresFact]
    public async Task A_flow_concurrency_limit_holds_across_nodes()
    {
        var nodes = await StartNodesAsync(3, options: FastFaults);
        await DeployAsync(nodes[0], """
            id: one-at-a-time
            namespace: cluster.test
            concurrency:
              limit: 1
              behavior: QUEUE
            tasks:
              - id: sleep
                type: io.kestra.plugin.core.flow.Sleep
                duration: PT1S
            """);
        var ids = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => ExecuteAsync(nodes[i % nodes.Count], "cluster.test", "one-at-a-time")));
        var terminal = await WaitForTerminalAsync(ids.Length, TimeSpan.FromSeconds(90));
        Assert.True(terminal == ids.Length, $"{terminal}/{ids.Length} terminal\n{Diagnostics()}");
        Assert.Equal(ids.Length, await QueryAsync<long>("SELECT COUNT(*) FROM executions WHERE state = 'SUCCESS'"));
        // the sleeps never overlap: each starts after the previous one ended
        var spans = (await ListAsync("""
            SELECT (data::jsonb -> 'state' -> 'histories' -> 0 ->> 'date'), (data::jsonb -> 'state' -> 'histories' -> -1 ->> 'date')
            FROM task_runs WHERE data::jsonb ->> 'taskId' = 'sleep'
            """)).Select(row => row.Split(' ')).Select(p => (Start: DateTimeOffset.Parse(p[0], System.Globalization.CultureInfo.InvariantCulture),
                End: DateTimeOffset.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture))).OrderBy(p => p.Start).ToList();
        Assert.Equal(ids.Length, spans.Count);
        for (var i = 1; i < spans.Count; i++)
        {
            Assert.True(spans[i].Start >= spans[i - 1].End, $"sleeps overlap: {spans[i - 1]} and {spans[i]}");
        }
    }

    [PostgresFact]
    public async Task PostgreSQL_restarted_mid_run_every_execution_completes()
    {
        // A private server (initdb from WINDHOVER_PG_BIN) so that restarting it disturbs no other test.
        await using var server = await PrivateServer.StartAsync();
        var connectionString = server.ConnectionString("postgres");
        var nodes = new List<NodeProcess> { await NodeProcess.StartAsync("standalone", connectionString, FastFaults) };
        _nodes.AddRange(nodes);
        nodes.AddRange(await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => NodeProcess.StartAsync("standalone", connectionString, FastFaults))));
        _nodes.AddRange(nodes.Skip(1));
        await DeployAsync(nodes[0], """
            id: through-restart
            namespace: cluster.test
            tasks:
              - id: sleep
                type: io.kestra.plugin.core.flow.Sleep
                duration: PT2S
              - id: log
                type: io.kestra.plugin.core.log.Log
                message: done
            """);
        const int Executions = 30;
        var ids = new List<string>();
        for (var i = 0; i < Executions; i++)
        {
            ids.Add(await ExecuteAsync(nodes[i % nodes.Count], "cluster.test", "through-restart"));
        }

        await Task.Delay(TimeSpan.FromSeconds(1));
        await server.PgCtlAsync("-m fast -w restart");
        NpgsqlConnection.ClearAllPools();

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        long succeeded;
        do
        {
            await Task.Delay(500);
            succeeded = await server.ScalarAsync<long>("SELECT COUNT(*) FROM executions WHERE state = 'SUCCESS'");
        }
        while (succeeded < Executions && DateTime.UtcNow < deadline);
        Assert.True(succeeded == Executions, $"{succeeded}/{Executions} SUCCESS after the restart\n{Diagnostics()}");
        Assert.Equal(Executions, await server.ScalarAsync<long>("SELECT COUNT(DISTINCT execution_id) FROM logs WHERE task_id = 'log' AND message = 'done'"));
        Assert.Equal(0, await server.ScalarAsync<long>("SELECT COUNT(*) FROM executions WHERE NOT terminal"));
    }
}

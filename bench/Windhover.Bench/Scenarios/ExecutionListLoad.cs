using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Windhover.Engine.Executions;
using Windhover.Engine.Serialization;
using Windhover.Engine.Stores;
using Windhover.Server.Hosting;
using Windhover.Storage.Sqlite;

namespace Windhover.Bench.Scenarios;

/// <summary>
/// The executions list of the web UI with many finished executions stored (issue 8: under 300 ms server time with
/// 100,000). Fills a SQLite file through the store's own schema in one transaction (rows exactly as
/// <see cref="SqliteExecutionStore"/> writes them), starts the real server on it and requests <c>/ui/executions</c> over
/// loopback: first page, a deep page, and filtered lists. Server time is measured by a middleware around the endpoint
/// (routing to the last byte written); the client round trip is printed beside it.
/// </summary>
internal static class ExecutionListLoad
{
    private static readonly string[] Namespaces = [.. Enumerable.Range(0, 10).Select(i => $"company.team{i}")];
    private static readonly string[] Flows = [.. Enumerable.Range(0, 10).Select(i => $"flow{i}")];

    public static async Task<int> RunAsync(string[] args)
    {
        var count = 100_000;
        var repeats = 15;
        string? keep = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--count": count = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--repeats": repeats = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--db": keep = args[++i]; break;
                default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
            }
        }

        var folder = Directory.CreateTempSubdirectory("windhover-bench-list-");
        try
        {
            var path = keep ?? Path.Combine(folder.FullName, "list.db");
            using var database = SqliteDatabase.Open(path);
            var existing = await database.CreateStores().Executions.CountAsync(new ExecutionQuery());
            if (existing < count)
            {
                var fill = Stopwatch.StartNew();
                Fill(path, existing, count - (int)existing);
                Console.WriteLine($"filled {count - existing} executions in {fill.Elapsed.TotalSeconds:0.0} s ({path})");
            }

            var end = Start.AddMinutes(count);
            var cases = new (string Name, string Url)[]
            {
                ("first page", "/ui/executions"),
                ("page 2", "/ui/executions?page=2"),
                ("deep page (last)", $"/ui/executions?page={(count + 24) / 25}"),
                ("deep page (middle)", $"/ui/executions?page={count / 50}"),
                ("namespace", "/ui/executions?namespace=company.team3"),
                ("namespace, deep page", $"/ui/executions?namespace=company.team3&page={count / 250}"),
                ("namespace prefix", "/ui/executions?namespace=company"),
                ("flow", "/ui/executions?namespace=company.team3&flowId=flow7"),
                ("flow + state FAILED", "/ui/executions?namespace=company.team3&flowId=flow7&state=FAILED"),
                ("state FAILED", "/ui/executions?state=FAILED"),
                ("state KILLED, deep page", $"/ui/executions?state=KILLED&page={count / 25 / 100}"),
                ("label env:prod", "/ui/executions?labels=env:prod"),
                ("label env:prod, page 40", "/ui/executions?labels=env:prod&page=40"),
                ("label team:ops + state FAILED", "/ui/executions?labels=team:ops&state=FAILED"),
                ("label absent (rare path)", "/ui/executions?labels=env:none"),
                ("time range (1 day)", $"/ui/executions?from={Uri.EscapeDataString(end.AddDays(-3).ToString("yyyy-MM-ddTHH:mm", CultureInfo.InvariantCulture))}&to={Uri.EscapeDataString(end.AddDays(-2).ToString("yyyy-MM-ddTHH:mm", CultureInfo.InvariantCulture))}"),
                ("home", "/ui"),
            };

            var stores = database.CreateStores();
            var timings = new ServerTimings();
            var options = new ServerOptions { Port = 0, DataPath = folder.FullName, FlowPath = null, RunTriggers = false };
            await using var app = WindhoverServer.Build(options, services =>
            {
                services.AddSingleton(stores);
                services.AddSingleton<Windhover.Engine.Triggers.ITriggerStateStore>(_ => new SqliteTriggerStateStore(database));
            }, _ => { });
            app.Use(async (context, next) =>
            {
                var started = Stopwatch.GetTimestamp();
                await next(context);
                timings.Record(Stopwatch.GetElapsedTime(started));
            });
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            using var http = new HttpClient { BaseAddress = new Uri(address) };

            Console.WriteLine($"{count} executions; {repeats} requests per case after 2 warm-ups; medians (ms)");
            Console.WriteLine($"{"case",-32} {"server",8} {"p90",8} {"client",8}  rows");
            var results = new List<object>();
            var worst = 0.0;
            foreach (var (name, url) in cases)
            {
                var client = new List<double>();
                string body = "";
                for (var i = 0; i < repeats + 2; i++)
                {
                    var started = Stopwatch.GetTimestamp();
                    using var response = await http.GetAsync(url);
                    body = await response.Content.ReadAsStringAsync();
                    response.EnsureSuccessStatusCode();
                    if (i >= 2)
                    {
                        client.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    }
                }

                var server = timings.Take().Skip(2).ToList();
                var rows = CountRows(body);
                var median = Percentile(server, 0.5);
                worst = Math.Max(worst, median);
                Console.WriteLine($"{name,-32} {median,8:0.0} {Percentile(server, 0.9),8:0.0} {Percentile(client, 0.5),8:0.0}  {rows}");
                results.Add(new { name, url, serverMedianMs = median, serverP90Ms = Percentile(server, 0.9), clientMedianMs = Percentile(client, 0.5), rows });
            }

            await app.StopAsync();
            Directory.CreateDirectory("bench-results");
            await File.WriteAllTextAsync(Path.Combine("bench-results", "execution-list.json"),
                JsonSerializer.Serialize(new { count, repeats, schema = database.SchemaVersion, cases = results }, new JsonSerializerOptions { WriteIndented = true }));
            Console.WriteLine($"slowest median {worst:0.0} ms: {(worst < 300 ? "under" : "OVER")} the 300 ms budget");
            return worst < 300 ? 0 : 1;
        }
        finally
        {
            if (keep is null)
            {
                folder.Delete(recursive: true);
            }
        }
    }

    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Finished executions, one a minute from <see cref="Start"/>, three task runs each, labels env and team.</summary>
    private static void Fill(string path, long from, int count)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        using var transaction = connection.BeginTransaction();
        using var execution = connection.CreateCommand();
        execution.Transaction = transaction;
        execution.CommandText = """
            INSERT INTO executions (id, namespace, flow_id, flow_revision, state, terminal, start_date, end_date, parent_id, original_id,
                                    trigger_id, trigger_type, labels, deleted, header)
            VALUES ($id, $ns, $flow, 1, $state, 1, $start, $end, NULL, NULL, NULL, NULL, $labels, 0, $header)
            """;
        var pId = execution.Parameters.Add("$id", SqliteType.Text);
        var pNs = execution.Parameters.Add("$ns", SqliteType.Text);
        var pFlow = execution.Parameters.Add("$flow", SqliteType.Text);
        var pState = execution.Parameters.Add("$state", SqliteType.Text);
        var pStart = execution.Parameters.Add("$start", SqliteType.Integer);
        var pEnd = execution.Parameters.Add("$end", SqliteType.Integer);
        var pLabels = execution.Parameters.Add("$labels", SqliteType.Text);
        var pHeader = execution.Parameters.Add("$header", SqliteType.Text);

        using var label = connection.CreateCommand();
        label.Transaction = transaction;
        label.CommandText = "INSERT INTO execution_labels (execution_id, key, value) VALUES ($id, $k, $v)";
        var lId = label.Parameters.Add("$id", SqliteType.Text);
        var lKey = label.Parameters.Add("$k", SqliteType.Text);
        var lValue = label.Parameters.Add("$v", SqliteType.Text);

        using var taskRun = connection.CreateCommand();
        taskRun.Transaction = transaction;
        taskRun.CommandText = "INSERT INTO task_runs (execution_id, id, position, data) VALUES ($e, $id, $pos, $data)";
        var tExecution = taskRun.Parameters.Add("$e", SqliteType.Text);
        var tId = taskRun.Parameters.Add("$id", SqliteType.Text);
        var tPosition = taskRun.Parameters.Add("$pos", SqliteType.Integer);
        var tData = taskRun.Parameters.Add("$data", SqliteType.Text);

        var random = new Random(8);
        for (var n = from; n < from + count; n++)
        {
            var roll = random.Next(100);
            var state = roll switch { < 85 => State.Success, < 95 => State.Failed, < 98 => State.Warning, _ => State.Killed };
            var start = Start.AddMinutes(n);
            var ended = start.AddSeconds(1 + random.Next(120));
            var id = "bench" + n.ToString("D10", CultureInfo.InvariantCulture);
            var ns = Namespaces[random.Next(Namespaces.Length)];
            var flow = Flows[random.Next(Flows.Length)];
            ExecutionLabel[] labels = [new("env", random.Next(4) == 0 ? "prod" : "dev"), new("team", random.Next(10) == 0 ? "ops" : "data")];
            var runs = Enumerable.Range(0, 3).Select(i => new TaskRun
            {
                Id = id + "t" + i,
                ExecutionId = id,
                Namespace = ns,
                FlowId = flow,
                TaskId = "task" + i,
                Attempts = [new TaskRunAttempt { State = Finished(i == 2 ? state : State.Success, start, ended) }],
                Outputs = new Dictionary<string, object?> { ["value"] = "output of task " + i },
                State = Finished(i == 2 ? state : State.Success, start, ended),
            }).ToArray();
            var header = new Execution
            {
                Id = id,
                Namespace = ns,
                FlowId = flow,
                Inputs = new Dictionary<string, object?> { ["name"] = "bench", ["n"] = n },
                Labels = [.. labels],
                State = Finished(state, start, ended),
            };

            pId.Value = id;
            pNs.Value = ns;
            pFlow.Value = flow;
            pState.Value = state.ToKestraName();
            pStart.Value = start.UtcTicks;
            pEnd.Value = ended.UtcTicks;
            pLabels.Value = LabelsJson(labels);
            pHeader.Value = KestraJson.Serialize(header);
            execution.ExecuteNonQuery();
            foreach (var l in labels)
            {
                lId.Value = id;
                lKey.Value = l.Key;
                lValue.Value = l.Value;
                label.ExecuteNonQuery();
            }

            for (var i = 0; i < runs.Length; i++)
            {
                tExecution.Value = id;
                tId.Value = runs[i].Id;
                tPosition.Value = i;
                tData.Value = KestraJson.Serialize(runs[i]);
                taskRun.ExecuteNonQuery();
            }
        }

        transaction.Commit();
        using var analyze = connection.CreateCommand();
        analyze.CommandText = "PRAGMA optimize";
        analyze.ExecuteNonQuery();
    }

    private static StateInfo Finished(State state, DateTimeOffset start, DateTimeOffset end) => new()
    {
        Current = state,
        Histories = [new StateHistory(State.Created, start), new StateHistory(State.Running, start.AddMilliseconds(5)), new StateHistory(state, end)],
    };

    private static string LabelsJson(IEnumerable<ExecutionLabel> labels)
    {
        var builder = new StringBuilder("[");
        foreach (var label in labels)
        {
            builder.Append(builder.Length > 1 ? "," : "").Append('[').Append(JsonSerializer.Serialize(label.Key)).Append(',').Append(JsonSerializer.Serialize(label.Value)).Append(']');
        }

        return builder.Append(']').ToString();
    }

    private static int CountRows(string html) => html.Split("<td class=\"mono\"><a href=\"/ui/executions/", StringSplitOptions.None).Length - 1;

    private static double Percentile(List<double> values, double p)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
    }

    /// <summary>Server times of the requests since the last <see cref="Take"/> (one case at a time, sequential requests).</summary>
    private sealed class ServerTimings
    {
        private readonly List<double> _times = [];

        public void Record(TimeSpan elapsed)
        {
            lock (_times)
            {
                _times.Add(elapsed.TotalMilliseconds);
            }
        }

        public List<double> Take()
        {
            lock (_times)
            {
                var list = _times.ToList();
                _times.Clear();
                return list;
            }
        }
    }
}

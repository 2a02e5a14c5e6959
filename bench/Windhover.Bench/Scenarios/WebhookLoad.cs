using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Windhover.Bench.Scenarios;

/// <summary>
/// Kestra's benchmark01 shape against a running server: a webhook-triggered flow of OutputValues then Log, driven
/// open-loop at rising rates (executions per minute) by this process on the same machine. For each rate it reports the
/// average and p99 execution duration (state startDate → endDate, as Kestra's benchmark does) and the client-observed
/// latency from the webhook POST to the terminal state, and the highest rate whose p99 stays under the threshold.
/// </summary>
internal static class WebhookLoad
{
    private const string Flow = Benchmark01.WebhookFlow;

    public static async Task<int> RunAsync(string[] args)
    {
        var server = Option(args, "--server") ?? "http://127.0.0.1:8080";
        var seconds = int.Parse(Option(args, "--seconds") ?? "60", System.Globalization.CultureInfo.InvariantCulture);
        var thresholdMs = double.Parse(Option(args, "--p99-ms") ?? "1000", System.Globalization.CultureInfo.InvariantCulture);
        var rates = (Option(args, "--rates") ?? "1000,2000,4000,8000,16000,32000,64000")
            .Split(',').Select(r => int.Parse(r, System.Globalization.CultureInfo.InvariantCulture)).ToArray();

        // --server a,b,c: webhooks go round-robin to the nodes of a cluster (flows and states through the first).
        var nodes = server.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(address =>
            new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256, PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
            {
                BaseAddress = new Uri(address),
                Timeout = TimeSpan.FromSeconds(30),
            }).ToArray();
        var http = nodes[0];
        using (var put = new StringContent(Flow, Encoding.UTF8, "application/x-yaml"))
        {
            var created = await http.PostAsync("/api/v1/flows", put);
            if (!created.IsSuccessStatusCode)
            {
                using var update = new StringContent(Flow, Encoding.UTF8, "application/x-yaml");
                (await http.PutAsync("/api/v1/flows/bench/benchmark01", update)).EnsureSuccessStatusCode();
            }
        }

        var results = new List<object>();
        int? best = null;
        foreach (var rate in rates)
        {
            var outcome = await DriveAsync(nodes, rate, seconds);
            results.Add(outcome.Report);
            Console.WriteLine(JsonSerializer.Serialize(outcome.Report));
            if (outcome.P99Ms < thresholdMs && outcome.Failed == 0 && outcome.AchievedPerMinute >= rate * 0.95)
            {
                best = rate;
            }
            else
            {
                break; // the next rate would only be worse
            }
        }

        var summary = new { server, secondsPerRate = seconds, p99ThresholdMs = thresholdMs, highestRatePerMinuteWithP99UnderThreshold = best, rates = results };
        Directory.CreateDirectory("bench-results");
        await File.WriteAllTextAsync(Path.Combine("bench-results", "benchmark01.json"), JsonSerializer.Serialize(summary, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"highest rate with p99 < {thresholdMs} ms: {(best is null ? "none" : best + "/min")}");
        foreach (var node in nodes)
        {
            node.Dispose();
        }

        return 0;
    }

    private sealed record Outcome(object Report, double P99Ms, int Failed, double AchievedPerMinute);

    private static async Task<Outcome> DriveAsync(HttpClient[] nodes, int perMinute, int seconds)
    {
        var http = nodes[0];
        var total = perMinute * seconds / 60;
        var interval = TimeSpan.FromMinutes(1.0 / perMinute);
        var ids = new string?[total];
        var sendFailures = 0;
        var clock = Stopwatch.StartNew();
        var inflight = new List<Task>(total);
        for (var i = 0; i < total; i++)
        {
            var due = interval * i;
            var wait = due - clock.Elapsed;
            if (wait > TimeSpan.FromMilliseconds(1))
            {
                await Task.Delay(wait);
            }

            var index = i;
            inflight.Add(Task.Run(async () =>
            {
                try
                {
                    using var response = await nodes[index % nodes.Length].PostAsJsonAsync("/api/v1/executions/webhook/bench/benchmark01/benchmark01", new { request = index });
                    var body = await response.Content.ReadFromJsonAsync<JsonObject>();
                    ids[index] = body?["id"]?.GetValue<string>();
                    if (ids[index] is null)
                    {
                        Interlocked.Increment(ref sendFailures);
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    // refused, or no answer within the client's timeout: the rate is not held
                    Interlocked.Increment(ref sendFailures);
                }
            }));
        }

        await Task.WhenAll(inflight);
        var sendSeconds = clock.Elapsed.TotalSeconds;

        // Collect every execution's state (wait up to 60 s for stragglers).
        var durations = new List<double>(total);
        var notFinished = 0;
        var deadline = Stopwatch.StartNew();
        foreach (var id in ids.Where(i => i is not null))
        {
            while (true)
            {
                var execution = await http.GetFromJsonAsync<JsonObject>($"/api/v1/executions/{id}");
                var state = execution?["state"];
                var current = state?["current"]?.GetValue<string>();
                if (current is "SUCCESS" or "WARNING" or "FAILED" or "KILLED")
                {
                    var start = DateTimeOffset.Parse(state!["startDate"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);
                    var end = DateTimeOffset.Parse(state["endDate"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);
                    durations.Add((end - start).TotalMilliseconds);
                    break;
                }

                if (deadline.Elapsed > TimeSpan.FromSeconds(60))
                {
                    notFinished++;
                    break;
                }

                await Task.Delay(20);
            }
        }

        durations.Sort();
        var p99 = durations.Count == 0 ? double.PositiveInfinity : durations[(int)Math.Min(durations.Count - 1, Math.Ceiling(durations.Count * 0.99) - 1)];
        var report = new
        {
            targetPerMinute = perMinute,
            sent = total,
            achievedPerMinute = Math.Round(total / sendSeconds * 60),
            completed = durations.Count,
            sendFailures,
            notFinished,
            avgMs = durations.Count == 0 ? double.NaN : Math.Round(durations.Average(), 2),
            p50Ms = durations.Count == 0 ? double.NaN : Math.Round(durations[durations.Count / 2], 2),
            p99Ms = Math.Round(p99, 2),
        };
        return new Outcome(report, p99, sendFailures + notFinished, total / sendSeconds * 60);
    }

    private static string? Option(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }
}

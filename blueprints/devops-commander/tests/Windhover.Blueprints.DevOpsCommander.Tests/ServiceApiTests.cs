using System.Net;
using System.Text;
using System.Text.Json;

namespace Windhover.Blueprints.DevOpsCommander.Tests;

public sealed class ServiceApiTests
{
    [Theory]
    [InlineData("deploy-001", "payment-service", "v1.2.3", 7, 35.4, 92.0)]
    [InlineData("deploy-002", "payment-service", "v1.2.4-hotfix", 5, 0.8, 48.0)]
    [InlineData("deploy-003", "user-service", "v1.3.0", 6, 45.0, 67.0)]
    public async Task Demo_scenarios_serve_their_logs_and_metrics(string id, string service, string version, int logCount, double errorRate, double memory)
    {
        await using var host = await CommanderHost.StartAsync();
        var logs = await host.GetJsonAsync($"/api/logs/{id}");
        Assert.Equal(service, logs.GetProperty("service").GetString());
        Assert.Equal(version, logs.GetProperty("version").GetString());
        Assert.Equal("demo", logs.GetProperty("source").GetString());
        Assert.Equal(logCount, logs.GetProperty("logs").GetArrayLength());

        var metrics = await host.GetJsonAsync($"/api/metrics/{id}");
        Assert.Equal(errorRate, metrics.GetProperty("metrics").GetProperty("error_rate_percent").GetDouble());
        Assert.Equal(memory, metrics.GetProperty("metrics").GetProperty("memory_usage_percent").GetDouble());
        Assert.True(metrics.GetProperty("metrics").GetProperty("response_time_ms").GetProperty("p99").GetDouble() > 0);
    }

    [Theory]
    [InlineData("/api/logs/nope")]
    [InlineData("/api/metrics/nope")]
    [InlineData("/api/deployments/nope")]
    public async Task Unknown_deployments_are_a_404_with_a_clear_message(string path)
    {
        await using var host = await CommanderHost.StartAsync();
        using var response = await host.Http.GetAsync(path.TrimStart('/'));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.StartsWith("Unknown deployment 'nope'", body.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pushed_telemetry_is_aggregated_over_the_last_five_minutes_and_survives_a_restart()
    {
        var data = Path.Combine(Path.GetTempPath(), "devops-commander-tests", Guid.NewGuid().ToString("N"));
        var t0 = CommanderHost.Start;
        await using (var host = await CommanderHost.StartAsync(dataDirectory: data))
        {
            var (status, body) = await host.PostJsonAsync("/api/deployments/deploy-500/telemetry", new { logs = new[] { new { level = "info", message = "x" } } });
            Assert.Equal(422, status);
            Assert.Contains("service", body.GetProperty("message").GetString(), StringComparison.Ordinal);

            (status, _) = await host.PostJsonAsync("/api/deployments/deploy-500/telemetry", new
            {
                service = "search-service",
                version = "v9",
                previous_version = "v8",
                logs = new object[]
                {
                    new { time = t0, level = "info", message = "started" },
                    new { time = t0.AddSeconds(5), level = "warning", message = "slow index" },
                    new { time = t0.AddSeconds(9), level = "ERROR", message = "database query timed out" },
                },
                metrics = new object[]
                {
                    new { name = "cpu_usage_percent", value = 10, time = t0 },                 // outside the 5-minute window
                    new { name = "cpu_usage_percent", value = 60, time = t0.AddMinutes(8) },
                    new { name = "cpu_usage_percent", value = 80, time = t0.AddMinutes(10) },
                    new { name = "response_time_ms", value = 100, time = t0.AddMinutes(10) },
                    new { name = "response_time_ms", value = 300, time = t0.AddMinutes(10) },
                },
            });
            Assert.Equal(202, status);

            (status, body) = await host.PostJsonAsync("/api/deployments/deploy-500/telemetry", new { metrics = new[] { new { name = "bogus", value = 1 } } });
            Assert.Equal(422, status);
            Assert.Contains("error_rate_percent", body.GetProperty("message").GetString(), StringComparison.Ordinal);
        }

        await using (var host = await CommanderHost.StartAsync(dataDirectory: data))
        {
            var logs = await host.GetJsonAsync("/api/logs/deploy-500");
            Assert.Equal("pushed", logs.GetProperty("source").GetString());
            Assert.Equal(["INFO", "WARN", "ERROR"], logs.GetProperty("logs").EnumerateArray().Select(l => l.GetProperty("level").GetString()));

            var metrics = await host.GetJsonAsync("/api/metrics/deploy-500");
            var m = metrics.GetProperty("metrics");
            Assert.Equal(70, m.GetProperty("cpu_usage_percent").GetDouble());
            Assert.Equal(300, m.GetProperty("response_time_ms").GetProperty("p99").GetDouble());
            Assert.Equal(200, m.GetProperty("response_time_ms").GetProperty("avg").GetDouble());
            Assert.Equal(5, metrics.GetProperty("samples").GetInt32());
            Assert.False(metrics.TryGetProperty("reported_health_score", out _));
        }
    }

    [Fact]
    public async Task Metrics_come_from_a_service_s_Prometheus_source()
    {
        var queries = new List<string>();
        await using var prometheus = await StubServer.StartAsync(app => app.MapGet("/api/v1/query", (string query) =>
        {
            lock (queries)
            {
                queries.Add(query);
            }

            var value = query.StartsWith("mem", StringComparison.Ordinal) ? "91.5" : query.StartsWith("err", StringComparison.Ordinal) ? "2.25" : null;
            return value is null
                ? Results.Json(new { status = "success", data = new { resultType = "vector", result = Array.Empty<object>() } })
                : Results.Json(new { status = "success", data = new { resultType = "vector", result = new[] { new { metric = new { }, value = new object[] { 1760000000.0, value } } } } });
        }));
        await using var host = await CommanderHost.StartAsync(o => o.Prometheus["billing-service"] = new PrometheusSourceOptions
        {
            BaseUrl = prometheus.BaseUrl,
            Queries = new() { ["memory_usage_percent"] = "mem{service=\"$service\",version=\"$version\"}", ["error_rate_percent"] = "err{deployment=\"$deployment\"}", ["cpu_usage_percent"] = "cpu" },
        });

        var (status, _) = await host.PostJsonAsync("/api/deployments", new { deployment_id = "deploy-prom", service = "billing-service", version = "v5", previous_version = "v4" });
        Assert.Equal(201, status);
        var metrics = await host.GetJsonAsync("/api/metrics/deploy-prom");
        Assert.Equal("prometheus", metrics.GetProperty("source").GetString());
        Assert.Equal(91.5, metrics.GetProperty("metrics").GetProperty("memory_usage_percent").GetDouble());
        Assert.Equal(2.25, metrics.GetProperty("metrics").GetProperty("error_rate_percent").GetDouble());
        Assert.False(metrics.GetProperty("metrics").TryGetProperty("cpu_usage_percent", out _));
        Assert.Contains("mem{service=\"billing-service\",version=\"v5\"}", queries);
        Assert.Contains("err{deployment=\"deploy-prom\"}", queries);

        var analysis = await host.PostJsonAsync("/api/analysis", new { deployment_id = "deploy-prom" });
        Assert.Equal(200, analysis.Status);
        var verdict = await host.PostJsonAsync("/api/ai/rules", analysis.Body);
        Assert.Equal("R2 memory-exhaustion", verdict.Body.GetProperty("rule").GetString());
    }

    [Fact]
    public async Task A_failing_Prometheus_is_a_502_naming_it()
    {
        await using var prometheus = await StubServer.StartAsync(app => app.MapGet("/api/v1/query", () => Results.Json(new { status = "error", error = "bad query" }, statusCode: 400)));
        await using var host = await CommanderHost.StartAsync(o => o.Prometheus["billing-service"] = new PrometheusSourceOptions { BaseUrl = prometheus.BaseUrl });
        await host.PostJsonAsync("/api/deployments", new { deployment_id = "d1", service = "billing-service", version = "v5" });
        using var response = await host.Http.GetAsync("api/metrics/d1");
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains($"Prometheus at {prometheus.BaseUrl} answered 400", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Analysis_accepts_collected_bodies_as_objects_or_JSON_text()
    {
        await using var host = await CommanderHost.StartAsync();
        var logs = await host.GetJsonAsync("/api/logs/deploy-003");
        var metrics = await host.GetJsonAsync("/api/metrics/deploy-003");
        var asObjects = await host.PostJsonAsync("/api/analysis", new { deployment_id = "deploy-003", logs, metrics });
        var asText = await host.PostJsonAsync("/api/analysis", new { deployment_id = "deploy-003", logs = logs.GetRawText(), metrics = metrics.GetRawText() });
        Assert.Equal(200, asObjects.Status);
        Assert.Equal(200, asText.Status);
        foreach (var a in new[] { asObjects.Body, asText.Body })
        {
            Assert.Equal(22, a.GetProperty("health_score").GetDouble());
            Assert.Equal(3, a.GetProperty("log_analysis").GetProperty("error_count").GetInt32());
            Assert.Equal(50, a.GetProperty("log_analysis").GetProperty("error_rate_percent").GetDouble());
            Assert.Equal(3, a.GetProperty("log_analysis").GetProperty("counts_by_level").GetProperty("ERROR").GetInt32());
            Assert.Contains(a.GetProperty("anomalies").EnumerateArray(), x => x.GetProperty("metric").GetString() == "database_query_time_ms");
            Assert.Equal("ROLLBACK", a.GetProperty("policy").GetProperty("recommendation").GetString());
        }

        var rules = await host.PostJsonAsync("/api/ai/rules", new { summary = asText.Body.GetRawText() });
        Assert.Equal("ROLLBACK", rules.Body.GetProperty("recommendation").GetString());
        var bad = await host.PostJsonAsync("/api/ai/rules", new { hello = 1 });
        Assert.Equal(422, bad.Status);
    }

    [Fact]
    public async Task Rollback_restores_the_previous_version_once_and_continue_keeps_it()
    {
        await using var host = await CommanderHost.StartAsync();
        var (status, first) = await host.PostJsonAsync("/api/deployments/deploy-001/rollback", new { execution_id = "e1", reason = "memory leak" });
        Assert.Equal(200, status);
        Assert.False(first.GetProperty("already_rolled_back").GetBoolean());
        Assert.Equal("v1.2.2", first.GetProperty("running_version").GetString());
        Assert.Equal("none", first.GetProperty("rollback").GetProperty("hook").GetString());
        Assert.Equal(CommanderHost.Start, first.GetProperty("rollback").GetProperty("at").GetDateTimeOffset());

        var (_, again) = await host.PostJsonAsync("/api/deployments/deploy-001/rollback", new { execution_id = "e2" });
        Assert.True(again.GetProperty("already_rolled_back").GetBoolean());
        Assert.Equal("e1", again.GetProperty("rollback").GetProperty("execution_id").GetString());

        using var empty = await host.Http.PostAsync("api/deployments/deploy-002/continue", new StringContent("", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, empty.StatusCode);
        var d2 = await host.GetJsonAsync("/api/deployments/deploy-002");
        Assert.Equal("v1.2.4-hotfix", d2.GetProperty("running_version").GetString());

        var (missing, body) = await host.PostJsonAsync("/api/deployments/nope/rollback", new { });
        Assert.Equal(404, missing);
        Assert.Contains("Unknown deployment", body.GetProperty("message").GetString(), StringComparison.Ordinal);

        await host.PostJsonAsync("/api/deployments", new { deployment_id = "fresh", service = "brand-new-service", version = "v1" });
        var (noPrevious, why) = await host.PostJsonAsync("/api/deployments/fresh/rollback", new { });
        Assert.Equal(422, noPrevious);
        Assert.Contains("no previous version", why.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rollback_calls_the_configured_deploy_hook_and_fails_when_it_fails()
    {
        var calls = new List<string>();
        var fail = false;
        await using var hook = await StubServer.StartAsync(app => app.MapPost("/deploy", async (HttpContext ctx) =>
        {
            using var reader = new StreamReader(ctx.Request.Body);
            calls.Add(await reader.ReadToEndAsync());
            return fail ? Results.Text("cluster unavailable", statusCode: 503) : Results.Text("rolled back");
        }));
        await using var host = await CommanderHost.StartAsync(o => o.DeployHook = new DeployHookOptions { Url = hook.BaseUrl + "/deploy" });

        fail = true;
        var (status, body) = await host.PostJsonAsync("/api/deployments/deploy-003/rollback", new { });
        Assert.Equal(422, status);
        Assert.Contains("answered 503: cluster unavailable", body.GetProperty("message").GetString(), StringComparison.Ordinal);
        var unchanged = await host.GetJsonAsync("/api/deployments/deploy-003");
        Assert.False(unchanged.TryGetProperty("running_version", out _));   // nothing restored
        Assert.Empty(unchanged.GetProperty("actions").EnumerateArray());

        fail = false;
        (status, body) = await host.PostJsonAsync("/api/deployments/deploy-003/rollback", new { reason = "db timeouts" });
        Assert.Equal(200, status);
        Assert.Equal("url", body.GetProperty("rollback").GetProperty("hook").GetString());
        var sent = JsonDocument.Parse(calls[^1]).RootElement;
        Assert.Equal("v1.2.9", sent.GetProperty("to_version").GetString());
        Assert.Equal("user-service", sent.GetProperty("service").GetString());
    }

    [Fact]
    public async Task Rollback_can_run_a_deploy_command()
    {
        var marker = Path.Combine(Path.GetTempPath(), "devops-commander-tests", Guid.NewGuid().ToString("N") + ".txt");
        Directory.CreateDirectory(Path.GetDirectoryName(marker)!);
        await using var host = await CommanderHost.StartAsync(o => o.DeployHook = new DeployHookOptions { Command = $"echo \"$SERVICE $FROM_VERSION->$TO_VERSION\" > '{marker}'; echo done" });
        var (status, body) = await host.PostJsonAsync("/api/deployments/deploy-001/rollback", new { });
        Assert.Equal(200, status);
        Assert.Equal("command", body.GetProperty("rollback").GetProperty("hook").GetString());
        Assert.Equal("payment-service v1.2.3->v1.2.2", File.ReadAllText(marker).Trim());
    }

    [Fact]
    public async Task Outcomes_are_stored_once_per_execution_verified_and_exported_as_JSONL()
    {
        await using var host = await CommanderHost.StartAsync();
        var analysis = (await host.PostJsonAsync("/api/analysis", new { deployment_id = "deploy-001" })).Body;
        var outcome = new { execution_id = "exec-1", deployment_id = "deploy-001", decision = "ROLLBACK", confidence = 0.9, status = "CRITICAL", reasoning = "r", decided_by = "threshold-analyser", analysis = analysis.GetRawText() };
        Assert.Equal(201, (await host.PostJsonAsync("/api/outcomes", outcome)).Status);
        Assert.Equal(201, (await host.PostJsonAsync("/api/outcomes", outcome)).Status);   // a retried task records once
        var (bad, why) = await host.PostJsonAsync("/api/outcomes", new { execution_id = "x", deployment_id = "d", decision = "PANIC" });
        Assert.Equal(422, bad);
        Assert.Contains("ROLLBACK or CONTINUE", why.GetProperty("message").GetString(), StringComparison.Ordinal);

        await host.PostJsonAsync("/api/deployments/deploy-500/telemetry", new { service = "s", version = "v2", metrics = new[] { new { name = "error_rate_percent", value = 1 } } });
        var a2 = (await host.PostJsonAsync("/api/analysis", new { deployment_id = "deploy-500" })).Body;
        await host.PostJsonAsync("/api/outcomes", new { execution_id = "exec-2", deployment_id = "deploy-500", decision = "CONTINUE", confidence = 80, reasoning = "fine", decided_by = "threshold-analyser", analysis = a2 });

        var outcomes = (await host.GetJsonAsync("/api/outcomes")).EnumerateArray().ToList();
        Assert.Equal(2, outcomes.Count);
        Assert.Equal(90, outcomes[0].GetProperty("confidence").GetInt32());
        Assert.Equal("unhealthy", outcomes[0].GetProperty("actual_outcome").GetString());   // the demo scenario's ground truth
        Assert.False(outcomes[1].TryGetProperty("actual_outcome", out _));

        var (verified, _) = await host.PostJsonAsync("/api/outcomes/exec-2/verify", new { actual_outcome = "unhealthy" });
        Assert.Equal(200, verified);

        var export = await host.Http.GetStringAsync("api/outcomes/export");
        var lines = export.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(2, lines.Count);
        Assert.Equal(100, lines[0].GetProperty("reward").GetDouble());   // correct rollback
        Assert.Equal(-200, lines[1].GetProperty("reward").GetDouble());  // missed rollback
        Assert.Equal(lines[0].GetProperty("feature_names").GetArrayLength(), lines[0].GetProperty("features").GetArrayLength());

        var state = await host.GetJsonAsync("/api/dashboard/state");
        Assert.Equal(50, state.GetProperty("stats").GetProperty("ai_accuracy_percent").GetDouble());
        Assert.Equal(2, state.GetProperty("policy").GetProperty("real_count").GetInt32());
    }

    [Fact]
    public async Task The_dashboard_streams_events_and_renders_without_external_resources()
    {
        await using var host = await CommanderHost.StartAsync();
        var html = await host.Http.GetStringAsync("/");
        Assert.Contains("stat-total-deployments", html, StringComparison.Ordinal);
        Assert.Contains("stat-mttr", html, StringComparison.Ordinal);
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script src", html, StringComparison.Ordinal);

        using var stream = await host.Http.GetStreamAsync("api/dashboard/stream");
        using var reader = new StreamReader(stream);
        Assert.Equal(": connected", await reader.ReadLineAsync());
        var (status, _) = await host.PostJsonAsync("/api/dashboard/events", new { deployment_id = "deploy-002", decision = "CONTINUE", confidence = 91 });
        Assert.Equal(202, status);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        string? line;
        var received = new List<string>();
        while ((line = await reader.ReadLineAsync(cts.Token)) is not null && !line.StartsWith("data:", StringComparison.Ordinal))
        {
            received.Add(line);
        }

        Assert.Contains("event: dashboard", received);
        Assert.NotNull(line);
        var data = JsonDocument.Parse(line![5..]).RootElement;
        Assert.Equal("deploy-002", data.GetProperty("deployment_id").GetString());
        Assert.Equal("CONTINUE", data.GetProperty("payload").GetProperty("decision").GetString());
    }

    [Fact]
    public async Task The_provider_report_names_the_mode_and_never_the_key()
    {
        await using (var host = await CommanderHost.StartAsync())
        {
            var p = await host.GetJsonAsync("/api/ai/provider");
            Assert.Equal("rules", p.GetProperty("mode").GetString());
            using var gateway = await host.Http.PostAsync("api/ai/v1/chat/completions", new StringContent("{}", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, gateway.StatusCode);
        }

        var env = new Dictionary<string, string> { ["TOGETHER_API_KEY"] = "tg-secret" };
        await using (var host = await CommanderHost.StartAsync(o => o.Environment = n => env.GetValueOrDefault(n)))
        {
            var p = await host.GetJsonAsync("/api/ai/provider");
            Assert.Equal("llm", p.GetProperty("mode").GetString());
            Assert.Equal("together", p.GetProperty("provider").GetString());
            Assert.DoesNotContain("tg-secret", p.GetRawText(), StringComparison.Ordinal);
        }

        Assert.Equal("http://gpu-box:11434/v1", AiProviderOptions.FromEnvironment(n => n == "OLLAMA_HOST" ? "gpu-box:11434" : null)!.BaseUrl);
        Assert.Null(AiProviderOptions.FromEnvironment(_ => null));
    }
}

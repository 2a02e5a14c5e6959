using System.Text.Json;
using Windhover.Plugins.Ai;

namespace Windhover.Blueprints.DevOpsCommander.Tests;

/// <summary>
/// The flow's tasks run in order (<see cref="FlowRehearsal"/>) against the real service on 127.0.0.1, with the webhook
/// bodies of the seed's three curl commands verbatim.
/// </summary>
public sealed class LoopRehearsalTests
{
    // The -d payloads of the seed's curl commands, verbatim.
    public const string Curl001 = """
        {
            "deployment_id": "deploy-001",
            "service_name": "payment-service",
            "version": "v1.2.3"
          }
        """;

    public const string Scenario001 = """{"deployment_id": "deploy-001", "service_name": "payment-service", "version": "v1.2.3"}""";
    public const string Scenario002 = """{"deployment_id": "deploy-002", "service_name": "payment-service", "version": "v1.2.4-hotfix"}""";
    public const string Scenario003 = """{"deployment_id": "deploy-003", "service_name": "user-service", "version": "v1.3.0"}""";

    [Fact]
    public async Task The_seed_s_three_scenarios_end_in_ROLLBACK_CONTINUE_ROLLBACK()
    {
        await using var host = await CommanderHost.StartAsync();
        var rehearsal = new FlowRehearsal(FlowRehearsal.LoadLoop(host.BaseUrl), host.Http);

        var runs = new List<FlowRehearsal.Run>();
        foreach (var body in new[] { Scenario001, Scenario002, Scenario003 })
        {
            var run = await rehearsal.RunWebhookAsync(body);
            Assert.True(run.State == "SUCCESS", run.Error);
            runs.Add(run);
        }

        Assert.Equal(["ROLLBACK", "CONTINUE", "ROLLBACK"], runs.Select(r => Verdict(r)["recommendation"]));
        Assert.Contains("execute_rollback", runs[0].TaskIds);
        Assert.Contains("continue_monitoring", runs[1].TaskIds);
        Assert.DoesNotContain("execute_rollback", runs[1].TaskIds);
        Assert.Contains("rule_analyser", runs[0].TaskIds);
        Assert.Equal("threshold-analyser", Verdict(runs[0])["decided_by"]);
        Assert.Equal("R1 error-rate-critical", Verdict(runs[0])["rule"]);

        var rollbacks = (await host.GetJsonAsync("/api/deployments")).EnumerateArray()
            .SelectMany(d => d.GetProperty("actions").EnumerateArray()).Where(a => a.GetProperty("kind").GetString() == "rollback")
            .Select(a => (a.GetProperty("deployment_id").GetString(), a.GetProperty("from_version").GetString(), a.GetProperty("to_version").GetString()))
            .ToList();
        Assert.Equal([("deploy-001", "v1.2.3", "v1.2.2"), ("deploy-003", "v1.3.0", "v1.2.9")], rollbacks);

        var outcomes = (await host.GetJsonAsync("/api/outcomes")).EnumerateArray().ToList();
        Assert.Equal(3, outcomes.Count);
        Assert.Equal(["deploy-001", "deploy-002", "deploy-003"], outcomes.Select(o => o.GetProperty("deployment_id").GetString()));
        Assert.Equal(runs.Select(r => r.ExecutionId), outcomes.Select(o => o.GetProperty("execution_id").GetString()));
        Assert.All(outcomes, o => Assert.Equal(JsonValueKind.Object, o.GetProperty("analysis").ValueKind));
        Assert.Equal([28.0, 94.0, 22.0], outcomes.Select(o => o.GetProperty("health_score").GetDouble()));
        Assert.All(outcomes, o => Assert.True(o.TryGetProperty("policy", out _)));
        Assert.All(outcomes, o => Assert.True(o.TryGetProperty("execution_started_at", out _), "execution_started_at is parsed from execution.startDate"));

        var html = await host.Http.GetStringAsync("/");
        Assert.Contains("data-deployment=\"deploy-001\" data-decision=\"ROLLBACK\"", html, StringComparison.Ordinal);
        Assert.Contains("data-deployment=\"deploy-002\" data-decision=\"CONTINUE\"", html, StringComparison.Ordinal);
        Assert.Contains("data-deployment=\"deploy-003\" data-decision=\"ROLLBACK\"", html, StringComparison.Ordinal);
        var events = (await host.GetJsonAsync("/api/dashboard/events")).EnumerateArray().ToList();
        Assert.Equal(3, events.Count(e => e.GetProperty("kind").GetString() == "decision"));
    }

    [Fact]
    public async Task The_multi_line_curl_body_and_a_manual_run_use_their_own_deployment()
    {
        await using var host = await CommanderHost.StartAsync();
        var rehearsal = new FlowRehearsal(FlowRehearsal.LoadLoop(host.BaseUrl), host.Http);
        var run = await rehearsal.RunWebhookAsync(Curl001);
        Assert.True(run.State == "SUCCESS", run.Error);
        Assert.Equal("deploy-001", Context(run)["deployment_id"]);

        var manual = await rehearsal.RunAsync(new() { ["deployment_id"] = "deploy-002", ["service_name"] = "payment-service", ["version"] = "v1.2.4-hotfix" }, trigger: null);
        Assert.True(manual.State == "SUCCESS", manual.Error);
        Assert.Equal("CONTINUE", Verdict(manual)["recommendation"]);
    }

    [Fact]
    public async Task An_unknown_deployment_fails_the_run_with_the_service_s_message()
    {
        await using var host = await CommanderHost.StartAsync();
        var rehearsal = new FlowRehearsal(FlowRehearsal.LoadLoop(host.BaseUrl), host.Http);
        var run = await rehearsal.RunWebhookAsync("""{"deployment_id": "deploy-999", "service_name": "x", "version": "v0"}""");
        Assert.Equal("FAILED", run.State);
        Assert.Contains("404", run.Error, StringComparison.Ordinal);
        Assert.Contains("Unknown deployment 'deploy-999'", run.Error, StringComparison.Ordinal);
        Assert.Contains("notify_failure", run.TaskIds);
        Assert.Empty((await host.GetJsonAsync("/api/outcomes")).EnumerateArray());
        var failure = Assert.Single((await host.GetJsonAsync("/api/dashboard/events")).EnumerateArray());
        Assert.Equal("failure", failure.GetProperty("kind").GetString());
    }

    [Theory]
    [InlineData(93.0, 1.0, "ROLLBACK", "R2 memory-exhaustion")]
    [InlineData(55.0, 7.5, "ROLLBACK", "R6 error-rate-high")]
    [InlineData(55.0, 0.4, "CONTINUE", "R10 healthy")]
    [InlineData(87.0, 0.4, "CONTINUE", "R9 watch")]
    public async Task Pushed_telemetry_drives_the_loop_to_the_threshold_decision(double memory, double errorRate, string decision, string rule)
    {
        await using var host = await CommanderHost.StartAsync();
        var now = host.Time.GetUtcNow();
        var metrics = new List<object>();
        for (var i = 0; i < 5; i++)
        {
            var t = now.AddSeconds(-60 * (4 - i));
            metrics.Add(new { name = "memory_usage_percent", value = memory, time = t });
            metrics.Add(new { name = "error_rate_percent", value = errorRate, time = t });
            metrics.Add(new { name = "cpu_usage_percent", value = 40, time = t });
            metrics.Add(new { name = "response_time_ms", value = 120 + 10 * i, time = t });
        }

        var (status, _) = await host.PostJsonAsync("/api/deployments/deploy-777/telemetry", new
        {
            service = "checkout-service",
            version = "v3.1.0",
            previous_version = "v3.0.9",
            logs = new[] { new { level = "INFO", message = "checkout-service v3.1.0 started" } },
            metrics,
        });
        Assert.Equal(202, status);

        var rehearsal = new FlowRehearsal(FlowRehearsal.LoadLoop(host.BaseUrl), host.Http);
        var run = await rehearsal.RunWebhookAsync("""{"deployment_id": "deploy-777", "service_name": "checkout-service", "version": "v3.1.0"}""");
        Assert.True(run.State == "SUCCESS", run.Error);
        Assert.Equal(decision, Verdict(run)["recommendation"]);
        Assert.Equal(rule, Verdict(run)["rule"]);
        var deployment = await host.GetJsonAsync("/api/deployments/deploy-777");
        var rollbacks = deployment.GetProperty("actions").EnumerateArray().Count(a => a.GetProperty("kind").GetString() == "rollback");
        Assert.Equal(decision == "ROLLBACK" ? 1 : 0, rollbacks);
        Assert.Equal(decision == "ROLLBACK" ? "v3.0.9" : "v3.1.0", deployment.GetProperty("running_version").GetString());
    }

    [Fact]
    public async Task With_an_LLM_provider_the_decision_comes_from_the_model_s_JSON()
    {
        string? seenModel = null, seenAuth = null, seenSchemaName = null;
        await using var llm = await StubServer.StartAsync(app => app.MapPost("/v1/chat/completions", async (HttpContext ctx) =>
        {
            using var doc = await JsonDocument.ParseAsync(ctx.Request.Body);
            seenModel = doc.RootElement.GetProperty("model").GetString();
            seenAuth = ctx.Request.Headers.Authorization.ToString();
            seenSchemaName = doc.RootElement.TryGetProperty("response_format", out var rf) ? rf.GetProperty("type").GetString() : null;
            // The model disagrees with the thresholds on purpose: deploy-001 would be rolled back by rule R1.
            var answer = """{"status":"DEGRADED","issue":"Memory pressure after the payment provider change","impact":"payment-service latency","recommendation":"CONTINUE","confidence":61,"reasoning":"model says: watch it for five more minutes"}""";
            return Results.Json(Completion(answer));
        }));
        await using var host = await CommanderHost.StartAsync(o => o.Ai = new AiProviderOptions { Provider = "test", BaseUrl = llm.BaseUrl + "/v1", ModelName = "test-model", ApiKey = "sk-test-secret" });
        using var factory = new ChatClientFactory();
        var invoker = new ChatInvoker(factory, new ChatInvokerOptions { MaxAttempts = 1 });
        var rehearsal = new FlowRehearsal(FlowRehearsal.LoadLoop(host.BaseUrl), host.Http, invoker);

        var run = await rehearsal.RunWebhookAsync(Scenario001);
        Assert.True(run.State == "SUCCESS", run.Error);
        Assert.Contains("ai_agent", run.TaskIds);
        Assert.DoesNotContain("rule_analyser", run.TaskIds);
        var verdict = Verdict(run);
        Assert.Equal("CONTINUE", verdict["recommendation"]);
        Assert.Equal("61", verdict["confidence"]);
        Assert.Equal("ai-agent:test-model", verdict["decided_by"]);
        Assert.Contains("continue_monitoring", run.TaskIds);
        Assert.Equal("test-model", seenModel);
        Assert.Equal("Bearer sk-test-secret", seenAuth);   // the gateway added the provider's key
        Assert.Equal("json_schema", seenSchemaName);

        var outcome = Assert.Single((await host.GetJsonAsync("/api/outcomes")).EnumerateArray());
        Assert.Equal("CONTINUE", outcome.GetProperty("decision").GetString());
        Assert.Equal("ai-agent:test-model", outcome.GetProperty("decided_by").GetString());
        Assert.Equal(61, outcome.GetProperty("confidence").GetInt32());
        Assert.DoesNotContain("sk-test-secret", (await host.GetJsonAsync("/api/ai/provider")).GetRawText(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"status":"CRITICAL","recommendation":"MAYBE","confidence":50,"issue":"x","impact":"y","reasoning":"z"}""", "recommendation")]
    [InlineData("the deployment looks bad, roll it back", "JSON")]
    public async Task A_malformed_model_answer_fails_the_task_with_a_clear_message(string answer, string expected)
    {
        await using var llm = await StubServer.StartAsync(app => app.MapPost("/v1/chat/completions", () => Results.Json(Completion(answer))));
        await using var host = await CommanderHost.StartAsync(o => o.Ai = new AiProviderOptions { Provider = "test", BaseUrl = llm.BaseUrl + "/v1", ModelName = "test-model" });
        using var factory = new ChatClientFactory();
        var rehearsal = new FlowRehearsal(FlowRehearsal.LoadLoop(host.BaseUrl), host.Http, new ChatInvoker(factory, new ChatInvokerOptions { MaxAttempts = 1 }));

        var run = await rehearsal.RunWebhookAsync(Scenario001);
        Assert.Equal("FAILED", run.State);
        Assert.Contains(expected, run.Error, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("execute_rollback", run.TaskIds);
        Assert.Empty((await host.GetJsonAsync("/api/outcomes")).EnumerateArray());
    }

    internal static object Completion(string content) => new
    {
        id = "chatcmpl-test",
        @object = "chat.completion",
        created = 1_760_000_000,
        model = "test-model",
        choices = new[] { new { index = 0, message = new { role = "assistant", content }, finish_reason = "stop" } },
        usage = new { prompt_tokens = 10, completion_tokens = 20, total_tokens = 30 },
    };

    private static IReadOnlyDictionary<string, object?> Values(FlowRehearsal.Run run, string task) =>
        (IReadOnlyDictionary<string, object?>)((IReadOnlyDictionary<string, object?>)run.Outputs[task]!)["values"]!;

    private static IReadOnlyDictionary<string, object?> Verdict(FlowRehearsal.Run run) => Values(run, "verdict");

    private static IReadOnlyDictionary<string, object?> Context(FlowRehearsal.Run run) => Values(run, "context");
}

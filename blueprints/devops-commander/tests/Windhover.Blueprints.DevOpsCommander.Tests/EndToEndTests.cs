using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Windhover.Cli.Commands;
using Windhover.Server.Hosting;
using Xunit.Abstractions;

namespace Windhover.Blueprints.DevOpsCommander.Tests;

/// <summary>
/// The acceptance scenario through the real Windhover server: a fresh server with the blueprint's flow folder, the commander
/// service next to it, the seed's three curl commands verbatim (same URL, header and body), executions ending SUCCESS
/// with ROLLBACK, CONTINUE, ROLLBACK.
/// </summary>
public sealed class EndToEndTests(ITestOutputHelper output)
{
    private const string WebhookPath = "api/v1/executions/webhook/ai.devops.commander/devops-autonomous-loop/devops-deploy-webhook";

    [Fact]
    public async Task Telemetry_pushed_for_a_new_deployment_drives_the_flow_to_the_threshold_decision()
    {
        await using var commander = await CommanderHost.StartAsync();
        var now = commander.Time.GetUtcNow();
        var (status, _) = await commander.PostJsonAsync("/api/deployments/deploy-812/telemetry", new
        {
            service = "inventory-service",
            version = "v4.0.0",
            previous_version = "v3.9.2",
            logs = new object[] { new { level = "INFO", message = "inventory-service v4.0.0 up" }, new { level = "WARN", message = "GC pauses growing" } },
            metrics = new object[]
            {
                new { name = "memory_usage_percent", value = 94, time = now },
                new { name = "error_rate_percent", value = 1.5, time = now },
                new { name = "cpu_usage_percent", value = 60, time = now },
            },
        });
        Assert.Equal(202, status);

        await RunWithServerAsync(commander, async http =>
        {
            using var content = new StringContent("""{"deployment_id": "deploy-812", "service_name": "inventory-service", "version": "v4.0.0"}""", Encoding.UTF8, "application/json");
            using var response = await http.PostAsync(WebhookPath, content);
            var id = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
            var execution = await WaitForTerminalAsync(http, id);
            Assert.Equal("SUCCESS", execution.GetProperty("state").GetProperty("current").GetString());
            var values = execution.GetProperty("taskRunList").EnumerateArray().Single(t => t.GetProperty("taskId").GetString() == "verdict")
                .GetProperty("outputs").GetProperty("values");
            Assert.Equal("ROLLBACK", values.GetProperty("recommendation").GetString());
            Assert.Equal("R2 memory-exhaustion", values.GetProperty("rule").GetString());
        });

        var deployment = await commander.GetJsonAsync("/api/deployments/deploy-812");
        Assert.Equal("v3.9.2", deployment.GetProperty("running_version").GetString());
    }

    [Fact]
    public async Task An_unknown_deployment_fails_the_execution_with_the_service_s_message()
    {
        await using var commander = await CommanderHost.StartAsync();
        await RunWithServerAsync(commander, async http =>
        {
            using var content = new StringContent("""{"deployment_id": "deploy-404", "service_name": "ghost", "version": "v0"}""", Encoding.UTF8, "application/json");
            using var response = await http.PostAsync(WebhookPath, content);
            var id = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
            var execution = await WaitForTerminalAsync(http, id);
            Assert.Equal("FAILED", execution.GetProperty("state").GetProperty("current").GetString());
            var logs = await http.GetStringAsync($"api/v1/logs/{id}");
            Assert.Contains("Unknown deployment 'deploy-404'", logs, StringComparison.Ordinal);
        });
        Assert.Empty((await commander.GetJsonAsync("/api/outcomes")).EnumerateArray());
    }

    [Fact]
    public async Task With_an_LLM_provider_the_server_s_AIAgent_decides_from_the_model_s_JSON()
    {
        string? seenModel = null, seenAuth = null, seenFormat = null, seenPrompt = null;
        var calls = 0;
        // An OpenAI-compatible provider on 127.0.0.1: the commander's gateway forwards the AIAgent task's request to it.
        await using var llm = await StubServer.StartAsync(app => app.MapPost("/v1/chat/completions", async (HttpContext ctx) =>
        {
            Interlocked.Increment(ref calls);
            using var doc = await JsonDocument.ParseAsync(ctx.Request.Body);
            seenModel = doc.RootElement.GetProperty("model").GetString();
            seenAuth = ctx.Request.Headers.Authorization.ToString();
            seenFormat = doc.RootElement.TryGetProperty("response_format", out var rf) ? rf.GetProperty("type").GetString() : null;
            seenPrompt = doc.RootElement.GetProperty("messages").GetRawText();
            // The model disagrees with the thresholds on purpose: rule R1 would roll deploy-001 back.
            var answer = """{"status":"DEGRADED","issue":"Memory pressure after the payment provider change","impact":"payment-service latency","recommendation":"CONTINUE","confidence":61,"reasoning":"model says: watch it for five more minutes"}""";
            return Results.Json(LoopRehearsalTests.Completion(answer));
        }));
        await using var commander = await CommanderHost.StartAsync(o => o.Ai = new AiProviderOptions { Provider = "test", BaseUrl = llm.BaseUrl + "/v1", ModelName = "test-model", ApiKey = "sk-test-secret" });

        await RunWithServerAsync(commander, async http =>
        {
            var execution = await WaitForTerminalAsync(http, await PostWebhookAsync(http, LoopRehearsalTests.Scenario001));
            Assert.True(execution.GetProperty("state").GetProperty("current").GetString() == "SUCCESS", execution.GetRawText());
            var taskIds = TaskIds(execution);
            Assert.Contains("ai_agent", taskIds);
            Assert.DoesNotContain("rule_analyser", taskIds);
            Assert.Contains("continue_monitoring", taskIds);
            Assert.DoesNotContain("execute_rollback", taskIds);
            var verdict = Outputs(execution, "verdict").GetProperty("values");
            Assert.Equal("CONTINUE", verdict.GetProperty("recommendation").GetString());
            Assert.Equal("DEGRADED", verdict.GetProperty("status").GetString());
            Assert.Equal("61", verdict.GetProperty("confidence").ToString());
            Assert.Equal("ai-agent:test-model", verdict.GetProperty("decided_by").GetString());
        });

        Assert.Equal(1, calls);
        Assert.Equal("test-model", seenModel);
        Assert.Equal("Bearer sk-test-secret", seenAuth);   // the gateway added the provider's key; the flow never held it
        Assert.Equal("json_schema", seenFormat);
        Assert.Contains("deploy-001", seenPrompt, StringComparison.Ordinal);
        var outcome = Assert.Single((await commander.GetJsonAsync("/api/outcomes")).EnumerateArray());
        Assert.Equal("CONTINUE", outcome.GetProperty("decision").GetString());
        Assert.Equal("ai-agent:test-model", outcome.GetProperty("decided_by").GetString());
        Assert.Equal(61, outcome.GetProperty("confidence").GetInt32());
        var deployment = await commander.GetJsonAsync("/api/deployments/deploy-001");
        Assert.DoesNotContain(deployment.GetProperty("actions").EnumerateArray(), a => a.GetProperty("kind").GetString() == "rollback");
    }

    [Theory]
    [InlineData("""{"status":"CRITICAL","recommendation":"MAYBE","confidence":50,"issue":"x","impact":"y","reasoning":"z"}""", "does not match the jsonSchema", "recommendation")]
    [InlineData("the deployment looks bad, roll it back", "not valid JSON", "the deployment looks bad")]
    public async Task A_malformed_model_answer_fails_the_server_s_AIAgent_task_with_a_clear_message(string answer, string message, string detail)
    {
        await using var llm = await StubServer.StartAsync(app => app.MapPost("/v1/chat/completions", () => Results.Json(LoopRehearsalTests.Completion(answer))));
        await using var commander = await CommanderHost.StartAsync(o => o.Ai = new AiProviderOptions { Provider = "test", BaseUrl = llm.BaseUrl + "/v1", ModelName = "test-model" });

        await RunWithServerAsync(commander, async http =>
        {
            var id = await PostWebhookAsync(http, LoopRehearsalTests.Scenario001);
            var execution = await WaitForTerminalAsync(http, id);
            Assert.Equal("FAILED", execution.GetProperty("state").GetProperty("current").GetString());
            var agent = execution.GetProperty("taskRunList").EnumerateArray().Single(t => t.GetProperty("taskId").GetString() == "ai_agent");
            Assert.Equal("FAILED", agent.GetProperty("state").GetProperty("current").GetString());
            var taskIds = TaskIds(execution);
            Assert.DoesNotContain("verdict", taskIds);
            Assert.DoesNotContain("execute_rollback", taskIds);
            Assert.DoesNotContain("continue_monitoring", taskIds);
            Assert.Contains("notify_failure", taskIds);

            using var logs = JsonDocument.Parse(await http.GetStringAsync($"api/v1/logs/{id}?taskId=ai_agent&minLevel=ERROR"));
            var errors = string.Join("\n", logs.RootElement.EnumerateArray().Select(l => l.GetProperty("message").GetString()));
            Assert.Contains(message, errors, StringComparison.Ordinal);
            Assert.Contains(detail, errors, StringComparison.Ordinal);
        });

        Assert.Empty((await commander.GetJsonAsync("/api/outcomes")).EnumerateArray());
        var deployment = await commander.GetJsonAsync("/api/deployments/deploy-001");
        Assert.DoesNotContain(deployment.GetProperty("actions").EnumerateArray(), a => a.GetProperty("kind").GetString() is "rollback" or "continue");
    }

    private static async Task<string> PostWebhookAsync(HttpClient http, string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(WebhookPath, content);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"webhook → {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.GetProperty("id").GetString()!;
    }

    private static List<string> TaskIds(JsonElement execution) =>
        [.. execution.GetProperty("taskRunList").EnumerateArray().Select(t => t.GetProperty("taskId").GetString()!)];

    private static JsonElement Outputs(JsonElement execution, string taskId) =>
        execution.GetProperty("taskRunList").EnumerateArray().Single(t => t.GetProperty("taskId").GetString() == taskId).GetProperty("outputs");

    /// <summary>A fresh Windhover server whose flow folder holds the blueprint's flow pointed at <paramref name="commander"/>.</summary>
    private async Task RunWithServerAsync(CommanderHost commander, Func<HttpClient, Task> body)
    {
        var root = Path.Combine(Path.GetTempPath(), "devops-commander-e2e", Guid.NewGuid().ToString("N"));
        var flows = Path.Combine(root, "flows");
        Directory.CreateDirectory(flows);
        // The flow as written; the commander's address reaches it as envs.commander_url, as the launcher passes it.
        File.Copy(Path.Combine(FlowRehearsal.FlowsDirectory, "devops-autonomous-loop.yml"), Path.Combine(flows, "devops-autonomous-loop.yml"));
        var server = ServerCommand.BuildLocal(new ServerOptions { Port = 0, DataPath = Path.Combine(root, "data"), FlowPath = flows },
            envs: new Dictionary<string, object?> { ["commander_url"] = commander.BaseUrl });
        await server.StartAsync();
        try
        {
            var address = server.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            using var http = new HttpClient { BaseAddress = new Uri(address.TrimEnd('/') + "/"), Timeout = TimeSpan.FromSeconds(60) };
            await WaitForFlowAsync(http);
            await body(http);
        }
        finally
        {
            await server.StopAsync();
            try
            {
                await server.DisposeAsync();
            }
            catch (ObjectDisposedException ex)
            {
                // Known issue of the merged runtime: LocalRuntime.DisposeAsync touches its disposed CancellationTokenSource
                // when the host disposes it after stopping. Not this blueprint's; reported, and kept from hiding the result.
                output.WriteLine($"server dispose: {ex.Message}");
            }
        }
    }

    [Fact]
    public async Task The_seed_s_three_curl_commands_end_SUCCESS_with_the_expected_decisions()
    {
        await using var commander = await CommanderHost.StartAsync();
        var root = Path.Combine(Path.GetTempPath(), "devops-commander-e2e", Guid.NewGuid().ToString("N"));
        var flows = Path.Combine(root, "flows");
        Directory.CreateDirectory(flows);
        // The flow as written; the commander's address reaches it as envs.commander_url, as the launcher passes it.
        File.Copy(Path.Combine(FlowRehearsal.FlowsDirectory, "devops-autonomous-loop.yml"), Path.Combine(flows, "devops-autonomous-loop.yml"));

        var server = ServerCommand.BuildLocal(new ServerOptions { Port = 0, DataPath = Path.Combine(root, "data"), FlowPath = flows },
            envs: new Dictionary<string, object?> { ["commander_url"] = commander.BaseUrl });
        await server.StartAsync();
        try
        {
            var address = server.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            using var http = new HttpClient { BaseAddress = new Uri(address.TrimEnd('/') + "/"), Timeout = TimeSpan.FromSeconds(60) };
            await WaitForFlowAsync(http);

            var ids = new List<string>();
            foreach (var body in new[] { LoopRehearsalTests.Curl001, LoopRehearsalTests.Scenario002, LoopRehearsalTests.Scenario003 })
            {
                using var content = new StringContent(body, Encoding.UTF8, "application/json");
                using var response = await http.PostAsync(WebhookPath, content);
                var text = await response.Content.ReadAsStringAsync();
                Assert.True(response.IsSuccessStatusCode, $"webhook → {(int)response.StatusCode}: {text}");
                ids.Add(JsonDocument.Parse(text).RootElement.GetProperty("id").GetString()!);
            }

            var decisions = new List<string?>();
            foreach (var id in ids)
            {
                var execution = await WaitForTerminalAsync(http, id);
                var state = execution.GetProperty("state").GetProperty("current").GetString();
                Assert.True(state == "SUCCESS", $"execution {id} ended {state}: {execution.GetRawText()}");
                var verdict = execution.GetProperty("taskRunList").EnumerateArray().Single(t => t.GetProperty("taskId").GetString() == "verdict");
                decisions.Add(verdict.GetProperty("outputs").GetProperty("values").GetProperty("recommendation").GetString());
            }

            Assert.Equal(["ROLLBACK", "CONTINUE", "ROLLBACK"], decisions);
            var rollbacks = (await commander.GetJsonAsync("/api/deployments")).EnumerateArray()
                .Where(d => d.GetProperty("actions").EnumerateArray().Any(a => a.GetProperty("kind").GetString() == "rollback"))
                .Select(d => d.GetProperty("deployment").GetProperty("id").GetString());
            Assert.Equal(["deploy-001", "deploy-003"], rollbacks);
            var outcomes = (await commander.GetJsonAsync("/api/outcomes")).EnumerateArray().ToList();
            Assert.Equal(3, outcomes.Count);
            // the three executions run concurrently: outcomes arrive in any order
            Assert.Equal(ids.Order(StringComparer.Ordinal), outcomes.Select(o => o.GetProperty("execution_id").GetString()!).Order(StringComparer.Ordinal));
            Assert.Equal(["deploy-001:ROLLBACK", "deploy-002:CONTINUE", "deploy-003:ROLLBACK"],
                outcomes.Select(o => $"{o.GetProperty("deployment_id").GetString()}:{o.GetProperty("decision").GetString()}").Order(StringComparer.Ordinal));
            var html = await commander.Http.GetStringAsync("/");
            Assert.Contains("data-deployment=\"deploy-002\" data-decision=\"CONTINUE\"", html, StringComparison.Ordinal);
        }
        finally
        {
            await server.StopAsync();
            try
            {
                await server.DisposeAsync();
            }
            catch (ObjectDisposedException ex)
            {
                // Known issue of the merged runtime: LocalRuntime.DisposeAsync touches its disposed CancellationTokenSource
                // when the host disposes it after stopping. Not this blueprint's; reported, and kept from hiding the result.
                output.WriteLine($"server dispose: {ex.Message}");
            }
        }
    }

    private async Task WaitForFlowAsync(HttpClient http)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        string last = "";
        while (DateTime.UtcNow < deadline)
        {
            using var response = await http.GetAsync("api/v1/flows/ai.devops.commander/devops-autonomous-loop");
            if (response.IsSuccessStatusCode)
            {
                return;
            }

            last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
            await Task.Delay(200);
        }

        Assert.Fail($"The flow folder watcher did not load the flow: {last}");
    }

    private async Task<JsonElement> WaitForTerminalAsync(HttpClient http, string id)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        JsonElement execution = default;
        while (DateTime.UtcNow < deadline)
        {
            execution = JsonDocument.Parse(await http.GetStringAsync($"api/v1/executions/{id}")).RootElement.Clone();
            var state = execution.GetProperty("state").GetProperty("current").GetString();
            if (state is "SUCCESS" or "FAILED" or "WARNING" or "KILLED" or "CANCELLED")
            {
                return execution;
            }

            await Task.Delay(100);
        }

        output.WriteLine(execution.GetRawText());
        Assert.Fail($"execution {id} did not finish in time");
        return execution;
    }
}

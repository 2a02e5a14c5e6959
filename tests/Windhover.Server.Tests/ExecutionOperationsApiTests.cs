using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;

namespace Windhover.Server.Tests;

/// <summary>
/// Pause, change-status, eval, resume with onResume inputs and metrics on the real runtime, through a real HTTP listener
/// on 127.0.0.1, with their error answers (404, 409, 422 and a JSON message).
/// </summary>
public sealed class ExecutionOperationsApiTests : IAsyncLifetime
{
    private ServerHarness _server = null!;

    public async Task InitializeAsync() => _server = await ServerHarness.StartAsync(realRuntime: true);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<(HttpStatusCode Status, JsonNode? Body)> SendAsync(HttpMethod method, string path, HttpContent? content = null)
    {
        using var response = await _server.Http.SendAsync(new HttpRequestMessage(method, path) { Content = content });
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length > 0 && response.Content.Headers.ContentType?.MediaType == "application/json" ? JsonNode.Parse(text) : null);
    }

    private async Task DeployAsync(string yaml)
    {
        using var response = await _server.Http.PostAsync("api/v1/flows", new StringContent(yaml, Encoding.UTF8, "application/x-yaml"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private async Task<string> StartAsync(string flowId)
    {
        var (status, body) = await SendAsync(HttpMethod.Post, $"api/v1/executions/company.team/{flowId}", new MultipartFormDataContent());
        Assert.Equal(HttpStatusCode.OK, status);
        return body!["id"]!.GetValue<string>();
    }

    private async Task<JsonNode> WaitForAsync(string id, Func<JsonNode, bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var execution = JsonNode.Parse(await _server.Http.GetStringAsync($"api/v1/executions/{id}"))!;
            if (condition(execution))
            {
                return execution;
            }

            Assert.True(DateTime.UtcNow < deadline, $"execution {id} never matched: {execution.ToJsonString()}");
            await Task.Delay(30);
        }
    }

    private static string State(JsonNode execution) => execution["state"]!["current"]!.GetValue<string>();

    private static bool Terminal(JsonNode execution) => State(execution) is "SUCCESS" or "WARNING" or "FAILED" or "KILLED" or "CANCELLED";

    private static bool TaskIs(JsonNode execution, string taskId, string state) =>
        execution["taskRunList"]?.AsArray().Any(t => t!["taskId"]!.GetValue<string>() == taskId && State(t) == state) == true;

    private static string Message(JsonNode? body) => body!["message"]!.GetValue<string>();

    [Fact]
    public async Task Pause_holds_a_running_execution_until_resumed_and_is_refused_otherwise()
    {
        await DeployAsync("""
            id: slow
            namespace: company.team
            tasks:
              - id: sleep
                type: io.kestra.plugin.core.flow.Sleep
                duration: PT0.5S
              - id: after
                type: io.kestra.plugin.core.debug.Return
                format: done
            """);
        var id = await StartAsync("slow");
        await WaitForAsync(id, e => TaskIs(e, "sleep", "RUNNING"));

        var (paused, body) = await SendAsync(HttpMethod.Post, $"api/v1/main/executions/{id}/pause");
        Assert.Equal(HttpStatusCode.OK, paused);
        Assert.Equal("PAUSED", State(body!));
        var (again, againBody) = await SendAsync(HttpMethod.Post, $"api/v1/executions/{id}/pause");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, again);
        Assert.Contains("only a RUNNING execution can be paused", Message(againBody), StringComparison.Ordinal);

        // The Sleep finishes, nothing else starts while paused.
        var held = await WaitForAsync(id, e => TaskIs(e, "sleep", "SUCCESS"));
        await Task.Delay(300);
        held = JsonNode.Parse(await _server.Http.GetStringAsync($"api/v1/executions/{id}"))!;
        Assert.Equal("PAUSED", State(held));
        Assert.DoesNotContain(held["taskRunList"]!.AsArray(), t => t!["taskId"]!.GetValue<string>() == "after");

        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(HttpMethod.Post, $"api/v1/executions/{id}/resume", new MultipartFormDataContent())).Status);
        var done = await WaitForAsync(id, Terminal);
        Assert.Equal("SUCCESS", State(done));
        Assert.True(TaskIs(done, "after", "SUCCESS"));

        var (terminated, terminatedBody) = await SendAsync(HttpMethod.Post, $"api/v1/executions/{id}/pause");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, terminated);
        Assert.Contains("SUCCESS", Message(terminatedBody), StringComparison.Ordinal);
        var (unknown, unknownBody) = await SendAsync(HttpMethod.Post, "api/v1/executions/doesNotExist/pause");
        Assert.Equal(HttpStatusCode.NotFound, unknown);
        Assert.NotEmpty(Message(unknownBody));
    }

    [Fact]
    public async Task Change_status_of_a_terminated_execution_and_its_errors()
    {
        await DeployAsync("""
            id: failing
            namespace: company.team
            tasks:
              - id: ko
                type: io.kestra.plugin.core.execution.Fail
            """);
        await DeployAsync("""
            id: waiting
            namespace: company.team
            tasks:
              - id: pause
                type: io.kestra.plugin.core.flow.Pause
            """);
        var id = await StartAsync("failing");
        Assert.Equal("FAILED", State(await WaitForAsync(id, Terminal)));

        var (changed, body) = await SendAsync(HttpMethod.Post, $"api/v1/executions/{id}/change-status?status=WARNING");
        Assert.Equal(HttpStatusCode.OK, changed);
        Assert.Equal("WARNING", State(body!));
        Assert.Equal("WARNING", State(JsonNode.Parse(await _server.Http.GetStringAsync($"api/v1/executions/{id}"))!));

        var (missing, missingBody) = await SendAsync(HttpMethod.Post, $"api/v1/executions/{id}/change-status");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, missing);
        Assert.Contains("status", Message(missingBody), StringComparison.Ordinal);
        var (notTerminal, notTerminalBody) = await SendAsync(HttpMethod.Post, $"api/v1/executions/{id}/change-status?status=RUNNING");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, notTerminal);
        Assert.Contains("terminated state", Message(notTerminalBody), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await SendAsync(HttpMethod.Post, $"api/v1/executions/{id}/change-status?status=NOPE")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Post, "api/v1/executions/doesNotExist/change-status?status=SUCCESS")).Status);

        var paused = await StartAsync("waiting");
        await WaitForAsync(paused, e => State(e) == "PAUSED");
        var (conflict, conflictBody) = await SendAsync(HttpMethod.Post, $"api/v1/executions/{paused}/change-status?status=SUCCESS");
        Assert.Equal(HttpStatusCode.Conflict, conflict);
        Assert.Contains("PAUSED", Message(conflictBody), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Eval_renders_with_the_task_run_variables_and_reports_errors_in_the_body()
    {
        await DeployAsync("""
            id: values
            namespace: company.team
            tasks:
              - id: first
                type: io.kestra.plugin.core.debug.Return
                format: one
              - id: second
                type: io.kestra.plugin.core.debug.Return
                format: two
            """);
        var id = await StartAsync("values");
        var done = await WaitForAsync(id, Terminal);
        var second = done["taskRunList"]!.AsArray().Single(t => t!["taskId"]!.GetValue<string>() == "second")!["id"]!.GetValue<string>();

        var (ok, body) = await SendAsync(HttpMethod.Post, $"api/v1/executions/{id}/eval/{second}",
            new StringContent("{{ task.id }}: {{ outputs.first.value }} then {{ taskrun.id }}", Encoding.UTF8, "text/plain"));
        Assert.Equal(HttpStatusCode.OK, ok);
        Assert.Equal($"second: one then {second}", body!["result"]!.GetValue<string>());
        Assert.Null(body["error"]);

        var (failed, errorBody) = await SendAsync(HttpMethod.Post, $"api/v1/executions/{id}/eval/{second}",
            new StringContent("{{ missing }}", Encoding.UTF8, "text/plain"));
        Assert.Equal(HttpStatusCode.OK, failed);
        Assert.Null(errorBody!["result"]);
        Assert.Contains("Unable to find `missing` used in the expression `{{ missing }}` at line 1", errorBody["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("Unable to find `missing`", errorBody["stackTrace"]!.GetValue<string>(), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Post, $"api/v1/executions/{id}/eval/unknownTaskRun",
            new StringContent("x", Encoding.UTF8, "text/plain"))).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Post, $"api/v1/executions/doesNotExist/eval/{second}",
            new StringContent("x", Encoding.UTF8, "text/plain"))).Status);
    }

    [Fact]
    public async Task Resume_validates_onResume_inputs_and_names_the_field()
    {
        await DeployAsync("""
            id: approval
            namespace: company.team
            tasks:
              - id: wait
                type: io.kestra.plugin.core.flow.Pause
                onResume:
                  - id: approved
                    type: BOOLEAN
              - id: result
                type: io.kestra.plugin.core.debug.Return
                format: "{{ outputs.wait.onResume.approved }}"
            """);
        var id = await StartAsync("approval");
        await WaitForAsync(id, e => State(e) == "PAUSED");

        var (invalid, body) = await SendAsync(HttpMethod.Post, $"api/v1/executions/{id}/resume",
            new MultipartFormDataContent { { new StringContent("perhaps"), "approved" } });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, invalid);
        Assert.Contains("approved", Message(body), StringComparison.Ordinal);
        Assert.Equal("PAUSED", State(JsonNode.Parse(await _server.Http.GetStringAsync($"api/v1/executions/{id}"))!));

        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(HttpMethod.Post, $"api/v1/executions/{id}/resume",
            new MultipartFormDataContent { { new StringContent("true"), "approved" } })).Status);
        var done = await WaitForAsync(id, Terminal);
        Assert.Equal("true", done["taskRunList"]!.AsArray().Single(t => t!["taskId"]!.GetValue<string>() == "result")!["outputs"]!["value"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Conflict, (await SendAsync(HttpMethod.Post, $"api/v1/executions/{id}/resume", new MultipartFormDataContent())).Status);
    }

    [Fact]
    public async Task Metrics_of_an_execution_are_served_from_the_store()
    {
        await DeployAsync("""
            id: metered
            namespace: company.team
            tasks:
              - id: r
                type: io.kestra.plugin.core.debug.Return
                format: four
            """);
        var id = await StartAsync("metered");
        await WaitForAsync(id, Terminal);
        var (status, body) = await SendAsync(HttpMethod.Get, $"api/v1/main/metrics/{id}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(2, body!["total"]!.GetValue<int>());
        var length = body["results"]!.AsArray().Single(m => m!["name"]!.GetValue<string>() == "length")!;
        Assert.Equal(4, length["value"]!.GetValue<double>());
        Assert.Equal("counter", length["type"]!.GetValue<string>());
        Assert.Equal(0, (await SendAsync(HttpMethod.Get, "api/v1/metrics/doesNotExist")).Body!["total"]!.GetValue<int>());

        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(HttpMethod.Delete, $"api/v1/executions/{id}")).Status);
        Assert.Equal(0, (await SendAsync(HttpMethod.Get, $"api/v1/metrics/{id}")).Body!["total"]!.GetValue<int>());
    }
}

/// <summary>Webhook trigger conditions beyond Expression, on a fixed clock (a Saturday), and the refusal of conditions a webhook cannot decide.</summary>
public sealed class WebhookConditionTests : IAsyncLifetime
{
    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private static readonly DateTimeOffset Saturday = new(2026, 1, 3, 10, 0, 0, TimeSpan.Zero);
    private ServerHarness _server = null!;

    public async Task InitializeAsync() =>
        _server = await ServerHarness.StartAsync(configure: services => services.AddSingleton<TimeProvider>(new FixedTime(Saturday)));

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private FakeExecutionService Fake => _server.Get<FakeExecutionService>();

    private static string Flow(string id, string conditions) => $$"""
        id: {{id}}
        namespace: company.team
        labels:
          team: data
        tasks:
          - id: log
            type: io.kestra.plugin.core.log.Log
            message: hi
        triggers:
          - id: hook
            type: io.kestra.plugin.core.trigger.Webhook
            key: k
            conditions:
        {{conditions}}
        """;

    private async Task<HttpStatusCode> CreateAsync(string yaml)
    {
        using var response = await _server.Http.PostAsync("api/v1/flows", new StringContent(yaml, Encoding.UTF8, "application/x-yaml"));
        return response.StatusCode;
    }

    private async Task<HttpStatusCode> HookAsync(string flowId)
    {
        using var response = await _server.Http.PostAsync($"api/v1/executions/webhook/company.team/{flowId}/k", null);
        return response.StatusCode;
    }

    [Fact]
    public async Task Date_namespace_flow_and_label_conditions_decide_whether_the_webhook_starts_an_execution()
    {
        Assert.Equal(HttpStatusCode.OK, await CreateAsync(Flow("met", """
                  - type: io.kestra.plugin.core.condition.DayWeek
                    dayOfWeek: SATURDAY
                  - type: io.kestra.plugin.core.condition.ExecutionNamespace
                    namespace: company
                    comparison: PREFIX
                  - type: io.kestra.plugin.core.condition.Or
                    conditions:
                      - type: io.kestra.plugin.core.condition.ExecutionLabels
                        labels:
                          team: data
                      - type: io.kestra.plugin.core.condition.Expression
                        expression: "{{ false }}"
        """)));
        Assert.Equal(HttpStatusCode.OK, await CreateAsync(Flow("weekday", """
                  - type: io.kestra.plugin.core.condition.Not
                    conditions:
                      - type: io.kestra.plugin.core.condition.Weekend
        """)));
        Assert.Equal(HttpStatusCode.OK, await CreateAsync(Flow("otherflow", """
                  - type: io.kestra.plugin.core.condition.ExecutionFlow
                    namespace: company.team
                    flowId: somethingElse
        """)));

        Assert.Equal(HttpStatusCode.OK, await HookAsync("met"));
        Assert.Equal(HttpStatusCode.NoContent, await HookAsync("weekday"));
        Assert.Equal(HttpStatusCode.NoContent, await HookAsync("otherflow"));
        Assert.Equal("met", Assert.Single(Fake.Created).Flow.Id);
    }

    [Fact]
    public async Task A_condition_a_webhook_cannot_decide_is_refused_when_the_flow_is_saved()
    {
        using var response = await _server.Http.PostAsync("api/v1/flows", new StringContent(Flow("status", """
                  - type: io.kestra.plugin.core.condition.Not
                    conditions:
                      - type: io.kestra.plugin.core.condition.ExecutionStatus
                        in: [SUCCESS]
        """), Encoding.UTF8, "application/x-yaml"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var message = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["message"]!.GetValue<string>();
        Assert.Contains("ExecutionStatus", message, StringComparison.Ordinal);
        Assert.Contains("Webhook", message, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, await HookAsync("status"));
    }
}

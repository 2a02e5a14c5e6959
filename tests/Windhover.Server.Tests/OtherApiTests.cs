using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Windhover.Engine.Executor;
using Windhover.Engine.Stores;

namespace Windhover.Server.Tests;

public sealed class WebhookLogsKvTriggersTests : IAsyncLifetime
{
    private ServerHarness _server = null!;

    private const string Webhook = """
        id: hooked
        namespace: company.team
        tasks:
          - id: log
            type: io.kestra.plugin.core.log.Log
            message: "{{ trigger.body }}"
        triggers:
          - id: hook
            type: io.kestra.plugin.core.trigger.Webhook
            key: "{{ flow.id }}-secret"
            conditions:
              - type: io.kestra.plugin.core.condition.ExpressionCondition
                expression: "{{ trigger.body is not defined or trigger.body == null or trigger.body.skip is not defined }}"
          - id: daily
            type: io.kestra.plugin.core.trigger.Schedule
            cron: "0 9 * * *"
        """;

    public async Task InitializeAsync()
    {
        _server = await ServerHarness.StartAsync();
        await _server.Client.CreateFlowAsync(Webhook);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private FakeExecutionService Fake => _server.Get<FakeExecutionService>();

    private async Task<(HttpStatusCode Status, JsonNode? Body)> SendAsync(HttpMethod method, string path, HttpContent? content = null)
    {
        using var response = await _server.Http.SendAsync(new HttpRequestMessage(method, path) { Content = content });
        var text = await response.Content.ReadAsStringAsync();
        JsonNode? body = null;
        if (text.Length > 0 && response.Content.Headers.ContentType?.MediaType == "application/json")
        {
            body = JsonNode.Parse(text);
        }

        return (response.StatusCode, body);
    }

    [Fact]
    public async Task Webhook_passes_body_headers_and_parameters()
    {
        var (status, body) = await SendAsync(HttpMethod.Post, "api/v1/executions/webhook/company.team/hooked/hooked-secret?name=john&age=12&age=13",
            new StringContent("""{"a":1,"b":true}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("hook", body!["trigger"]!["id"]!.GetValue<string>());
        var variables = Fake.Created.Single().Trigger!.Variables!;
        var payload = (IReadOnlyDictionary<string, object?>)variables["body"]!;
        Assert.Equal(1L, payload["a"]);
        Assert.Equal(true, payload["b"]);
        var parameters = (IReadOnlyDictionary<string, object?>)variables["parameters"]!;
        Assert.Equal(new object?[] { "12", "13" }, (IEnumerable<object?>)parameters["age"]!);
        var headers = (IReadOnlyDictionary<string, object?>)variables["headers"]!;
        Assert.Contains("application/json", ((IEnumerable<object?>)headers["content-type"]!).Single()!.ToString());
    }

    [Fact]
    public async Task Webhook_accepts_arrays_text_and_get_without_body()
    {
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Put, "api/v1/main/executions/webhook/company.team/hooked/hooked-secret",
            new StringContent("""[{"a":1}]""", Encoding.UTF8, "application/json"))).Status);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Post, "api/v1/executions/webhook/company.team/hooked/hooked-secret",
            new StringContent("bla", Encoding.UTF8, "text/plain"))).Status);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, "api/v1/executions/webhook/company.team/hooked/hooked-secret")).Status);
        Assert.IsAssignableFrom<IEnumerable<object?>>(Fake.Created[0].Trigger!.Variables!["body"]);
        Assert.Equal("bla", Fake.Created[1].Trigger!.Variables!["body"]);
        Assert.Null(Fake.Created[2].Trigger!.Variables!["body"]);
    }

    [Fact]
    public async Task Webhook_errors_and_conditions()
    {
        var (unknownFlow, body) = await SendAsync(HttpMethod.Post, "api/v1/executions/webhook/not-found/webhook/not-found");
        Assert.Equal(HttpStatusCode.NotFound, unknownFlow);
        Assert.Contains("Flow not found", body!["message"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Post, "api/v1/executions/webhook/company.team/hooked/wrong-key")).Status);
        var (skipped, _) = await SendAsync(HttpMethod.Post, "api/v1/executions/webhook/company.team/hooked/hooked-secret",
            new StringContent("""{"skip":true}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.NoContent, skipped);
        Assert.Empty(Fake.Created);
        await _server.Client.UpdateFlowAsync("company.team", "hooked", Webhook + "\ndisabled: true\n");
        Assert.Equal(HttpStatusCode.Conflict, (await SendAsync(HttpMethod.Post, "api/v1/executions/webhook/company.team/hooked/hooked-secret")).Status);
    }

    [Fact]
    public async Task Webhook_stays_open_when_auth_is_required()
    {
        await using var secured = await ServerHarness.StartAsync(new Hosting.ServerOptions { BasicAuthUser = "admin", BasicAuthPassword = "pw" });
        var flow = new HttpRequestMessage(HttpMethod.Post, "api/v1/flows") { Content = new StringContent(Webhook, Encoding.UTF8, "application/x-yaml") };
        Assert.Equal(HttpStatusCode.Unauthorized, (await secured.Http.SendAsync(flow)).StatusCode);
        secured.Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String("admin:pw"u8.ToArray()));
        await secured.Client.CreateFlowAsync(Webhook);
        secured.Http.DefaultRequestHeaders.Authorization = null;
        Assert.Equal(HttpStatusCode.Unauthorized, (await secured.Http.GetAsync("api/v1/main/flows/search")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await secured.Http.PostAsync("api/v1/main/executions/webhook/company.team/hooked/hooked-secret", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await secured.Http.GetAsync("health")).StatusCode);
        secured.Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String("admin:wrong"u8.ToArray()));
        Assert.Equal(HttpStatusCode.Unauthorized, (await secured.Http.GetAsync("api/v1/flows/search")).StatusCode);
    }

    [Fact]
    public async Task Logs_list_filter_download_search_and_delete()
    {
        var execution = await _server.Client.CreateExecutionAsync("company.team", "hooked");
        var now = DateTimeOffset.UtcNow;
        await _server.Get<ILogStore>().AppendAsync([
            new LogEntry { Namespace = "company.team", FlowId = "hooked", ExecutionId = execution.Id, TaskId = "log", TaskRunId = "tr1", Timestamp = now, Level = ExecutorLogLevel.Debug, Message = "debug line" },
            new LogEntry { Namespace = "company.team", FlowId = "hooked", ExecutionId = execution.Id, TaskId = "log", TaskRunId = "tr1", Timestamp = now, Level = ExecutorLogLevel.Info, Message = "info line" },
            new LogEntry { Namespace = "company.team", FlowId = "hooked", ExecutionId = execution.Id, TaskId = "other", TaskRunId = "tr2", Timestamp = now, Level = ExecutorLogLevel.Error, Message = "error line" },
        ]);
        Assert.Equal(3, (await _server.Client.GetLogsAsync(execution.Id, "TRACE")).Count);
        Assert.Equal(2, (await _server.Client.GetLogsAsync(execution.Id, "INFO")).Count);
        Assert.Equal("error line", Assert.Single(await _server.Client.GetLogsAsync(execution.Id, "TRACE", taskId: "other")).Message);
        var (_, byRun) = await SendAsync(HttpMethod.Get, $"api/v1/logs/{execution.Id}?taskRunId=tr1&minLevel=TRACE");
        Assert.Equal(2, byRun!.AsArray().Count);
        Assert.Equal(HttpStatusCode.BadRequest, (await SendAsync(HttpMethod.Get, $"api/v1/logs/{execution.Id}?minLevel=LOUD")).Status);

        var text = await _server.Http.GetStringAsync($"api/v1/logs/{execution.Id}/download?minLevel=TRACE");
        Assert.Equal(3, text.TrimEnd('\n').Split('\n').Length);
        Assert.Contains("INFO log info line", text);

        var (_, search) = await SendAsync(HttpMethod.Get, "api/v1/logs/search?namespace=company&q=error");
        Assert.Equal(1, search!["total"]!.GetValue<int>());

        // follow: existing lines, then the end once the execution is terminal
        await _server.Client.KillExecutionAsync(execution.Id);
        var events = await _server.Http.GetStringAsync($"api/v1/logs/{execution.Id}/follow?minLevel=INFO");
        Assert.Contains("info line", events);
        Assert.DoesNotContain("debug line", events);

        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(HttpMethod.Delete, $"api/v1/logs/{execution.Id}")).Status);
        Assert.Empty(await _server.Client.GetLogsAsync(execution.Id, "TRACE"));
    }

    [Fact]
    public async Task Kv_put_get_list_delete()
    {
        await _server.Client.PutKvAsync("company.team", "count", JsonValue.Create(42));
        await _server.Client.PutKvAsync("company.team", "obj", new JsonObject { ["a"] = "b" });
        var (put, _) = await SendAsync(HttpMethod.Put, "api/v1/main/namespaces/company.team/kv/text", new StringContent("plain text", Encoding.UTF8, "text/plain"));
        Assert.Equal(HttpStatusCode.NoContent, put);

        var count = await _server.Client.GetKvAsync("company.team", "count");
        Assert.Equal("NUMBER", count!.Type);
        Assert.Equal(42, count.Value!.GetValue<int>());
        Assert.Equal("JSON", (await _server.Client.GetKvAsync("company.team", "obj"))!.Type);
        var text = await _server.Client.GetKvAsync("company.team", "text");
        Assert.Equal("STRING", text!.Type);
        Assert.Equal("plain text", text.Value!.GetValue<string>());

        var (_, list) = await SendAsync(HttpMethod.Get, "api/v1/namespaces/company.team/kv");
        Assert.Equal(["count", "obj", "text"], list!.AsArray().Select(e => e!["key"]!.GetValue<string>()).Order());

        await _server.Client.DeleteKvAsync("company.team", "count");
        Assert.Null(await _server.Client.GetKvAsync("company.team", "count"));
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Delete, "api/v1/namespaces/company.team/kv/count")).Status);

        var ttl = new HttpRequestMessage(HttpMethod.Put, "api/v1/namespaces/company.team/kv/short") { Content = new StringContent("1") };
        ttl.Headers.Add("ttl", "PT1H");
        Assert.Equal(HttpStatusCode.NoContent, (await _server.Http.SendAsync(ttl)).StatusCode);
        var badTtl = new HttpRequestMessage(HttpMethod.Put, "api/v1/namespaces/company.team/kv/short") { Content = new StringContent("1") };
        badTtl.Headers.Add("ttl", "soon");
        Assert.Equal(HttpStatusCode.BadRequest, (await _server.Http.SendAsync(badTtl)).StatusCode);
    }

    [Fact]
    public async Task Namespace_files_upload_and_download()
    {
        var form = new MultipartFormDataContent { { new ByteArrayContent("print(1)"u8.ToArray()), "fileContent", "main.py" } };
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(HttpMethod.Post, "api/v1/namespaces/company.team/files?path=scripts/main.py", form)).Status);
        Assert.Equal("print(1)", await _server.Http.GetStringAsync("api/v1/namespaces/company.team/files?path=scripts/main.py"));
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Get, "api/v1/namespaces/company.team/files?path=nope.py")).Status);
    }

    [Fact]
    public async Task Triggers_search_with_next_fire_time_and_disable()
    {
        var (_, search) = await SendAsync(HttpMethod.Get, "api/v1/triggers/search?namespace=company");
        Assert.Equal(2, search!["total"]!.GetValue<int>());
        var schedule = search["results"]!.AsArray().Single(t => t!["triggerId"]!.GetValue<string>() == "daily")!;
        var next = DateTimeOffset.Parse(schedule["nextExecutionDate"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(9, next.UtcDateTime.Hour);
        Assert.True(next > DateTimeOffset.UtcNow);
        Assert.False(schedule["disabled"]!.GetValue<bool>());

        var (status, disabled) = await SendAsync(HttpMethod.Put, "api/v1/triggers",
            new StringContent("""{"namespace":"company.team","flowId":"hooked","triggerId":"daily","disabled":true}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(disabled!["disabled"]!.GetValue<bool>());
        var (_, forFlow) = await SendAsync(HttpMethod.Get, "api/v1/triggers/company.team/hooked");
        Assert.True(forFlow!["results"]!.AsArray().Single(t => t!["triggerId"]!.GetValue<string>() == "daily")!["disabled"]!.GetValue<bool>());
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Post, "api/v1/triggers/company.team/hooked/daily/enable")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Post, "api/v1/triggers/company.team/hooked/nope/enable")).Status);
        var (_, bulk) = await SendAsync(HttpMethod.Post, "api/v1/triggers/set-disabled/by-triggers",
            new StringContent("""{"triggers":[{"namespace":"company.team","flowId":"hooked","triggerId":"hook"}],"disabled":true}""", Encoding.UTF8, "application/json"));
        Assert.Equal(1, bulk!["count"]!.GetValue<int>());
    }
}

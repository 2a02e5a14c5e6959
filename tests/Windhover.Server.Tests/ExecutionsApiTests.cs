using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Windhover.Client;
using Windhover.Engine.Stores;

namespace Windhover.Server.Tests;

public sealed class ExecutionsApiTests : IAsyncLifetime
{
    private ServerHarness _server = null!;

    public async Task InitializeAsync()
    {
        _server = await ServerHarness.StartAsync();
        await _server.Client.CreateFlowAsync(FlowsApiTests.Hello);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private FakeExecutionService Fake => _server.Get<FakeExecutionService>();

    private async Task<(HttpStatusCode Status, JsonNode? Body, HttpResponseMessage Response)> SendAsync(HttpMethod method, string path, HttpContent? content = null)
    {
        var response = await _server.Http.SendAsync(new HttpRequestMessage(method, path) { Content = content });
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text), response);
    }

    private static MultipartFormDataContent Form(params (string Name, string Value)[] fields)
    {
        var form = new MultipartFormDataContent();
        foreach (var (name, value) in fields)
        {
            form.Add(new StringContent(value), name);
        }

        return form;
    }

    [Fact]
    public async Task Create_with_multipart_inputs_files_and_labels()
    {
        var form = Form(("name", "world"), ("tags", "a"), ("tags", "b"));
        form.Add(new ByteArrayContent("hello"u8.ToArray()) { Headers = { ContentType = new MediaTypeHeaderValue("text/plain") } }, "files", "upload");
        var (status, body, _) = await SendAsync(HttpMethod.Post, "api/v1/main/executions/company.team/hello?labels=team:core&labels=env:prod", form);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("hello", body!["flowId"]!.GetValue<string>());
        Assert.Equal(22, body["id"]!.GetValue<string>().Length);
        var request = Assert.Single(Fake.Created);
        Assert.Equal("world", request.Inputs["name"]);
        Assert.Equal(new object?[] { "a", "b" }, (IEnumerable<object?>)request.Inputs["tags"]!);
        var file = Assert.Single(request.Files);
        Assert.Equal("upload", file.InputId);
        Assert.Equal("hello", Encoding.UTF8.GetString(file.Content.Span));
        // flow label env:test is overridden by the request's env:prod
        Assert.Equal(["team:core", "env:prod"], request.Labels.Select(l => l.Key + ":" + l.Value));
    }

    [Fact]
    public async Task Create_without_body_and_with_empty_multipart()
    {
        var (status, _, _) = await SendAsync(HttpMethod.Post, "api/v1/executions/company.team/hello");
        Assert.Equal(HttpStatusCode.OK, status);
        var empty = new ByteArrayContent("------b--\r\n"u8.ToArray());
        empty.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=----b");
        var (status2, _, _) = await SendAsync(HttpMethod.Post, "api/v1/executions/company.team/hello", empty);
        Assert.Equal(HttpStatusCode.OK, status2);
    }

    [Fact]
    public async Task Create_errors_404_422_409()
    {
        var (notFound, body, _) = await SendAsync(HttpMethod.Post, "api/v1/executions/foo/bar", Form());
        Assert.Equal(HttpStatusCode.NotFound, notFound);
        Assert.Contains("Flow not found", body!["message"]!.GetValue<string>());

        var (invalid, invalidBody, _) = await SendAsync(HttpMethod.Post, "api/v1/executions/company.team/hello", Form(("invalid", "x")));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, invalid);
        Assert.StartsWith("Invalid entity: inputs.invalid", invalidBody!["message"]!.GetValue<string>());

        var (system, _, _) = await SendAsync(HttpMethod.Post, "api/v1/executions/company.team/hello?labels=system.x:y", Form());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, system);
        var (emptyKey, _, _) = await SendAsync(HttpMethod.Post, "api/v1/executions/company.team/hello?labels=:value", Form());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, emptyKey);
        var (emptyValue, _, _) = await SendAsync(HttpMethod.Post, "api/v1/executions/company.team/hello?labels=key:", Form());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, emptyValue);

        await _server.Client.UpdateFlowAsync("company.team", "hello", FlowsApiTests.Hello + "\ndisabled: true\n");
        var (disabled, disabledBody, _) = await SendAsync(HttpMethod.Post, "api/v1/executions/company.team/hello", Form());
        Assert.Equal(HttpStatusCode.Conflict, disabled);
        Assert.Contains("disabled", disabledBody!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Create_from_json_body_and_wait()
    {
        var content = new StringContent("""{"namespace":"company.team","flowId":"hello","inputs":{"n":3,"ok":true},"labels":{"k":"v"}}""", Encoding.UTF8, "application/json");
        var (status, body, _) = await SendAsync(HttpMethod.Post, "api/v1/executions?wait=true", content);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("SUCCESS", body!["state"]!["current"]!.GetValue<string>());
        var request = Assert.Single(Fake.Created);
        Assert.Equal(3L, request.Inputs["n"]);
        Assert.Equal(true, request.Inputs["ok"]);
        Assert.Contains(request.Labels, l => l.Key == "k" && l.Value == "v");

        var (missing, _, _) = await SendAsync(HttpMethod.Post, "api/v1/executions", new StringContent("""{"flowId":"hello"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, missing);
        var (bad, _, _) = await SendAsync(HttpMethod.Post, "api/v1/executions", new StringContent("{", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, bad);
    }

    [Fact]
    public async Task Get_search_and_delete()
    {
        var first = await _server.Client.CreateExecutionAsync("company.team", "hello", labels: new Dictionary<string, string> { ["run"] = "1" });
        await _server.Client.CreateExecutionAsync("company.team", "hello", labels: new Dictionary<string, string> { ["run"] = "2" });
        var got = await _server.Client.GetExecutionAsync(first.Id);
        Assert.Equal(first.Id, got!.Id);
        Assert.NotEmpty(got.State.Histories);

        var all = await _server.Client.SearchExecutionsAsync("company", "hello");
        Assert.Equal(2, all.Total);
        var byLabel = await _server.Client.SearchExecutionsAsync(labels: new Dictionary<string, string> { ["run"] = "1" });
        Assert.Equal(first.Id, Assert.Single(byLabel.Results).Id);
        var (_, filtered, _) = await SendAsync(HttpMethod.Get, "api/v1/executions/search?filters[namespace][EQUALS]=company.team&filters[labels][EQUALS][run]=2&filters[state][IN]=RUNNING");
        Assert.Equal(1, filtered!["total"]!.GetValue<int>());
        var (_, none, _) = await SendAsync(HttpMethod.Get, "api/v1/executions/search?state=FAILED");
        Assert.Equal(0, none!["total"]!.GetValue<int>());
        var (_, page, _) = await SendAsync(HttpMethod.Get, "api/v1/executions?namespace=company.team&flowId=hello&size=1&page=2&sort=state.startDate:asc");
        Assert.Equal(2, page!["total"]!.GetValue<int>());
        Assert.NotEqual(first.Id, page["results"]![0]!["id"]!.GetValue<string>());
        var (_, recent, _) = await SendAsync(HttpMethod.Get, "api/v1/executions/search?timeRange=PT1H");
        Assert.Equal(2, recent!["total"]!.GetValue<int>());
        var (badState, _, _) = await SendAsync(HttpMethod.Get, "api/v1/executions/search?state=NOPE");
        Assert.Equal(HttpStatusCode.BadRequest, badState);

        await _server.Client.DeleteExecutionAsync(first.Id);
        Assert.Null(await _server.Client.GetExecutionAsync(first.Id));
        var error = await Assert.ThrowsAsync<WindhoverApiException>(() => _server.Client.DeleteExecutionAsync(first.Id));
        Assert.Equal(404, error.StatusCode);
    }

    [Fact]
    public async Task Kill_restart_replay_pause_resume_labels_state()
    {
        var execution = await _server.Client.CreateExecutionAsync("company.team", "hello");
        var (resumeRunning, _, _) = await SendAsync(HttpMethod.Post, $"api/v1/executions/{execution.Id}/resume", Form());
        Assert.Equal(HttpStatusCode.Conflict, resumeRunning);

        var (paused, pausedBody, _) = await SendAsync(HttpMethod.Post, $"api/v1/executions/{execution.Id}/pause");
        Assert.Equal(HttpStatusCode.OK, paused);
        Assert.Equal("PAUSED", pausedBody!["state"]!["current"]!.GetValue<string>());
        var (resumed, _, _) = await SendAsync(HttpMethod.Post, $"api/v1/executions/{execution.Id}/resume", Form(("answer", "yes")));
        Assert.Equal(HttpStatusCode.NoContent, resumed);

        var labelled = await _server.Client.SetLabelsAsync(execution.Id, new Dictionary<string, string> { ["a"] = "b" });
        Assert.Equal("a", Assert.Single(labelled.Labels!).Key);
        var (badLabels, _, _) = await SendAsync(HttpMethod.Post, $"api/v1/executions/{execution.Id}/labels", new StringContent("""[{"key":"","value":"x"}]""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, badLabels);

        var taskRunId = labelled.TaskRunList![0].Id;
        var (changed, changedBody, _) = await SendAsync(HttpMethod.Post, $"api/v1/executions/{execution.Id}/state",
            new StringContent($$"""{"taskRunId":"{{taskRunId}}","state":"SUCCESS"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, changed);
        Assert.Equal("SUCCESS", changedBody!["taskRunList"]![0]!["state"]!["current"]!.GetValue<string>());
        var (unknownTaskRun, _, _) = await SendAsync(HttpMethod.Post, $"api/v1/executions/{execution.Id}/state",
            new StringContent("""{"taskRunId":"nope","state":"SUCCESS"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.NotFound, unknownTaskRun);

        var (restartRunning, _, _) = await SendAsync(HttpMethod.Post, $"api/v1/executions/{execution.Id}/restart");
        Assert.Equal(HttpStatusCode.Conflict, restartRunning);
        var (killed, killedBody, _) = await SendAsync(HttpMethod.Delete, $"api/v1/executions/{execution.Id}/kill");
        Assert.Equal(HttpStatusCode.Accepted, killed);
        Assert.Equal("KILLED", killedBody!["state"]!["current"]!.GetValue<string>());
        var (killAgain, _, _) = await SendAsync(HttpMethod.Delete, $"api/v1/executions/{execution.Id}/kill");
        Assert.Equal(HttpStatusCode.Conflict, killAgain);
        var restarted = await _server.Client.RestartExecutionAsync(execution.Id);
        Assert.Equal("RESTARTED", restarted.State.Current);

        var replay = await _server.Client.ReplayExecutionAsync(execution.Id);
        Assert.NotEqual(execution.Id, replay.Id);
        Assert.Equal(execution.Id, replay.OriginalId);
        var (replayUnknown, _, _) = await SendAsync(HttpMethod.Post, $"api/v1/executions/{execution.Id}/replay?taskRunId=nope");
        Assert.Equal(HttpStatusCode.NotFound, replayUnknown);

        foreach (var (method, path) in new[] { (HttpMethod.Get, ""), (HttpMethod.Delete, "/kill"), (HttpMethod.Post, "/restart"), (HttpMethod.Post, "/pause") })
        {
            var (status, body, _) = await SendAsync(method, $"api/v1/executions/unknown{path}");
            Assert.Equal(HttpStatusCode.NotFound, status);
            Assert.NotNull(body!["message"]);
        }
    }

    [Fact]
    public async Task Flow_named_like_an_action_can_still_be_executed()
    {
        await _server.Client.CreateFlowAsync(FlowsApiTests.Hello.Replace("id: hello", "id: pause", StringComparison.Ordinal));
        var (status, body, _) = await SendAsync(HttpMethod.Post, "api/v1/executions/company.team/pause", Form());
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("pause", body!["flowId"]!.GetValue<string>());
    }

    [Fact]
    public async Task Follow_streams_progress_then_end()
    {
        var execution = await _server.Client.CreateExecutionAsync("company.team", "hello");
        using var response = await _server.Http.GetAsync($"api/v1/executions/{execution.Id}/follow", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        await using var stream = await response.Content.ReadAsStreamAsync();
        using var reader = new StreamReader(stream);
        Assert.Equal("event: progress", await reader.ReadLineAsync());
        await _server.Client.KillExecutionAsync(execution.Id);
        var text = new StringBuilder();
        while (await reader.ReadLineAsync() is { } line)
        {
            text.AppendLine(line);
        }

        Assert.Contains("event: end", text.ToString());
        Assert.Contains("KILLED", text.ToString());
    }

    [Fact]
    public async Task File_download_checks_the_path_and_metrics_are_empty()
    {
        var execution = await _server.Client.CreateExecutionAsync("company.team", "hello");
        var uri = $"kestra:///company/team/hello/executions/{execution.Id}/outputs/out.txt";
        await _server.Get<IFileStorage>().PutAsync(uri, new MemoryStream("content"u8.ToArray()));
        Assert.Equal("content", Encoding.UTF8.GetString(await _server.Client.DownloadFileAsync(execution.Id, uri)));
        var (metas, metasBody, _) = await SendAsync(HttpMethod.Get, $"api/v1/executions/{execution.Id}/file/metas?path={Uri.EscapeDataString(uri)}");
        Assert.Equal(HttpStatusCode.OK, metas);
        Assert.Equal(7, metasBody!["size"]!.GetValue<int>());
        var (missing, _, _) = await SendAsync(HttpMethod.Get, $"api/v1/executions/{execution.Id}/file?path={Uri.EscapeDataString(uri + ".nope")}");
        Assert.Equal(HttpStatusCode.NotFound, missing);
        var (traversal, _, _) = await SendAsync(HttpMethod.Get, $"api/v1/executions/{execution.Id}/file?path={Uri.EscapeDataString("kestra:///company/../../etc/passwd")}");
        Assert.Equal(HttpStatusCode.BadRequest, traversal);
        var (other, _, _) = await SendAsync(HttpMethod.Get, $"api/v1/executions/{execution.Id}/file?path={Uri.EscapeDataString("kestra:///other/x.txt")}");
        Assert.Equal(HttpStatusCode.Conflict, other);

        var (_, metrics, _) = await SendAsync(HttpMethod.Get, $"api/v1/metrics/{execution.Id}");
        Assert.Equal(0, metrics!["total"]!.GetValue<int>());
        var (_, flow, _) = await SendAsync(HttpMethod.Get, $"api/v1/executions/{execution.Id}/flow");
        Assert.Equal("hello", flow!["id"]!.GetValue<string>());
    }
}

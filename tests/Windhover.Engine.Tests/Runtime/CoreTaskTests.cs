using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Windhover.Engine.Executions;
using Windhover.Engine.Runtime;
using Windhover.Engine.Stores;
using Windhover.Flows.Yaml;

namespace Windhover.Engine.Tests.Runtime;

/// <summary>Core tasks run by the local runtime over in-memory stores; HTTP against a real server on 127.0.0.1.</summary>
public sealed class CoreTaskTests : IAsyncLifetime
{
    private readonly HttpListener _listener = new();
    private string _url = "";
    private LocalRuntime _runtime = null!;
    private StoreSet _stores = null!;

    public async Task InitializeAsync()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        _url = $"http://127.0.0.1:{port}/";
        _listener.Prefixes.Add(_url);
        _listener.Start();
        _ = Task.Run(ServeAsync);
        _stores = InMemoryStores.Create();
        _runtime = new LocalRuntime(_stores, new RuntimeOptions { Secrets = new DictionarySecretProvider(new Dictionary<string, string> { ["API_TOKEN"] = "tok-123" }) });
        await _runtime.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _runtime.DisposeAsync();
        _listener.Close();
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            var request = context.Request;
            var body = await new StreamReader(request.InputStream).ReadToEndAsync();
            var response = context.Response;
            switch (request.Url!.AbsolutePath)
            {
                case "/json":
                    response.ContentType = "application/json";
                    await response.OutputStream.WriteAsync(Encoding.UTF8.GetBytes(
                        $"{{\"method\":\"{request.HttpMethod}\",\"body\":{(body.Length == 0 ? "null" : body)},\"auth\":\"{request.Headers["Authorization"]}\",\"x\":\"{request.Headers["X-Test"]}\"}}"));
                    break;
                case "/missing":
                    response.StatusCode = 404;
                    await response.OutputStream.WriteAsync("nope"u8.ToArray());
                    break;
                case "/file.csv":
                    response.ContentType = "text/csv";
                    await response.OutputStream.WriteAsync("a,b\n1,2\n"u8.ToArray());
                    break;
            }

            response.Close();
        }
    }

    private async Task<Execution> RunAsync(string tasksYaml)
    {
        var flow = FlowParser.Default.Parse("id: t\nnamespace: company.team\ntasks:\n" + tasksYaml);
        Assert.True(flow.IsValid, string.Join("\n", flow.Problems.Select(p => p.ToDisplayString())));
        await _stores.Flows.SaveAsync(flow.Flow!);
        var created = await _runtime.CreateExecutionAsync(new ExecutionRequest { Namespace = "company.team", FlowId = "t" });
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        return await _runtime.WaitForTerminalAsync(created.Id, cts.Token);
    }

    private static TaskRun Run(Execution e, string id) => e.TaskRunList.Single(t => t.TaskId == id);

    [Fact]
    public async Task Http_request_parses_json_sends_body_headers_and_auth()
    {
        var execution = await RunAsync($$$"""
              - id: req
                type: io.kestra.plugin.core.http.Request
                uri: "{{{_url}}}json"
                method: POST
                contentType: application/json
                body: '{"a": 1}'
                headers:
                  X-Test: yes
                options:
                  auth:
                    type: BEARER
                    token: "{{ secret('API_TOKEN') }}"
              - id: log
                type: io.kestra.plugin.core.log.Log
                message: "token {{ secret('API_TOKEN') }}"
            """);
        Assert.Equal(State.Success, execution.State.Current);
        var outputs = Run(execution, "req").Outputs!;
        Assert.Equal(200L, outputs["code"]);
        var body = (IReadOnlyDictionary<string, object?>)outputs["body"]!;
        Assert.Equal("POST", body["method"]);
        Assert.Equal(1L, ((IReadOnlyDictionary<string, object?>)body["body"]!)["a"]);
        Assert.Equal("Bearer tok-123", body["auth"]);
        Assert.Equal("yes", body["x"]);
        var log = Assert.Single(await _stores.Logs.FindAsync(execution.Id, taskId: "log"));
        Assert.Equal("token ******", log.Message);
    }

    [Fact]
    public async Task Http_status_400_or_more_fails_unless_allowed()
    {
        var failed = await RunAsync($$$"""
              - id: req
                type: io.kestra.plugin.core.http.Request
                uri: "{{{_url}}}missing"
            """);
        Assert.Equal(State.Failed, failed.State.Current);
        Assert.Contains(await _stores.Logs.FindAsync(failed.Id), l => l.Message.Contains("Failed http request with response code '404'", StringComparison.Ordinal));

        var allowed = await RunAsync($$$"""
              - id: req
                type: io.kestra.plugin.core.http.Request
                uri: "{{{_url}}}missing"
                allowFailed: true
            """);
        Assert.Equal(State.Success, allowed.State.Current);
        Assert.Equal(404L, Run(allowed, "req").Outputs!["code"]);
        Assert.Equal("nope", Run(allowed, "req").Outputs!["body"]);
    }

    [Fact]
    public async Task Http_download_stores_the_body_in_internal_storage()
    {
        var execution = await RunAsync($$$"""
              - id: dl
                type: io.kestra.plugin.core.http.Download
                uri: "{{{_url}}}file.csv"
              - id: read
                type: io.kestra.plugin.core.debug.Return
                format: "{{ read(outputs.dl.uri) }}"
            """);
        Assert.Equal(State.Success, execution.State.Current);
        var uri = (string)Run(execution, "dl").Outputs!["uri"]!;
        Assert.StartsWith($"kestra:///company/team/t/executions/{execution.Id}/tasks/dl/", uri, StringComparison.Ordinal);
        Assert.Equal(8L, Run(execution, "dl").Outputs!["length"]);
        Assert.Equal("a,b\n1,2\n", Run(execution, "read").Outputs!["value"]);
    }

    [Fact]
    public async Task Kv_tasks_set_get_overwrite_delete_and_keys()
    {
        var execution = await RunAsync("""
              - id: set
                type: io.kestra.plugin.core.kv.Set
                key: color
                value: blue
              - id: set2
                type: io.kestra.plugin.core.kv.Set
                key: size
                value: "{{ 40 + 2 }}"
              - id: get
                type: io.kestra.plugin.core.kv.Get
                key: color
              - id: keys
                type: io.kestra.plugin.core.kv.GetKeys
              - id: del
                type: io.kestra.plugin.core.kv.Delete
                key: color
              - id: again
                type: io.kestra.plugin.core.kv.Get
                key: color
              - id: expr
                type: io.kestra.plugin.core.debug.Return
                format: "{{ kv('size') }}"
              - id: refuse
                type: io.kestra.plugin.core.kv.Set
                key: size
                value: 1
                overwrite: false
            """);
        Assert.Equal(State.Failed, execution.State.Current);
        Assert.Equal("blue", Run(execution, "get").Outputs!["value"]);
        Assert.Equal(new List<object?> { "color", "size" }, Run(execution, "keys").Outputs!["keys"]);
        Assert.Equal(true, Run(execution, "del").Outputs!["deleted"]);
        Assert.Null(Run(execution, "again").Outputs!["value"]);
        Assert.Equal("42", Run(execution, "expr").Outputs!["value"]);
        Assert.Equal(State.Failed, Run(execution, "refuse").State.Current);
        Assert.Contains(await _stores.Logs.FindAsync(execution.Id, taskId: "refuse"),
            l => l.Message == "Cannot set value for key 'size'. Key already exists and `overwrite` is set to `false`.");
    }

    [Fact]
    public async Task Fail_with_condition_log_levels_and_echo()
    {
        var execution = await RunAsync("""
              - id: notyet
                type: io.kestra.plugin.core.execution.Fail
                condition: "{{ 1 == 2 }}"
              - id: logs
                type: io.kestra.plugin.core.log.Log
                level: WARN
                message:
                  - one
                  - "two {{ 1 + 1 }}"
              - id: boom
                type: io.kestra.plugin.core.execution.Fail
                errorMessage: custom failure
            """);
        Assert.Equal(State.Failed, execution.State.Current);
        Assert.Equal(State.Success, Run(execution, "notyet").State.Current);
        var logs = await _stores.Logs.FindAsync(execution.Id, taskId: "logs");
        Assert.Equal(["one", "two 2"], logs.Select(l => l.Message));
        Assert.All(logs, l => Assert.Equal(Windhover.Engine.Executor.ExecutorLogLevel.Warn, l.Level));
        Assert.Contains(await _stores.Logs.FindAsync(execution.Id, taskId: "boom"), l => l.Message == "custom failure");
    }

    [Fact]
    public async Task Sleep_and_retry_follow_the_injected_clock()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var stores = InMemoryStores.Create(time);
        await using var runtime = new LocalRuntime(stores, new RuntimeOptions { TimeProvider = time });
        await runtime.StartAsync();
        var flow = FlowParser.Default.Parse("""
            id: clock
            namespace: company.team
            tasks:
              - id: nap
                type: io.kestra.plugin.core.flow.Sleep
                duration: PT1H
              - id: flaky
                type: io.kestra.plugin.core.execution.Fail
                retry:
                  type: constant
                  interval: PT10M
                  maxAttempt: 2
            """).Flow!;
        await stores.Flows.SaveAsync(flow);
        var created = await runtime.CreateExecutionAsync(new ExecutionRequest { Namespace = "company.team", FlowId = "clock" });
        var wait = runtime.WaitForTerminalAsync(created.Id);
        for (var i = 0; i < 200 && !wait.IsCompleted; i++)
        {
            await Task.Delay(10);
            time.Advance(TimeSpan.FromMinutes(5));
        }

        var final = await wait.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(State.Failed, final.State.Current);
        Assert.Equal(2, Run(final, "flaky").AttemptCount);
        Assert.True(Run(final, "nap").State.Duration >= TimeSpan.FromHours(1));
    }
}

using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Windhover.Engine.Executions;
using Windhover.Engine.Runtime;
using Windhover.Plugins.Testing;

namespace Windhover.Plugins.Notifications.Tests;

internal sealed record Received(string Method, string Path, string ContentType, IReadOnlyDictionary<string, string> Headers, string Body);

/// <summary>A real HTTP server on 127.0.0.1 that records requests and answers with a scripted status.</summary>
internal sealed class WebhookServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private WebhookServer(WebApplication app) => _app = app;

    public ConcurrentQueue<Received> Requests { get; } = new();
    public int Status { get; set; } = 200;
    public string Answer { get; set; } = "ok";
    public string BaseUrl { get; private set; } = "";

    public static async Task<WebhookServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var server = new WebhookServer(app);
        app.Run(async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync();
            server.Requests.Enqueue(new Received(context.Request.Method, context.Request.Path, context.Request.ContentType ?? "",
                context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase), body));
            context.Response.StatusCode = server.Status;
            await context.Response.WriteAsync(server.Answer);
        });
        await app.StartAsync();
        server.BaseUrl = app.Urls.Single().TrimEnd('/');
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

public sealed class WebhookFlowTests : IAsyncLifetime
{
    private WebhookServer _server = null!;
    private FlowHarness _h = null!;

    public async Task InitializeAsync()
    {
        _server = await WebhookServer.StartAsync();
        _h = await FlowHarness.StartAsync((types, tasks) => NotificationsPlugin.Register(types, tasks),
            new EnvironmentSecretProvider(new Dictionary<string, string> { ["SECRET_SLACK_WEBHOOK"] = Convert.ToBase64String("http://127.0.0.1:1/never"u8.ToArray()) }));
    }

    public async Task DisposeAsync()
    {
        await _h.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Slack_payload_is_rendered_and_posted_as_json()
    {
        var execution = await _h.RunAsync($$$"""
            id: slack
            namespace: test.notify
            tasks:
              - id: fail
                type: io.kestra.plugin.core.execution.Fail
                errorMessage: boom
            errors:
              - id: alert
                type: io.kestra.plugin.notifications.slack.SlackIncomingWebhook
                url: {{{_server.BaseUrl}}}/services/T000/B000/XXXX
                payload: |
                  {
                    "text": "Failure alert for flow {{ flow.namespace }}.{{ flow.id }} with ID {{ execution.id }}"
                  }
            """);

        Assert.Equal(State.Failed, execution.State.Current);
        Assert.Equal(State.Success, FlowHarness.TaskRun(execution, "alert").State.Current);
        var request = Assert.Single(_server.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal("/services/T000/B000/XXXX", request.Path);
        Assert.StartsWith("application/json", request.ContentType, StringComparison.Ordinal);
        Assert.Equal($"Failure alert for flow test.notify.slack with ID {execution.Id}", JsonNode.Parse(request.Body)!["text"]!.GetValue<string>());
    }

    [Fact]
    public async Task Slack_message_text_becomes_a_text_payload()
    {
        var execution = await _h.RunAsync($$$"""
            id: slack-text
            namespace: test.notify
            tasks:
              - id: alert
                type: io.kestra.plugin.notifications.slack.SlackIncomingWebhook
                url: {{{_server.BaseUrl}}}/hook
                messageText: "Done: {{ flow.id }} \"quoted\""
            """);

        Assert.Equal(State.Success, execution.State.Current);
        Assert.Equal("Done: slack-text \"quoted\"", JsonNode.Parse(Assert.Single(_server.Requests).Body)!["text"]!.GetValue<string>());
    }

    [Fact]
    public async Task Generic_webhook_sends_a_map_payload_with_headers()
    {
        var execution = await _h.RunAsync($$$"""
            id: generic
            namespace: test.notify
            tasks:
              - id: notify
                type: io.kestra.plugin.notifications.webhook.WebhookNotification
                url: {{{_server.BaseUrl}}}/events
                method: PUT
                headers:
                  X-Token: abc
                payload:
                  flow: "{{ flow.id }}"
                  count: "{{ 1 + 2 }}"
                  tags: [a, b]
            """);

        Assert.Equal(State.Success, execution.State.Current);
        var request = Assert.Single(_server.Requests);
        Assert.Equal("PUT", request.Method);
        Assert.Equal("abc", request.Headers["X-Token"]);
        var body = JsonNode.Parse(request.Body)!;
        Assert.Equal("generic", body["flow"]!.GetValue<string>());
        Assert.Equal("3", body["count"]!.ToString()); // rendered map values are strings, as in Kestra
        Assert.Equal(2, body["tags"]!.AsArray().Count);
    }

    [Fact]
    public async Task Error_status_fails_the_task_with_the_answer_and_the_url_masked()
    {
        _server.Status = 403;
        _server.Answer = "invalid_token";
        var url = $"{_server.BaseUrl}/services/secret-path";
        var execution = await _h.RunAsync($$$"""
            id: teams-error
            namespace: test.notify
            tasks:
              - id: notify
                type: io.kestra.plugin.notifications.teams.TeamsIncomingWebhook
                url: {{{url}}}
                payload: '{"text": "{{ flow.id }} at {{{url}}}"}'
            """);

        Assert.Equal(State.Failed, execution.State.Current);
        var text = await _h.LogTextAsync(execution.Id);
        Assert.Contains("HTTP 403", text, StringComparison.Ordinal);
        Assert.Contains("invalid_token", text, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-path", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invalid_json_payload_and_unreachable_url_fail_clearly()
    {
        var bad = await _h.RunAsync($$$"""
            id: bad-json
            namespace: test.notify
            tasks:
              - id: notify
                type: io.kestra.plugin.notifications.discord.DiscordIncomingWebhook
                url: {{{_server.BaseUrl}}}/x
                payload: '{"text": '
            """);
        Assert.Equal(State.Failed, bad.State.Current);
        Assert.Contains("not valid JSON", await _h.LogTextAsync(bad.Id), StringComparison.Ordinal);
        Assert.Empty(_server.Requests);

        var down = await _h.RunAsync("""
            id: down
            namespace: test.notify
            tasks:
              - id: notify
                type: io.kestra.plugin.notifications.slack.SlackIncomingWebhook
                url: "{{ secret('SLACK_WEBHOOK') }}"
                messageText: hi
            """);
        Assert.Equal(State.Failed, down.State.Current);
        var text = await _h.LogTextAsync(down.Id);
        Assert.Contains("Cannot reach the webhook", text, StringComparison.Ordinal);
        Assert.DoesNotContain("127.0.0.1:1/never", text, StringComparison.Ordinal);
    }
}

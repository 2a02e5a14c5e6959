using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Windhover.Engine.Tasks;
using Windhover.Engine.Tasks.Core;
using Windhover.Flows.Expressions;
using Windhover.Flows.TaskTypes;

namespace Windhover.Plugins.Notifications;

/// <summary>Settings of the notification task types.</summary>
public sealed record NotificationsPluginOptions
{
    /// <summary>The handler doing the HTTP calls; null: one shared <see cref="SocketsHttpHandler"/>.</summary>
    public HttpMessageHandler? Handler { get; init; }

    /// <summary>Timeout of one webhook call (default 30 s).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// Notification task types that POST JSON to an incoming webhook: Kestra's
/// <c>io.kestra.plugin.notifications.slack.SlackIncomingWebhook</c> (<c>url</c>, <c>payload</c> or <c>messageText</c>),
/// the same shape for Teams, Discord and Google Chat incoming webhooks, and a generic
/// <c>io.kestra.plugin.notifications.webhook.WebhookNotification</c> (<c>url</c>, <c>payload</c> as JSON text or a map,
/// <c>headers</c>, <c>method</c>) for any JSON endpoint (Kestra has no generic one).
/// </summary>
public static class NotificationsPlugin
{
    public const string Slack = "io.kestra.plugin.notifications.slack.SlackIncomingWebhook";
    public const string Teams = "io.kestra.plugin.notifications.teams.TeamsIncomingWebhook";
    public const string Discord = "io.kestra.plugin.notifications.discord.DiscordIncomingWebhook";
    public const string GoogleChat = "io.kestra.plugin.notifications.google.GoogleChatIncomingWebhook";
    public const string Webhook = "io.kestra.plugin.notifications.webhook.WebhookNotification";

    private static readonly Lazy<HttpMessageHandler> SharedHandler = new(() => new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) });

    /// <summary>Adds the validation descriptors to <paramref name="types"/> and the implementations to <paramref name="tasks"/>.</summary>
    public static void Register(TaskTypeRegistry types, TaskRegistry tasks, NotificationsPluginOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(types);
        ArgumentNullException.ThrowIfNull(tasks);
        options ??= new NotificationsPluginOptions();
        var http = new HttpClient(options.Handler ?? SharedHandler.Value, disposeHandler: false) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
        foreach (var descriptor in Descriptors())
        {
            types.Register(descriptor);
        }

        tasks.Register(Slack, new WebhookTask(WebhookKind.Slack, http, options.Timeout));
        tasks.Register(Teams, new WebhookTask(WebhookKind.Incoming, http, options.Timeout));
        tasks.Register(Discord, new WebhookTask(WebhookKind.Incoming, http, options.Timeout));
        tasks.Register(GoogleChat, new WebhookTask(WebhookKind.Incoming, http, options.Timeout));
        tasks.Register(Webhook, new WebhookTask(WebhookKind.Generic, http, options.Timeout));
    }

    public static IEnumerable<TaskTypeDescriptor> Descriptors()
    {
        const PropertyKind Str = PropertyKind.String, Map = PropertyKind.Map;
        TaskTypeDescriptor T(string name, params PropertyDescriptor[] properties) =>
            new() { Name = name, Kind = TaskKind.Runnable, Properties = [new("url", Str, true), new("options", Map), .. properties] };

        yield return T(Slack, new PropertyDescriptor("payload", Str), new PropertyDescriptor("messageText", Str));
        yield return T(Teams, new PropertyDescriptor("payload", Str));
        yield return T(Discord, new PropertyDescriptor("payload", Str));
        yield return T(GoogleChat, new PropertyDescriptor("payload", Str));
        yield return T(Webhook, new PropertyDescriptor("payload", Str | Map | PropertyKind.List, true), new PropertyDescriptor("headers", Map), PropertyDescriptor.Enum("method", false, "POST", "PUT", "PATCH"));
    }
}

internal enum WebhookKind
{
    Slack,
    Incoming,
    Generic,
}

/// <summary>Posts a rendered JSON payload to the webhook <c>url</c>; a non-2xx answer fails the task with its status and body.</summary>
internal sealed class WebhookTask(WebhookKind kind, HttpClient http, TimeSpan timeout) : IRunnableTask
{
    private const int MaxQuoted = 500;

    public async Task<TaskOutcome> RunAsync(RunContext context, CancellationToken cancellationToken)
    {
        var url = context.RenderRequired<string>("url");
        context.AddSecret(url); // incoming-webhook URLs carry their credential
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new TaskPropertyException("Property 'url' must be an absolute http(s) URL");
        }

        var payload = Payload(context);
        var method = kind == WebhookKind.Generic ? new HttpMethod(context.Render("method", "POST").ToUpperInvariant()) : HttpMethod.Post;
        using var request = new HttpRequestMessage(method, uri) { Content = new StringContent(payload, Encoding.UTF8) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        if (kind == WebhookKind.Generic)
        {
            foreach (var (name, value) in context.Render<IReadOnlyDictionary<string, string>>("headers") ?? new Dictionary<string, string>())
            {
                if (!request.Headers.TryAddWithoutValidation(name, value))
                {
                    request.Content.Headers.Remove(name);
                    request.Content.Headers.TryAddWithoutValidation(name, value);
                }
            }
        }

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TaskFailedException($"The webhook did not answer within {timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s");
        }
        catch (HttpRequestException e)
        {
            throw new TaskFailedException($"Cannot reach the webhook: {e.Message}");
        }

        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new TaskFailedException(string.Create(CultureInfo.InvariantCulture,
                    $"The webhook answered HTTP {(int)response.StatusCode} {response.ReasonPhrase}: {(body.Length > MaxQuoted ? body[..MaxQuoted] + "..." : body)}"));
            }

            context.Logger.Debug(string.Create(CultureInfo.InvariantCulture, $"Webhook answered HTTP {(int)response.StatusCode}"));
        }

        return TaskOutcome.Success();
    }

    private string Payload(RunContext context)
    {
        if (kind == WebhookKind.Slack && !context.HasProperty("payload"))
        {
            var text = context.Render<string>("messageText") ?? throw new TaskPropertyException("SlackIncomingWebhook needs 'payload' or 'messageText'");
            return JsonSerializer.Serialize(new Dictionary<string, string> { ["text"] = text });
        }

        var raw = context.RawProperty("payload") ?? throw new TaskPropertyException($"Missing required property 'payload' on task '{context.Task.Id}'");
        if (raw is string template)
        {
            var text = context.RenderString(template);
            try
            {
                using var _ = JsonDocument.Parse(text);
            }
            catch (JsonException e)
            {
                throw new TaskPropertyException($"Property 'payload' is not valid JSON after rendering: {e.Message}");
            }

            if (kind == WebhookKind.Slack && context.Render<string>("messageText") is { } extra)
            {
                context.Logger.Debug($"Both 'payload' and 'messageText' are set; 'payload' is sent ({extra.Length} chars of messageText ignored)");
            }

            return text;
        }

        return ExpressionValues.ToJson(context.RenderValue(raw));
    }
}

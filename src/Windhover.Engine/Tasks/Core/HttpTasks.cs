using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Windhover.Flows.Expressions;

namespace Windhover.Engine.Tasks.Core;

/// <summary>Shared request building for <c>http.Request</c> and <c>http.Download</c>.</summary>
internal static class HttpSupport
{
    public static HttpClient CreateClient(RunContext context, IReadOnlyDictionary<string, object?>? options)
    {
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = options is null || Option<bool?>(options, "followRedirects") != false,
            AutomaticDecompression = DecompressionMethods.All,
        };
        if (Option<TimeSpan?>(options, "connectTimeout") is { } connect)
        {
            handler.ConnectTimeout = connect;
        }

        var client = new HttpClient(handler, disposeHandler: true)
        {
            Timeout = Option<TimeSpan?>(options, "readTimeout") ?? TimeSpan.FromMinutes(5),
        };
        return client;
    }

    public static T? Option<T>(IReadOnlyDictionary<string, object?>? options, string name) =>
        options is not null && options.TryGetValue(name, out var value) && value is not null ? ValueConverter.Convert<T>(value, "options." + name) : default;

    public static HttpRequestMessage BuildRequest(RunContext context, IReadOnlyDictionary<string, object?>? options)
    {
        var uri = context.RenderRequired<string>("uri");
        var method = new HttpMethod(context.Render("method", "GET").ToUpperInvariant());
        var request = new HttpRequestMessage(method, uri);
        var contentType = context.Render<string>("contentType");

        if (context.Render<IReadOnlyDictionary<string, object?>>("formData") is { } form)
        {
            if (contentType is not null && contentType.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase))
            {
                var multipart = new MultipartFormDataContent();
                foreach (var (key, value) in form)
                {
                    multipart.Add(new StringContent(ExpressionValues.ToText(value)), key);
                }

                request.Content = multipart;
            }
            else
            {
                request.Content = new FormUrlEncodedContent(form.Select(kv => new KeyValuePair<string, string>(kv.Key, ExpressionValues.ToText(kv.Value))));
            }
        }
        else if (context.HasProperty("body"))
        {
            var body = context.RenderValue(context.RawProperty("body"));
            var text = body as string ?? ExpressionValues.ToJson(body);
            request.Content = new StringContent(text, Encoding.UTF8);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType ?? (body is string ? "text/plain; charset=utf-8" : "application/json"));
        }

        if (contentType is not null && request.Content is not null && request.Content is not MultipartFormDataContent)
        {
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }

        foreach (var (name, value) in context.Render<IReadOnlyDictionary<string, object?>>("headers") ?? new Dictionary<string, object?>())
        {
            var values = value is IReadOnlyList<object?> list ? list.Select(ExpressionValues.ToText).ToList() : [ExpressionValues.ToText(value)];
            if (!request.Headers.TryAddWithoutValidation(name, values))
            {
                request.Content ??= new ByteArrayContent([]);
                request.Content.Headers.Remove(name);
                request.Content.Headers.TryAddWithoutValidation(name, values);
            }
        }

        var user = Option<string>(options, "basicAuthUser");
        var password = Option<string>(options, "basicAuthPassword");
        if (Option<IReadOnlyDictionary<string, object?>>(options, "auth") is { } auth)
        {
            var type = Option<string>(auth, "type")?.ToUpperInvariant();
            if (type == "BEARER" && Option<string>(auth, "token") is { } token)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                context.AddSecret(token);
            }
            else
            {
                user ??= Option<string>(auth, "username");
                password ??= Option<string>(auth, "password");
            }
        }

        if (user is not null)
        {
            context.AddSecret(password);
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        }

        return request;
    }

    public static Dictionary<string, object?> Headers(HttpResponseMessage response)
    {
        var headers = new OrderedDictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
        {
            headers[name] = values.Cast<object?>().ToList();
        }

        return new Dictionary<string, object?>(headers, StringComparer.OrdinalIgnoreCase);
    }

    public static bool AllowFailed(RunContext context, IReadOnlyDictionary<string, object?>? options) =>
        context.Render("allowFailed", false) || Option<bool?>(options, "allowFailed") == true;

    public static Exception Failure(HttpResponseMessage response, string? body) =>
        new TaskFailedException(string.IsNullOrEmpty(body)
            ? string.Create(CultureInfo.InvariantCulture, $"Failed http request with response code '{(int)response.StatusCode}'")
            : string.Create(CultureInfo.InvariantCulture, $"Failed http request with response code '{(int)response.StatusCode}' and body '{(body.Length > 1000 ? body[..1000] + "..." : body)}'"));
}

/// <summary>
/// <c>io.kestra.plugin.core.http.Request</c>: <c>uri</c>, <c>method</c>, <c>headers</c>, <c>body</c>, <c>formData</c>,
/// <c>contentType</c>, <c>options</c> (connectTimeout, readTimeout, followRedirects, basicAuthUser/Password or auth),
/// <c>allowFailed</c>. Outputs <c>uri</c>, <c>code</c>, <c>headers</c>, <c>body</c> (parsed when the response is JSON).
/// </summary>
public sealed class HttpRequestTask : IRunnableTask
{
    public async Task<TaskOutcome> RunAsync(RunContext context, CancellationToken cancellationToken)
    {
        var options = context.Render<IReadOnlyDictionary<string, object?>>("options");
        using var client = HttpSupport.CreateClient(context, options);
        using var request = HttpSupport.BuildRequest(context, options);
        context.Logger.Debug($"Request '{request.Method} {request.RequestUri}'");
        using var response = await client.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        var code = (int)response.StatusCode;
        if (code >= 400 && !HttpSupport.AllowFailed(context, options))
        {
            throw HttpSupport.Failure(response, text);
        }

        object? body = text;
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        if (mediaType is not null && (mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) || mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase))
            && !string.IsNullOrWhiteSpace(text))
        {
            try
            {
                body = ExpressionValues.FromJson(text);
            }
            catch (System.Text.Json.JsonException)
            {
                body = text;
            }
        }

        return TaskOutcome.Success(new Dictionary<string, object?>
        {
            ["uri"] = request.RequestUri?.ToString(),
            ["code"] = (long)code,
            ["headers"] = HttpSupport.Headers(response),
            ["body"] = string.IsNullOrEmpty(text) ? null : body,
        });
    }
}

/// <summary>
/// <c>io.kestra.plugin.core.http.Download</c>: like Request, the body goes to internal storage. Outputs <c>uri</c>
/// (kestra:///), <c>code</c>, <c>length</c>, <c>headers</c>. <c>failOnEmptyResponse</c> (true).
/// </summary>
public sealed class HttpDownloadTask : IRunnableTask
{
    public async Task<TaskOutcome> RunAsync(RunContext context, CancellationToken cancellationToken)
    {
        var options = context.Render<IReadOnlyDictionary<string, object?>>("options");
        using var client = HttpSupport.CreateClient(context, options);
        using var request = HttpSupport.BuildRequest(context, options);
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        var code = (int)response.StatusCode;
        if (code >= 400 && !HttpSupport.AllowFailed(context, options))
        {
            throw HttpSupport.Failure(response, await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
        }

        var name = response.Content.Headers.ContentDisposition?.FileNameStar?.Trim('"')
            ?? response.Content.Headers.ContentDisposition?.FileName?.Trim('"')
            ?? Path.GetFileName(request.RequestUri?.AbsolutePath ?? "");
        if (string.IsNullOrWhiteSpace(name))
        {
            name = "download";
        }

        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using var buffer = new MemoryStream();
        await body.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        if (buffer.Length == 0 && context.Render("failOnEmptyResponse", true))
        {
            throw new TaskFailedException("No response from server");
        }

        buffer.Position = 0;
        var uri = await context.PutFileAsync(name, buffer, cancellationToken).ConfigureAwait(false);
        context.Logger.Debug($"Downloaded {buffer.Length} bytes from '{request.RequestUri}'");
        return TaskOutcome.Success(new Dictionary<string, object?>
        {
            ["uri"] = uri,
            ["code"] = (long)code,
            ["length"] = buffer.Length,
            ["headers"] = HttpSupport.Headers(response),
        });
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;

namespace Windhover.Client;

/// <summary>
/// Typed client of the Windhover REST API v1 (also Kestra's). The <see cref="HttpClient"/> must have its
/// <see cref="HttpClient.BaseAddress"/> set to the server root (e.g. <c>http://127.0.0.1:8080/</c>).
/// </summary>
public sealed class WindhoverClient
{
    private readonly HttpClient _http;
    private readonly string _prefix;

    /// <param name="tenant">Use the tenant form <c>/api/v1/{tenant}/...</c> (e.g. "main"); null for <c>/api/v1/...</c>.</param>
    public WindhoverClient(HttpClient http, string? tenant = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        _http = http;
        _prefix = tenant is null ? "api/v1" : "api/v1/" + Uri.EscapeDataString(tenant);
    }

    /// <summary>A client of the server at <paramref name="server"/> with its own <see cref="System.Net.Http.HttpClient"/>.</summary>
    /// <param name="user">Basic auth user (with <paramref name="password"/>).</param>
    /// <param name="apiToken">Sent as <c>Authorization: Bearer</c> (the server's API token, or a Kestra API key); used when no user is given.</param>
    /// <param name="timeout">Per request; default 5 minutes.</param>
    public static WindhoverClient Create(Uri server, string? user = null, string? password = null, string? tenant = null, string? apiToken = null, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        var root = server.AbsoluteUri.EndsWith('/') ? server : new Uri(server.AbsoluteUri + "/");
        var http = new HttpClient { BaseAddress = root, Timeout = timeout ?? TimeSpan.FromMinutes(5) };
        if (user is not null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + (password ?? ""))));
        }
        else if (!string.IsNullOrEmpty(apiToken))
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiToken);
        }

        return new WindhoverClient(http, tenant);
    }

    public HttpClient HttpClient => _http;

    /// <summary>The JSON settings the client reads the API with (web naming); serialises its models back to the API's JSON.</summary>
    public static JsonSerializerOptions SerializerOptions => ClientJsonContext.Default.Options;

    // ------------------------------------------------------------------ flows

    public Task<FlowInfo> CreateFlowAsync(string yaml, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, "flows", Yaml(yaml), ClientJsonContext.Default.FlowInfo, cancellationToken);

    public Task<FlowInfo> UpdateFlowAsync(string @namespace, string id, string yaml, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Put, $"flows/{E(@namespace)}/{E(id)}", Yaml(yaml), ClientJsonContext.Default.FlowInfo, cancellationToken);

    /// <summary>Creates the flow, or updates it when it exists.</summary>
    public async Task<FlowInfo> DeployFlowAsync(string yaml, CancellationToken cancellationToken = default)
    {
        try
        {
            return await CreateFlowAsync(yaml, cancellationToken);
        }
        catch (WindhoverApiException e) when (e.StatusCode is 409 or 422 && e.ApiMessage.Contains("already exists", StringComparison.Ordinal))
        {
            var (ns, id) = ReadFlowKey(yaml);
            return await UpdateFlowAsync(ns, id, yaml, cancellationToken);
        }
    }

    public async Task<FlowInfo?> GetFlowAsync(string @namespace, string id, CancellationToken cancellationToken = default)
    {
        try
        {
            return await SendAsync(HttpMethod.Get, $"flows/{E(@namespace)}/{E(id)}?source=true", null, ClientJsonContext.Default.FlowInfo, cancellationToken);
        }
        catch (WindhoverApiException e) when (e.StatusCode == 404)
        {
            return null;
        }
    }

    public Task DeleteFlowAsync(string @namespace, string id, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Delete, $"flows/{E(@namespace)}/{E(id)}", null, cancellationToken);

    public Task<List<FlowValidation>> ValidateFlowsAsync(string yaml, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, "flows/validate", Yaml(yaml), ClientJsonContext.Default.ListFlowValidation, cancellationToken);

    public Task<PagedResults<FlowInfo>> SearchFlowsAsync(string? @namespace = null, string? query = null, int page = 1, int size = 25, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, "flows/search" + Query(("namespace", @namespace), ("q", query), ("page", page.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("size", size.ToString(System.Globalization.CultureInfo.InvariantCulture))),
            null, ClientJsonContext.Default.PagedResultsFlowInfo, cancellationToken);

    // ------------------------------------------------------------------ executions

    /// <summary>Starts a flow with multipart inputs (Kestra's <c>POST /executions/{namespace}/{id}</c>).</summary>
    public Task<ExecutionInfo> CreateExecutionAsync(string @namespace, string flowId, IReadOnlyDictionary<string, string>? inputs = null,
        IEnumerable<FileInput>? files = null, IReadOnlyDictionary<string, string>? labels = null, bool wait = false, CancellationToken cancellationToken = default)
    {
        var form = new MultipartFormDataContent();
        foreach (var (key, value) in inputs ?? new Dictionary<string, string>())
        {
            form.Add(new StringContent(value, Encoding.UTF8), key);
        }

        foreach (var file in files ?? [])
        {
            var part = new ByteArrayContent(file.Content);
            part.Headers.ContentType = MediaTypeHeaderValue.Parse(file.ContentType);
            form.Add(part, "files", file.InputId);
        }

        var query = new List<(string, string?)>();
        foreach (var (key, value) in labels ?? new Dictionary<string, string>())
        {
            query.Add(("labels", key + ":" + value));
        }

        if (wait)
        {
            query.Add(("wait", "true"));
        }

        return SendAsync(HttpMethod.Post, $"executions/{E(@namespace)}/{E(flowId)}" + Query([.. query]), form.Any() ? form : null, ClientJsonContext.Default.ExecutionInfo, cancellationToken);
    }

    /// <summary>Starts a flow with a JSON body <c>{namespace, flowId, inputs, labels}</c> (<c>POST /api/v1/executions</c>).</summary>
    public Task<ExecutionInfo> CreateExecutionJsonAsync(string @namespace, string flowId, JsonObject? inputs = null, IReadOnlyDictionary<string, string>? labels = null,
        bool wait = false, CancellationToken cancellationToken = default)
    {
        var body = new JsonObject { ["namespace"] = @namespace, ["flowId"] = flowId, ["inputs"] = inputs?.DeepClone() ?? new JsonObject() };
        if (labels is not null)
        {
            body["labels"] = new JsonObject(labels.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value)));
        }

        return SendAsync(HttpMethod.Post, "executions" + (wait ? "?wait=true" : ""), Json(body), ClientJsonContext.Default.ExecutionInfo, cancellationToken);
    }

    public async Task<ExecutionInfo?> GetExecutionAsync(string executionId, CancellationToken cancellationToken = default)
    {
        try
        {
            return await SendAsync(HttpMethod.Get, $"executions/{E(executionId)}", null, ClientJsonContext.Default.ExecutionInfo, cancellationToken);
        }
        catch (WindhoverApiException e) when (e.StatusCode == 404)
        {
            return null;
        }
    }

    /// <summary>Polls until the execution is terminal (or <paramref name="until"/> says so).</summary>
    public async Task<ExecutionInfo> WaitForTerminalAsync(string executionId, TimeSpan? timeout = null, TimeSpan? pollInterval = null,
        Func<ExecutionInfo, bool>? until = null, CancellationToken cancellationToken = default)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout ?? TimeSpan.FromMinutes(1));
        var interval = pollInterval ?? TimeSpan.FromMilliseconds(50);
        while (true)
        {
            var execution = await GetExecutionAsync(executionId, cts.Token);
            if (execution is not null && (until?.Invoke(execution) ?? execution.IsTerminal))
            {
                return execution;
            }

            try
            {
                await Task.Delay(interval, cts.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"Execution {executionId} is {execution?.State.Current ?? "unknown"} after {timeout ?? TimeSpan.FromMinutes(1)}");
            }
        }
    }

    /// <summary>The execution's JSON exactly as the API returns it, every field kept; null when there is no such execution.</summary>
    public async Task<JsonObject?> GetExecutionJsonAsync(string executionId, CancellationToken cancellationToken = default)
    {
        try
        {
            return await SendAsync(HttpMethod.Get, $"executions/{E(executionId)}", null, ClientJsonContext.Default.JsonObject, cancellationToken);
        }
        catch (WindhoverApiException e) when (e.StatusCode == 404)
        {
            return null;
        }
    }

    public Task<PagedResults<ExecutionInfo>> SearchExecutionsAsync(string? @namespace = null, string? flowId = null, string? state = null,
        IReadOnlyDictionary<string, string>? labels = null, int page = 1, int size = 25, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, SearchExecutionsPath(@namespace, flowId, state, labels, page, size), null, ClientJsonContext.Default.PagedResultsExecutionInfo, cancellationToken);

    /// <summary>The search's JSON (<c>{"results": [...], "total": n}</c>) exactly as the API returns it, every field kept.</summary>
    public Task<JsonObject> SearchExecutionsJsonAsync(string? @namespace = null, string? flowId = null, string? state = null,
        IReadOnlyDictionary<string, string>? labels = null, int page = 1, int size = 25, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, SearchExecutionsPath(@namespace, flowId, state, labels, page, size), null, ClientJsonContext.Default.JsonObject, cancellationToken);

    private static string SearchExecutionsPath(string? @namespace, string? flowId, string? state, IReadOnlyDictionary<string, string>? labels, int page, int size)
    {
        var query = new List<(string, string?)> { ("namespace", @namespace), ("flowId", flowId), ("state", state),
            ("page", page.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("size", size.ToString(System.Globalization.CultureInfo.InvariantCulture)) };
        query.AddRange((labels ?? new Dictionary<string, string>()).Select(kv => ("labels", (string?)(kv.Key + ":" + kv.Value))));
        return "executions/search" + Query([.. query]);
    }

    public Task DeleteExecutionAsync(string executionId, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Delete, $"executions/{E(executionId)}", null, cancellationToken);

    public Task KillExecutionAsync(string executionId, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Delete, $"executions/{E(executionId)}/kill", null, cancellationToken);

    public Task<ExecutionInfo> RestartExecutionAsync(string executionId, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"executions/{E(executionId)}/restart", null, ClientJsonContext.Default.ExecutionInfo, cancellationToken);

    public Task<ExecutionInfo> ReplayExecutionAsync(string executionId, string? taskRunId = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"executions/{E(executionId)}/replay" + Query(("taskRunId", taskRunId)), null, ClientJsonContext.Default.ExecutionInfo, cancellationToken);

    public Task ResumeExecutionAsync(string executionId, IReadOnlyDictionary<string, string>? inputs = null, CancellationToken cancellationToken = default)
    {
        var form = new MultipartFormDataContent();
        foreach (var (key, value) in inputs ?? new Dictionary<string, string>())
        {
            form.Add(new StringContent(value, Encoding.UTF8), key);
        }

        return SendAsync(HttpMethod.Post, $"executions/{E(executionId)}/resume", form.Any() ? form : null, cancellationToken);
    }

    public Task PauseExecutionAsync(string executionId, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"executions/{E(executionId)}/pause", null, cancellationToken);

    public Task<ExecutionInfo> SetLabelsAsync(string executionId, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"executions/{E(executionId)}/labels",
            Json(new JsonArray([.. labels.Select(kv => (JsonNode)new JsonObject { ["key"] = kv.Key, ["value"] = kv.Value })])),
            ClientJsonContext.Default.ExecutionInfo, cancellationToken);

    /// <summary>Downloads an internal-storage file (<c>kestra:///...</c>) of an execution.</summary>
    public async Task<byte[]> DownloadFileAsync(string executionId, string uri, CancellationToken cancellationToken = default)
    {
        using var response = await _http.GetAsync(Url($"executions/{E(executionId)}/file" + Query(("path", uri))), cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
        return await response.Content.ReadAsByteArrayAsync(cancellationToken);
    }

    // ------------------------------------------------------------------ logs

    public Task<List<LogInfo>> GetLogsAsync(string executionId, string minLevel = "INFO", string? taskId = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, $"logs/{E(executionId)}" + Query(("minLevel", minLevel), ("taskId", taskId)), null, ClientJsonContext.Default.ListLogInfo, cancellationToken);

    // ------------------------------------------------------------------ kv

    public Task PutKvAsync(string @namespace, string key, JsonNode? value, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Put, $"namespaces/{E(@namespace)}/kv/{E(key)}", Json(value), cancellationToken);

    public async Task<KvValue?> GetKvAsync(string @namespace, string key, CancellationToken cancellationToken = default)
    {
        try
        {
            return await SendAsync(HttpMethod.Get, $"namespaces/{E(@namespace)}/kv/{E(key)}", null, ClientJsonContext.Default.KvValue, cancellationToken);
        }
        catch (WindhoverApiException e) when (e.StatusCode == 404)
        {
            return null;
        }
    }

    public Task DeleteKvAsync(string @namespace, string key, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Delete, $"namespaces/{E(@namespace)}/kv/{E(key)}", null, cancellationToken);

    // ------------------------------------------------------------------ webhooks

    /// <summary>Calls a flow's Webhook trigger with a JSON body; returns the execution (null when the trigger's conditions were not met).</summary>
    public async Task<ExecutionInfo?> TriggerWebhookAsync(string @namespace, string flowId, string key, JsonNode? body = null, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Url($"executions/webhook/{E(@namespace)}/{E(flowId)}/{E(key)}")) { Content = body is null ? null : Json(body) };
        using var response = await _http.SendAsync(request, cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NoContent)
        {
            return null;
        }

        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        return await JsonSerializer.DeserializeAsync(stream, ClientJsonContext.Default.ExecutionInfo, cancellationToken);
    }

    // ------------------------------------------------------------------ plumbing

    private string Url(string path) => _prefix + "/" + path;

    private static string E(string value) => Uri.EscapeDataString(value);

    private static StringContent Yaml(string yaml) => new(yaml, Encoding.UTF8, "application/x-yaml");

    private static StringContent Json(JsonNode? node) => new(node?.ToJsonString() ?? "null", Encoding.UTF8, "application/json");

    private static string Query(params (string Key, string? Value)[] items)
    {
        var parts = items.Where(i => i.Value is not null).Select(i => E(i.Key) + "=" + E(i.Value!)).ToList();
        return parts.Count == 0 ? "" : "?" + string.Join("&", parts);
    }

    private async Task<T> SendAsync<T>(HttpMethod method, string path, HttpContent? content, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, Url(path)) { Content = content };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var response = await _http.SendAsync(request, cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        return await JsonSerializer.DeserializeAsync(stream, type, cancellationToken)
            ?? throw new WindhoverApiException((int)response.StatusCode, "empty response", null);
    }

    private async Task SendAsync(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, Url(path)) { Content = content };
        using var response = await _http.SendAsync(request, cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        var message = body;
        try
        {
            if (JsonNode.Parse(body) is JsonObject o && o["message"] is JsonValue m)
            {
                message = m.ToString();
            }
        }
        catch (JsonException)
        {
        }

        throw new WindhoverApiException((int)response.StatusCode, message, body);
    }

    internal static (string Namespace, string Id) ReadFlowKey(string yaml)
    {
        string? ns = null, id = null;
        foreach (var raw in yaml.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (ns is null && line.StartsWith("namespace:", StringComparison.Ordinal))
            {
                ns = Unquote(line["namespace:".Length..]);
            }
            else if (id is null && line.StartsWith("id:", StringComparison.Ordinal))
            {
                id = Unquote(line["id:".Length..]);
            }
        }

        return (ns ?? throw new ArgumentException("no namespace in flow"), id ?? throw new ArgumentException("no id in flow"));

        static string Unquote(string value)
        {
            var v = value.Split('#')[0].Trim();
            return v.Length >= 2 && (v[0] == '"' || v[0] == '\'') && v[^1] == v[0] ? v[1..^1] : v;
        }
    }
}

using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Windhover.Blueprints.Arena.Kestra;

/// <summary>An error answer from Windhover's API (or no answer: <see cref="StatusCode"/> 502).</summary>
public sealed class WindhoverApiException(int statusCode, string message) : Exception(message)
{
    public int StatusCode { get; } = statusCode;
}

/// <summary>
/// The part of Windhover's REST API v1 the arena uses. Kept behind an interface so the typed Windhover.Client can replace
/// <see cref="HttpWindhoverApi"/> when it lands, without touching the facade.
/// </summary>
public interface IWindhoverApi
{
    /// <summary>Creates an execution of <paramref name="flowId"/> with the given inputs; returns the execution JSON.</summary>
    Task<JsonObject> CreateExecutionAsync(string @namespace, string flowId, IReadOnlyDictionary<string, JsonNode?> inputs, CancellationToken cancellationToken);

    Task<JsonObject?> GetExecutionAsync(string executionId, CancellationToken cancellationToken);

    /// <summary>GET /api/v1/executions/search: Kestra's <c>{results, total}</c>.</summary>
    Task<JsonObject> SearchExecutionsAsync(string? @namespace, string? flowId, int limit, CancellationToken cancellationToken);
}

/// <summary>
/// HttpClient implementation. Executions are created with Kestra's multipart form
/// (<c>POST /api/v1/executions/{namespace}/{flowId}</c>, one form field per input; arrays and objects as JSON text).
/// <see cref="UseJsonBody"/> switches to the JSON form <c>POST /api/v1/executions {namespace, flowId, inputs}</c>.
/// </summary>
public sealed class HttpWindhoverApi(HttpClient http, string? apiKey) : IWindhoverApi
{
    public bool UseJsonBody { get; init; }

    private HttpRequestMessage Request(HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, path.TrimStart('/'));
        if (!string.IsNullOrEmpty(apiKey))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return request;
    }

    public async Task<JsonObject> CreateExecutionAsync(string @namespace, string flowId, IReadOnlyDictionary<string, JsonNode?> inputs, CancellationToken cancellationToken)
    {
        HttpRequestMessage request;
        if (UseJsonBody)
        {
            request = Request(HttpMethod.Post, "api/v1/executions");
            var body = new JsonObject { ["namespace"] = @namespace, ["flowId"] = flowId, ["inputs"] = new JsonObject(inputs.Select(kv => KeyValuePair.Create(kv.Key, kv.Value?.DeepClone()))) };
            request.Content = new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
        }
        else
        {
            request = Request(HttpMethod.Post, $"api/v1/executions/{Uri.EscapeDataString(@namespace)}/{Uri.EscapeDataString(flowId)}");
            var form = new MultipartFormDataContent();
            foreach (var (key, value) in inputs)
            {
                if (value is null)
                {
                    continue;
                }

                form.Add(new StringContent(FormValue(value)), key);
            }

            // No inputs: no body at all (an empty multipart body is not a valid form for every server).
            request.Content = form.Any() ? form : null;
        }

        using (request)
        {
            return await SendAsync(request, cancellationToken).ConfigureAwait(false) ?? throw new WindhoverApiException(502, "Windhover answered without an execution");
        }
    }

    private static string FormValue(JsonNode value) => value is JsonValue v && v.GetValueKind() == JsonValueKind.String
        ? v.GetValue<string>()
        : value.GetValueKind() is JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False
            ? Convert.ToString(value.ToJsonString(), CultureInfo.InvariantCulture)
            : value.ToJsonString();

    public async Task<JsonObject?> GetExecutionAsync(string executionId, CancellationToken cancellationToken)
    {
        using var request = Request(HttpMethod.Get, $"api/v1/executions/{Uri.EscapeDataString(executionId)}");
        try
        {
            return await SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (WindhoverApiException e) when (e.StatusCode == 404)
        {
            return null;
        }
    }

    public async Task<JsonObject> SearchExecutionsAsync(string? @namespace, string? flowId, int limit, CancellationToken cancellationToken)
    {
        var query = new List<string> { "page=1", $"size={limit.ToString(CultureInfo.InvariantCulture)}" };
        if (!string.IsNullOrEmpty(@namespace))
        {
            query.Add("namespace=" + Uri.EscapeDataString(@namespace));
        }

        if (!string.IsNullOrEmpty(flowId))
        {
            query.Add("flowId=" + Uri.EscapeDataString(flowId));
        }

        using var request = Request(HttpMethod.Get, "api/v1/executions/search?" + string.Join('&', query));
        return await SendAsync(request, cancellationToken).ConfigureAwait(false) ?? new JsonObject { ["results"] = new JsonArray(), ["total"] = 0 };
    }

    private async Task<JsonObject?> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new WindhoverApiException(502, $"Windhover at {http.BaseAddress} is not reachable: {e.Message}");
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                var message = text;
                try
                {
                    message = JsonNode.Parse(text)?["message"]?.ToString() ?? text;
                }
                catch (JsonException)
                {
                    // plain text error
                }

                throw new WindhoverApiException(response.StatusCode == HttpStatusCode.InternalServerError ? 502 : (int)response.StatusCode,
                    $"Windhover answered {(int)response.StatusCode}: {message}");
            }

            return text.Length == 0 ? null : JsonNode.Parse(text) as JsonObject;
        }
    }
}

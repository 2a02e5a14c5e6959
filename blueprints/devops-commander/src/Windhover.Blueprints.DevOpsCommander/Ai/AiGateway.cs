using System.Net.Http.Headers;
using System.Text;

namespace Windhover.Blueprints.DevOpsCommander.Ai;

/// <summary>
/// The commander's OpenAI-compatible gateway (<c>POST /api/ai/v1/chat/completions</c>): the flow's AIAgent task talks to it
/// with provider <c>io.kestra.plugin.ai.provider.OpenAI</c>, and it forwards the request unchanged to the configured provider,
/// adding the provider's API key. Keys stay in the service's environment; flows and execution outputs never see them.
/// </summary>
public sealed class AiGateway(AiProviderOptions? provider, HttpClient http)
{
    public AiProviderOptions? Provider => provider;

    public object Describe() => provider is null
        ? new { mode = "rules", provider = (string?)null, model_name = (string?)null, gateway_path = "/api/ai/v1",
            reason = "No LLM provider configured (set OPENAI_API_KEY, TOGETHER_API_KEY, OLLAMA_BASE_URL or DEVOPS_AI_BASE_URL): the threshold analyser decides." }
        : new { mode = "llm", provider = (string?)provider.Provider, model_name = (string?)provider.ModelName, gateway_path = "/api/ai/v1",
            reason = $"LLM provider '{provider.Provider}' at {provider.BaseUrl} decides through the AIAgent task." };

    public async Task ForwardAsync(HttpContext context, string path)
    {
        if (provider is null)
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            await context.Response.WriteAsJsonAsync(new { message = "No LLM provider is configured for the DevOps Commander AI gateway." }, context.RequestAborted).ConfigureAwait(false);
            return;
        }

        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync(context.RequestAborted).ConfigureAwait(false);
        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), $"{provider.BaseUrl}/{path}");
        if (context.Request.Method != "GET")
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        if (provider.ApiKey is { Length: > 0 } key)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, context.RequestAborted).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            context.Response.StatusCode = StatusCodes.Status502BadGateway;
            await context.Response.WriteAsJsonAsync(new { message = $"LLM provider '{provider.Provider}' at {provider.BaseUrl} is unreachable: {ex.Message}" }, context.RequestAborted).ConfigureAwait(false);
            return;
        }

        using (response)
        {
            context.Response.StatusCode = (int)response.StatusCode;
            context.Response.ContentType = response.Content.Headers.ContentType?.ToString() ?? "application/json";
            if (response.Headers.RetryAfter is { } retry)
            {
                context.Response.Headers.RetryAfter = retry.ToString();
            }

            await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
        }
    }
}

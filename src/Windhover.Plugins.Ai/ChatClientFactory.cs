using System.ClientModel;
using System.ClientModel.Primitives;
using Microsoft.Extensions.AI;
using OllamaSharp;
using OpenAI;
using OpenAI.Chat;

namespace Windhover.Plugins.Ai;

/// <summary>Makes the <see cref="IChatClient"/> for a provider config.</summary>
public interface IChatClientFactory
{
    IChatClient Create(AiProviderConfig provider);
}

/// <summary>
/// Builds clients over one shared HTTP handler: OpenAI-compatible providers through the OpenAI .NET client (its own
/// retries turned off: <see cref="ChatInvoker"/> retries) and Ollama through OllamaSharp. Every response passes a
/// handler that records its status code, Retry-After and error body for <see cref="ChatInvoker"/>'s messages.
/// </summary>
public sealed class ChatClientFactory : IChatClientFactory, IDisposable
{
    private readonly HttpMessageHandler _handler;
    private readonly bool _ownsHandler;

    /// <param name="innerHandler">The handler doing the HTTP calls (default: a new <see cref="SocketsHttpHandler"/>).</param>
    public ChatClientFactory(HttpMessageHandler? innerHandler = null)
    {
        _ownsHandler = innerHandler is null;
        _handler = new ResponseCapturingHandler { InnerHandler = innerHandler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) } };
    }

    public IChatClient Create(AiProviderConfig provider)
    {
        ArgumentNullException.ThrowIfNull(provider);
        switch (provider)
        {
            case OpenAiProviderConfig openAi:
            {
                var http = NewHttpClient(null);
                var options = new OpenAIClientOptions
                {
                    Endpoint = ParseUri(openAi.BaseUrl, "baseUrl"),
                    Transport = new HttpClientPipelineTransport(http),
                    RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
                    NetworkTimeout = TimeSpan.FromDays(1),
                };
                var key = string.IsNullOrEmpty(openAi.ApiKey) ? "no-key" : openAi.ApiKey;
                return new ChatClient(openAi.ModelName, new ApiKeyCredential(key), options).AsIChatClient();
            }
            case OllamaProviderConfig ollama:
                return new OllamaApiClient(NewHttpClient(ParseUri(ollama.Endpoint, "endpoint")), ollama.ModelName);
            default:
                throw new AiChatException(AiErrorKind.InvalidRequest, $"Unsupported provider type {provider.GetType().Name}.");
        }
    }

    public void Dispose()
    {
        if (_ownsHandler)
        {
            _handler.Dispose();
        }
    }

    private HttpClient NewHttpClient(Uri? baseAddress) => new(_handler, disposeHandler: false)
    {
        BaseAddress = baseAddress,
        Timeout = Timeout.InfiniteTimeSpan, // ChatInvoker enforces its own timeout
    };

    private static Uri ParseUri(string value, string property) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? uri
            : throw new AiChatException(AiErrorKind.InvalidRequest, $"The provider's {property} '{value}' is not an absolute http(s) URL.");
}

/// <summary>What the last HTTP response of the current attempt said (set through an <see cref="AsyncLocal{T}"/>).</summary>
internal sealed class ResponseCapture
{
    public int? StatusCode { get; set; }
    public TimeSpan? RetryAfter { get; set; }
    public DateTimeOffset? RetryAfterDate { get; set; }
    public string? ErrorBody { get; set; }
}

internal sealed class ResponseCapturingHandler : DelegatingHandler
{
    public static readonly AsyncLocal<ResponseCapture?> Current = new();

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (Current.Value is { } capture)
        {
            capture.StatusCode = (int)response.StatusCode;
            capture.RetryAfter = response.Headers.RetryAfter?.Delta;
            capture.RetryAfterDate = response.Headers.RetryAfter?.Date;
            if (!response.IsSuccessStatusCode)
            {
                await response.Content.LoadIntoBufferAsync(cancellationToken).ConfigureAwait(false);
                capture.ErrorBody = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        return response;
    }
}

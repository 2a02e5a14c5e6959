using System.ClientModel;
using System.Net.Http;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Windhover.Plugins.Ai;

/// <summary>Retry and timeout settings of a <see cref="ChatInvoker"/>.</summary>
public sealed record ChatInvokerOptions
{
    /// <summary>Attempts in all for 429 and 5xx answers (default 4: one call and up to three retries).</summary>
    public int MaxAttempts { get; init; } = 4;
    /// <summary>Wait before the first retry; doubled for each next one (default 1 s).</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>Longest wait between attempts, also caps a Retry-After header (default 30 s).</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Timeout of one attempt (default 120 s).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(120);
    /// <summary>How to wait between attempts; default <c>Task.Delay</c> on the invoker's <see cref="TimeProvider"/>.</summary>
    public Func<TimeSpan, CancellationToken, Task>? Delay { get; init; }
}

/// <summary>
/// Runs one chat completion (Kestra's <c>io.kestra.plugin.ai.completion.ChatCompletion</c> core) against any
/// <see cref="IChatClient"/>: builds the messages and options, retries 429/5xx with exponential backoff, turns provider
/// failures into <see cref="AiChatException"/>s with clear messages, parses and validates JSON answers.
/// </summary>
public sealed class ChatInvoker
{
    private const int MaxQuotedChars = 300;

    private readonly IChatClientFactory _factory;
    private readonly ChatInvokerOptions _options;
    private readonly TimeProvider _time;

    public ChatInvoker(IChatClientFactory factory, ChatInvokerOptions? options = null, TimeProvider? timeProvider = null)
    {
        _factory = factory ?? throw new ArgumentNullException(nameof(factory));
        _options = options ?? new ChatInvokerOptions();
        _time = timeProvider ?? TimeProvider.System;
        if (_options.MaxAttempts < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "MaxAttempts must be at least 1.");
        }
    }

    /// <summary>Calls the model. Throws <see cref="AiChatException"/> on failure, <see cref="OperationCanceledException"/> when cancelled.</summary>
    public async Task<AiChatResult> InvokeAsync(AiChatRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var config = request.Configuration;
        var schema = ParseSchema(config);
        var messages = new List<ChatMessage>(Math.Max(2, request.Messages.Count));
        if (request.Messages.Count > 0)
        {
            foreach (var message in request.Messages)
            {
                var role = message.Type switch
                {
                    AiMessageType.System => ChatRole.System,
                    AiMessageType.Ai => ChatRole.Assistant,
                    _ => ChatRole.User,
                };
                messages.Add(new ChatMessage(role, message.Content));
            }
        }
        else
        {
            if (string.IsNullOrWhiteSpace(request.Prompt))
            {
                throw new AiChatException(AiErrorKind.InvalidRequest, "The prompt is empty and no messages were given.");
            }
            if (!string.IsNullOrEmpty(request.SystemMessage))
            {
                messages.Add(new ChatMessage(ChatRole.System, request.SystemMessage));
            }
            messages.Add(new ChatMessage(ChatRole.User, request.Prompt));
        }
        var options = BuildOptions(request.Provider, config, schema);

        var client = _factory.Create(request.Provider);
        try
        {
            var started = _time.GetTimestamp();
            var (response, attempts) = await SendWithRetriesAsync(client, request.Provider, messages, options, cancellationToken).ConfigureAwait(false);
            var duration = _time.GetElapsedTime(started);
            var text = response.Text ?? "";
            var finishReason = MapFinishReason(response.FinishReason);
            JsonElement? json = null;
            if (config.ResponseFormat == AiResponseFormat.Json)
            {
                json = ParseJsonAnswer(text, finishReason, attempts);
                if (schema is { } s)
                {
                    var errors = JsonSchemaValidator.Validate(json.Value, s);
                    if (errors.Count > 0)
                    {
                        throw new AiChatException(AiErrorKind.SchemaMismatch,
                            $"The model's JSON answer does not match the jsonSchema: {string.Join("; ", errors.Take(10))}"
                            + (errors.Count > 10 ? $" (and {errors.Count - 10} more)" : "") + ".", attempts: attempts);
                    }
                }
            }
            var usage = response.Usage;
            return new AiChatResult
            {
                TextOutput = text,
                JsonOutput = json,
                TokenUsage = new AiTokenUsage(usage?.InputTokenCount, usage?.OutputTokenCount,
                    usage?.TotalTokenCount ?? (usage?.InputTokenCount + usage?.OutputTokenCount)),
                FinishReason = finishReason,
                RequestDuration = duration,
                Attempts = attempts,
                ModelId = response.ModelId,
            };
        }
        finally
        {
            client.Dispose();
        }
    }

    private async Task<(ChatResponse Response, int Attempts)> SendWithRetriesAsync(
        IChatClient client, AiProviderConfig provider, List<ChatMessage> messages, ChatOptions options, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var capture = new ResponseCapture();
            ResponseCapturingHandler.Current.Value = capture;
            using var timeout = new CancellationTokenSource(_options.RequestTimeout, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            try
            {
                var response = await client.GetResponseAsync(messages, options, linked.Token).ConfigureAwait(false);
                return (response, attempt);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception e) when (timeout.IsCancellationRequested)
            {
                throw new AiChatException(AiErrorKind.Timeout,
                    $"The {provider.Describe()} did not answer within {_options.RequestTimeout.TotalSeconds:0.###} s (model '{provider.ModelName}'); the request timed out.",
                    attempts: attempt, innerException: e);
            }
            catch (Exception e) when (e is not AiChatException)
            {
                var status = StatusOf(e, capture);
                if (IsRetryable(status) && attempt < _options.MaxAttempts)
                {
                    await DelayAsync(Backoff(attempt, capture), cancellationToken).ConfigureAwait(false);
                    continue;
                }
                throw Translate(e, status, capture, provider, attempt);
            }
        }
    }

    private static bool IsRetryable(int? status) => status is 429 or (>= 500 and <= 599);

    private TimeSpan Backoff(int attempt, ResponseCapture capture)
    {
        var exponential = TimeSpan.FromTicks((long)Math.Min(_options.InitialBackoff.Ticks * Math.Pow(2, attempt - 1), _options.MaxBackoff.Ticks));
        var retryAfter = capture.RetryAfter ?? (capture.RetryAfterDate is { } date ? date - _time.GetUtcNow() : null);
        if (retryAfter is { } ra && ra > exponential)
        {
            return ra < _options.MaxBackoff ? ra : _options.MaxBackoff;
        }
        return exponential;
    }

    private Task DelayAsync(TimeSpan delay, CancellationToken cancellationToken) =>
        _options.Delay is { } custom ? custom(delay, cancellationToken) : Task.Delay(delay, _time, cancellationToken);

    private static int? StatusOf(Exception e, ResponseCapture capture)
    {
        if (capture.StatusCode is >= 400 and var code)
        {
            return code;
        }
        for (Exception? current = e; current is not null; current = current.InnerException)
        {
            switch (current)
            {
                case ClientResultException { Status: > 0 } cre:
                    return cre.Status;
                case HttpRequestException { StatusCode: { } sc }:
                    return (int)sc;
            }
        }
        return null;
    }

    private static AiChatException Translate(Exception e, int? status, ResponseCapture capture, AiProviderConfig provider, int attempts)
    {
        var where = $"{provider.Describe()}, model '{provider.ModelName}'";
        var detail = ProviderMessage(capture.ErrorBody) ?? FirstLine(e.Message);
        var retried = attempts > 1 ? $" after {attempts} attempts" : "";
        return status switch
        {
            401 => new(AiErrorKind.Unauthorized,
                $"The provider rejected the API key (401 Unauthorized) ({where}): {detail}. Check the provider's apiKey.", 401, attempts, e),
            403 => new(AiErrorKind.Forbidden,
                $"The provider refused access (403 Forbidden) ({where}): {detail}. The API key may lack access to this model.", 403, attempts, e),
            404 => new(AiErrorKind.NotFound,
                $"The provider answered 404 Not Found ({where}): {detail}. Check the modelName and the baseUrl/endpoint.", 404, attempts, e),
            429 => new(AiErrorKind.RateLimited,
                $"The provider kept rate-limiting the request (429 Too Many Requests){retried} ({where}): {detail}.", 429, attempts, e),
            >= 500 => new(AiErrorKind.ServerError,
                $"The provider failed with HTTP {status}{retried} ({where}): {detail}.", status, attempts, e),
            >= 400 => new(AiErrorKind.BadRequest,
                $"The provider refused the request with HTTP {status} ({where}): {detail}.", status, attempts, e),
            _ when IsConnectionFailure(e) => new(AiErrorKind.Connection,
                $"Could not reach the {provider.Describe()}: {FirstLine(InnermostMessage(e))}.", null, attempts, e),
            _ => new(AiErrorKind.Other, $"The chat call failed ({where}): {FirstLine(e.Message)}", status, attempts, e),
        };
    }

    private static bool IsConnectionFailure(Exception e)
    {
        for (Exception? current = e; current is not null; current = current.InnerException)
        {
            if (current is HttpRequestException { StatusCode: null } or System.Net.Sockets.SocketException)
            {
                return true;
            }
        }
        return false;
    }

    private static string InnermostMessage(Exception e)
    {
        while (e.InnerException is not null)
        {
            e = e.InnerException;
        }
        return e.Message;
    }

    /// <summary>The provider's own error text: OpenAI's <c>{"error":{"message":..}}</c>, Ollama's <c>{"error":".."}</c>, or the raw body.</summary>
    internal static string? ProviderMessage(string? body)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            return null;
        }
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("error", out var error))
            {
                if (error.ValueKind == JsonValueKind.String)
                {
                    return Truncate(error.GetString()!);
                }
                if (error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String)
                {
                    return Truncate(m.GetString()!);
                }
            }
        }
        catch (JsonException)
        {
        }
        return Truncate(body.Trim());
    }

    private static string FirstLine(string text)
    {
        var line = text.Split('\n', 2)[0].Trim();
        return Truncate(line.TrimEnd('.'));
    }

    private static string Truncate(string text) => text.Length <= MaxQuotedChars ? text : text[..MaxQuotedChars] + "...";

    private static JsonElement? ParseSchema(AiChatConfiguration config)
    {
        if (string.IsNullOrWhiteSpace(config.JsonSchema))
        {
            return null;
        }
        if (config.ResponseFormat != AiResponseFormat.Json)
        {
            throw new AiChatException(AiErrorKind.InvalidRequest, "A jsonSchema was given but the responseFormat type is TEXT; set it to JSON.");
        }
        try
        {
            using var doc = JsonDocument.Parse(config.JsonSchema);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new AiChatException(AiErrorKind.InvalidRequest, "The jsonSchema must be a JSON object.");
            }
            return doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new AiChatException(AiErrorKind.InvalidRequest, $"The jsonSchema is not valid JSON: {e.Message}", innerException: e);
        }
    }

    private static ChatOptions BuildOptions(AiProviderConfig provider, AiChatConfiguration config, JsonElement? schema)
    {
        var options = new ChatOptions
        {
            ModelId = provider.ModelName,
            Temperature = (float?)config.Temperature,
            TopP = (float?)config.TopP,
            TopK = config.TopK,
            MaxOutputTokens = config.MaxTokens,
            Seed = config.Seed,
            ResponseFormat = config.ResponseFormat switch
            {
                AiResponseFormat.Json when schema is { } s => ChatResponseFormat.ForJsonSchema(s, config.JsonSchemaName ?? "response", config.JsonSchemaDescription),
                AiResponseFormat.Json => ChatResponseFormat.Json,
                _ => null,
            },
        };
        if (provider is OpenAiProviderConfig && schema is { } jsonSchema)
        {
            // The adapter would rewrite the schema for OpenAI's strict mode (every property required, minLength/minimum/...
            // moved into descriptions); OpenAI-compatible servers such as vLLM enforce the schema as written, so send it as is.
            var name = config.JsonSchemaName ?? "response";
            var description = config.JsonSchemaDescription;
            var raw = BinaryData.FromString(jsonSchema.GetRawText());
            options.RawRepresentationFactory = _ => new OpenAI.Chat.ChatCompletionOptions
            {
                ResponseFormat = OpenAI.Chat.ChatResponseFormat.CreateJsonSchemaFormat(name, raw, description),
            };
        }
        return options;
    }

    private static JsonElement ParseJsonAnswer(string text, string? finishReason, int attempts)
    {
        var candidate = StripCodeFence(text.Trim());
        if (candidate.Length == 0)
        {
            throw new AiChatException(AiErrorKind.InvalidJson,
                "JSON output was requested but the model's answer is empty" + (finishReason is null ? "." : $" (finish reason {finishReason})."), attempts: attempts);
        }
        try
        {
            using var doc = JsonDocument.Parse(candidate);
            return doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            var cut = finishReason == "LENGTH" ? " The answer was cut off at the token limit (finish reason LENGTH): raise maxTokens." : "";
            throw new AiChatException(AiErrorKind.InvalidJson,
                $"JSON output was requested but the model's answer is not valid JSON: {e.Message}{cut} The answer starts with: {Truncate(candidate)}",
                attempts: attempts, innerException: e);
        }
    }

    /// <summary>Models often wrap JSON in a Markdown fence (<c>```json ... ```</c>); the fence is dropped.</summary>
    internal static string StripCodeFence(string text)
    {
        if (!text.StartsWith("```", StringComparison.Ordinal))
        {
            return text;
        }
        var firstNewline = text.IndexOf('\n');
        var end = text.LastIndexOf("```", StringComparison.Ordinal);
        if (firstNewline < 0 || end <= firstNewline)
        {
            return text;
        }
        return text[(firstNewline + 1)..end].Trim();
    }

    /// <summary>Kestra (langchain4j) finish reasons.</summary>
    internal static string? MapFinishReason(ChatFinishReason? reason)
    {
        if (reason is not { } r)
        {
            return null;
        }
        if (r == ChatFinishReason.Stop)
        {
            return "STOP";
        }
        if (r == ChatFinishReason.Length)
        {
            return "LENGTH";
        }
        if (r == ChatFinishReason.ToolCalls)
        {
            return "TOOL_EXECUTION";
        }
        if (r == ChatFinishReason.ContentFilter)
        {
            return "CONTENT_FILTER";
        }
        return "OTHER";
    }
}

using System.Text.Json;

namespace Windhover.Plugins.Ai;

/// <summary>A provider to call (Kestra's <c>provider</c> property).</summary>
public abstract record AiProviderConfig
{
    /// <summary>The model, e.g. <c>gpt-4o-mini</c> or <c>llama3.2</c>.</summary>
    public required string ModelName { get; init; }

    /// <summary>A short name for messages, e.g. "OpenAI-compatible provider at https://api.groq.com/openai/v1".</summary>
    public abstract string Describe();
}

/// <summary>
/// Kestra's <c>io.kestra.plugin.ai.provider.OpenAI</c>: any OpenAI-compatible <c>/chat/completions</c> API (OpenAI,
/// Together AI, Groq, vLLM, ...). <see cref="BaseUrl"/> includes the version path, e.g. <c>https://api.openai.com/v1</c>.
/// </summary>
public sealed record OpenAiProviderConfig : AiProviderConfig
{
    public const string DefaultBaseUrl = "https://api.openai.com/v1";

    public required string ApiKey { get; init; }
    public string BaseUrl { get; init; } = DefaultBaseUrl;

    public override string Describe() => $"OpenAI-compatible provider at {BaseUrl}";
}

/// <summary>Kestra's <c>io.kestra.plugin.ai.provider.Ollama</c>: an Ollama server (<c>/api/chat</c>).</summary>
public sealed record OllamaProviderConfig : AiProviderConfig
{
    public required string Endpoint { get; init; }

    public override string Describe() => $"Ollama at {Endpoint}";
}

/// <summary>Kestra's <c>responseFormat.type</c>.</summary>
public enum AiResponseFormat
{
    Text,
    Json,
}

/// <summary>Kestra's <c>configuration</c> of a chat call. Null values are left to the provider's defaults.</summary>
public sealed record AiChatConfiguration
{
    public double? Temperature { get; init; }
    public double? TopP { get; init; }
    public int? TopK { get; init; }
    public int? MaxTokens { get; init; }
    public long? Seed { get; init; }
    public AiResponseFormat ResponseFormat { get; init; } = AiResponseFormat.Text;
    /// <summary>A JSON Schema as JSON text (only with <see cref="AiResponseFormat.Json"/>): sent to the provider and checked on the answer.</summary>
    public string? JsonSchema { get; init; }
    /// <summary>Schema name sent to OpenAI-compatible providers (default "response").</summary>
    public string? JsonSchemaName { get; init; }
    public string? JsonSchemaDescription { get; init; }
}

/// <summary>Kestra's ChatCompletion message types.</summary>
public enum AiMessageType
{
    System,
    User,
    /// <summary>An earlier answer of the model (Kestra's <c>AI</c>).</summary>
    Ai,
}

/// <summary>One message of a conversation (Kestra's <c>messages</c> entries: <c>{type, content}</c>).</summary>
public sealed record AiMessage(AiMessageType Type, string Content);

/// <summary>One chat completion call: either <see cref="Prompt"/> (with an optional <see cref="SystemMessage"/>) or <see cref="Messages"/>.</summary>
public sealed record AiChatRequest
{
    public required AiProviderConfig Provider { get; init; }
    public string Prompt { get; init; } = "";
    public string? SystemMessage { get; init; }
    /// <summary>A whole conversation; when not empty it is sent instead of <see cref="SystemMessage"/> and <see cref="Prompt"/>.</summary>
    public IReadOnlyList<AiMessage> Messages { get; init; } = [];
    public AiChatConfiguration Configuration { get; init; } = new();
}

/// <summary>Kestra's <c>tokenUsage</c> output.</summary>
public sealed record AiTokenUsage(long? InputTokenCount, long? OutputTokenCount, long? TotalTokenCount);

/// <summary>The outputs of a chat call.</summary>
public sealed record AiChatResult
{
    public required string TextOutput { get; init; }
    /// <summary>The parsed answer when JSON was requested (validated against the schema when one was given).</summary>
    public JsonElement? JsonOutput { get; init; }
    public required AiTokenUsage TokenUsage { get; init; }
    /// <summary>Kestra's (langchain4j's) names: STOP, LENGTH, TOOL_EXECUTION, CONTENT_FILTER, OTHER; null if not given.</summary>
    public string? FinishReason { get; init; }
    /// <summary>From the first attempt's start to the answer, retries included.</summary>
    public required TimeSpan RequestDuration { get; init; }
    /// <summary>How many HTTP attempts were made (1 when no retry happened).</summary>
    public required int Attempts { get; init; }
    public string? ModelId { get; init; }
}

/// <summary>Why a chat call failed.</summary>
public enum AiErrorKind
{
    /// <summary>The request itself is wrong before anything is sent (e.g. the jsonSchema is not JSON).</summary>
    InvalidRequest,
    /// <summary>401: the API key was rejected.</summary>
    Unauthorized,
    /// <summary>403.</summary>
    Forbidden,
    /// <summary>404: unknown model or wrong base URL.</summary>
    NotFound,
    /// <summary>Other 4xx answers.</summary>
    BadRequest,
    /// <summary>429 still after every attempt.</summary>
    RateLimited,
    /// <summary>5xx still after every attempt.</summary>
    ServerError,
    /// <summary>No answer within the timeout.</summary>
    Timeout,
    /// <summary>The provider could not be reached.</summary>
    Connection,
    /// <summary>JSON was requested and the answer is not valid JSON.</summary>
    InvalidJson,
    /// <summary>The JSON answer does not match the jsonSchema.</summary>
    SchemaMismatch,
    Other,
}

/// <summary>A chat call failure with a message meant for the flow's user.</summary>
public sealed class AiChatException : Exception
{
    public AiChatException(AiErrorKind kind, string message, int? statusCode = null, int attempts = 1, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
        StatusCode = statusCode;
        Attempts = attempts;
    }

    public AiChatException()
    {
    }

    public AiChatException(string message) : base(message)
    {
    }

    public AiChatException(string message, Exception innerException) : base(message, innerException)
    {
    }

    public AiErrorKind Kind { get; } = AiErrorKind.Other;
    public int? StatusCode { get; }
    public int Attempts { get; } = 1;
}

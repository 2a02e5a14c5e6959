using System.Globalization;
using System.Text.Json;
using Windhover.Engine.Serialization;
using Windhover.Engine.Tasks;
using Windhover.Engine.Tasks.Core;
using Windhover.Flows.Expressions;
using Windhover.Flows.TaskTypes;

namespace Windhover.Plugins.Ai;

/// <summary>Settings of the AI task types.</summary>
public sealed record AiPluginOptions
{
    /// <summary>Retries, backoff and per-attempt timeout.</summary>
    public ChatInvokerOptions Invoker { get; init; } = new();

    /// <summary>Makes the provider clients; null: one shared <see cref="ChatClientFactory"/>.</summary>
    public IChatClientFactory? ClientFactory { get; init; }

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}

/// <summary>
/// Kestra's AI task types: <c>io.kestra.plugin.ai.agent.AIAgent</c> (<c>prompt</c>, <c>systemMessage</c>) and
/// <c>io.kestra.plugin.ai.completion.ChatCompletion</c> (<c>messages</c>), with an OpenAI-compatible or Ollama
/// <c>provider</c> and a <c>configuration</c>.
/// </summary>
public static class AiPlugin
{
    public const string AgentType = "io.kestra.plugin.ai.agent.AIAgent";
    public const string ChatCompletionType = "io.kestra.plugin.ai.completion.ChatCompletion";
    public const string OpenAiProvider = "io.kestra.plugin.ai.provider.OpenAI";
    public const string OllamaProvider = "io.kestra.plugin.ai.provider.Ollama";

    /// <summary>Adds the validation descriptors to <paramref name="types"/> and the implementations to <paramref name="tasks"/>.</summary>
    public static void Register(TaskTypeRegistry types, TaskRegistry tasks, AiPluginOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(types);
        ArgumentNullException.ThrowIfNull(tasks);
        options ??= new AiPluginOptions();
        var invoker = new ChatInvoker(options.ClientFactory ?? SharedFactory.Value, options.Invoker, options.TimeProvider);
        foreach (var descriptor in Descriptors())
        {
            types.Register(descriptor);
        }

        tasks.Register(AgentType, new AiChatTask(isAgent: true, invoker));
        tasks.Register(ChatCompletionType, new AiChatTask(isAgent: false, invoker));
    }

    private static readonly Lazy<ChatClientFactory> SharedFactory = new(() => new ChatClientFactory());

    public static IEnumerable<TaskTypeDescriptor> Descriptors()
    {
        const PropertyKind Str = PropertyKind.String, Map = PropertyKind.Map, List = PropertyKind.List;
        PropertyDescriptor[] common =
        [
            new("provider", Map, true),
            new("configuration", Map),
        ];
        yield return new TaskTypeDescriptor
        {
            Name = AgentType,
            Kind = TaskKind.Runnable,
            Properties = [.. common, new("prompt", Str, true), new("systemMessage", Str), new("tools", List), new("memory", Map),
                new("contentRetrievers", List), new("outputFiles", List), new("maxSequentialToolsInvocations", PropertyKind.Integer)],
        };
        yield return new TaskTypeDescriptor
        {
            Name = ChatCompletionType,
            Kind = TaskKind.Runnable,
            Properties = [.. common, new("messages", List, true), new("tools", List)],
        };
    }
}

/// <summary>One AI task type on the runnable-task contract.</summary>
internal sealed class AiChatTask(bool isAgent, ChatInvoker invoker) : IRunnableTask
{
    public async Task<TaskOutcome> RunAsync(RunContext context, CancellationToken cancellationToken)
    {
        var provider = ReadProvider(context);
        var request = new AiChatRequest
        {
            Provider = provider,
            Configuration = ReadConfiguration(context),
        };
        if (isAgent)
        {
            request = request with { Prompt = context.RenderRequired<string>("prompt"), SystemMessage = context.Render<string>("systemMessage") };
        }
        else
        {
            request = request with { Messages = ReadMessages(context) };
        }

        if (context.HasProperty("tools"))
        {
            context.Logger.Warn("'tools' are not supported yet; the model is called without tools.");
        }

        context.Logger.Debug($"Calling the {provider.Describe()} with model '{provider.ModelName}'");
        AiChatResult result;
        try
        {
            result = await invoker.InvokeAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (AiChatException e)
        {
            throw new TaskFailedException(e.Attempts > 1 && !e.Message.Contains("attempts", StringComparison.Ordinal)
                ? $"{e.Message} ({e.Attempts} attempts)"
                : e.Message);
        }

        var usage = result.TokenUsage;
        context.Logger.Info(string.Create(CultureInfo.InvariantCulture,
            $"Model answered in {result.RequestDuration.TotalMilliseconds:0} ms after {result.Attempts} attempt(s): finish reason {result.FinishReason ?? "unknown"}, tokens in {usage.InputTokenCount?.ToString(CultureInfo.InvariantCulture) ?? "?"} / out {usage.OutputTokenCount?.ToString(CultureInfo.InvariantCulture) ?? "?"}"));

        // Token counts are task-run metrics (counters, named as Kestra's AI plugin names them), besides the outputs.
        foreach (var (name, count) in new[]
        {
            ("input.token.count", usage.InputTokenCount),
            ("output.token.count", usage.OutputTokenCount),
            ("total.token.count", usage.TotalTokenCount),
        })
        {
            if (count is { } value)
            {
                context.Metric("counter", name, value);
            }
        }

        context.Metric("timer", "request.duration", result.RequestDuration.TotalSeconds);

        var outputs = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["textOutput"] = result.TextOutput,
            ["jsonOutput"] = result.JsonOutput is { } json ? ExpressionValues.FromJsonElement(json) : null,
            ["tokenUsage"] = new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["inputTokenCount"] = usage.InputTokenCount,
                ["outputTokenCount"] = usage.OutputTokenCount,
                ["totalTokenCount"] = usage.TotalTokenCount,
            },
            ["finishReason"] = result.FinishReason,
            ["requestDuration"] = KestraJson.FormatDuration(result.RequestDuration),
            // The same counts as the metrics above, for templates of later tasks.
            ["metrics"] = new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["input.token.count"] = usage.InputTokenCount,
                ["output.token.count"] = usage.OutputTokenCount,
                ["total.token.count"] = usage.TotalTokenCount,
                ["attempts"] = (long)result.Attempts,
            },
        };
        return TaskOutcome.Success(outputs);
    }

    private static AiProviderConfig ReadProvider(RunContext context)
    {
        var map = context.Render<IReadOnlyDictionary<string, object?>>("provider")
            ?? throw new TaskPropertyException($"Missing required property 'provider' on task '{context.Task.Id}'");
        string? Get(string key) => map.GetValueOrDefault(key) is { } v ? ExpressionValues.ToText(v) : null;
        var type = Get("type") ?? throw new TaskPropertyException("The provider needs a 'type' (e.g. io.kestra.plugin.ai.provider.OpenAI)");
        var model = Get("modelName") ?? throw new TaskPropertyException("The provider needs a 'modelName'");
        switch (type)
        {
            case AiPlugin.OpenAiProvider:
            {
                var apiKey = Get("apiKey") ?? "";
                context.AddSecret(apiKey);
                return new OpenAiProviderConfig { ModelName = model, ApiKey = apiKey, BaseUrl = Get("baseUrl") ?? OpenAiProviderConfig.DefaultBaseUrl };
            }

            case AiPlugin.OllamaProvider:
                return new OllamaProviderConfig { ModelName = model, Endpoint = Get("endpoint") ?? throw new TaskPropertyException("The Ollama provider needs an 'endpoint'") };
            default:
                throw new TaskPropertyException($"Unsupported AI provider type '{type}': supported are {AiPlugin.OpenAiProvider} (any OpenAI-compatible API) and {AiPlugin.OllamaProvider}");
        }
    }

    private static AiChatConfiguration ReadConfiguration(RunContext context)
    {
        var map = context.Render<IReadOnlyDictionary<string, object?>>("configuration");
        if (map is null)
        {
            return new AiChatConfiguration();
        }

        T? Num<T>(string key) where T : struct =>
            map.GetValueOrDefault(key) is { } v ? ValueConverter.Convert<T>(v, "configuration." + key) : null;

        var config = new AiChatConfiguration
        {
            Temperature = Num<double>("temperature"),
            TopP = Num<double>("topP"),
            TopK = Num<int>("topK"),
            MaxTokens = Num<int>("maxTokens") ?? Num<int>("maxToken"),
            Seed = Num<long>("seed"),
        };
        if (map.GetValueOrDefault("responseFormat") is IReadOnlyDictionary<string, object?> format)
        {
            var type = format.GetValueOrDefault("type") is { } t ? ExpressionValues.ToText(t).ToUpperInvariant() : "TEXT";
            config = config with
            {
                ResponseFormat = type switch
                {
                    "JSON" => AiResponseFormat.Json,
                    "TEXT" => AiResponseFormat.Text,
                    _ => throw new TaskPropertyException($"Invalid responseFormat type '{type}' (expected TEXT or JSON)"),
                },
                JsonSchema = format.GetValueOrDefault("jsonSchema") switch
                {
                    null => null,
                    string s => s,
                    var schema => JsonSerializer.Serialize(ToJsonNode(schema)),
                },
                JsonSchemaDescription = format.GetValueOrDefault("jsonSchemaDescription") is { } d ? ExpressionValues.ToText(d) : null,
            };
        }

        return config;
    }

    private static IReadOnlyList<AiMessage> ReadMessages(RunContext context)
    {
        var list = context.Render<IReadOnlyList<object?>>("messages")
            ?? throw new TaskPropertyException($"Missing required property 'messages' on task '{context.Task.Id}'");
        var messages = new List<AiMessage>(list.Count);
        foreach (var item in list)
        {
            if (item is not IReadOnlyDictionary<string, object?> entry || entry.GetValueOrDefault("content") is not { } content)
            {
                throw new TaskPropertyException("Each entry of 'messages' needs a 'type' (SYSTEM, USER or AI) and a 'content'");
            }

            var type = entry.GetValueOrDefault("type") is { } t ? ExpressionValues.ToText(t).ToUpperInvariant() : "USER";
            messages.Add(new AiMessage(type switch
            {
                "SYSTEM" => AiMessageType.System,
                "USER" => AiMessageType.User,
                "AI" or "ASSISTANT" => AiMessageType.Ai,
                _ => throw new TaskPropertyException($"Invalid message type '{type}' (expected SYSTEM, USER or AI)"),
            }, ExpressionValues.ToText(content)));
        }

        if (messages.Count == 0)
        {
            throw new TaskPropertyException("'messages' is empty");
        }

        return messages;
    }

    /// <summary>The value model (maps, lists, scalars) as a System.Text.Json node, for JSON schemas written as YAML maps.</summary>
    private static System.Text.Json.Nodes.JsonNode? ToJsonNode(object? value) => value switch
    {
        null => null,
        IReadOnlyDictionary<string, object?> map => new System.Text.Json.Nodes.JsonObject(map.Select(kv =>
            new KeyValuePair<string, System.Text.Json.Nodes.JsonNode?>(kv.Key, ToJsonNode(kv.Value)))),
        IReadOnlyList<object?> list => new System.Text.Json.Nodes.JsonArray([.. list.Select(ToJsonNode)]),
        bool b => System.Text.Json.Nodes.JsonValue.Create(b),
        long l => System.Text.Json.Nodes.JsonValue.Create(l),
        int i => System.Text.Json.Nodes.JsonValue.Create(i),
        double d => System.Text.Json.Nodes.JsonValue.Create(d),
        decimal m => System.Text.Json.Nodes.JsonValue.Create(m),
        _ => System.Text.Json.Nodes.JsonValue.Create(ExpressionValues.ToText(value)),
    };
}

using Windhover.Plugins.Ai;

namespace Windhover.Blueprints.Arena;

/// <summary>Settings of the arena service. <see cref="FromEnvironment"/> reads the documented environment variables.</summary>
public sealed record ArenaOptions
{
    /// <summary>Listening URL(s); default <c>http://localhost:3001</c> (<c>ARENA_URLS</c> or <c>PORT</c>).</summary>
    public string Urls { get; init; } = "http://localhost:3001";
    /// <summary>Where the SQLite database lives (<c>ARENA_DATA_DIR</c>, default <c>./data/arena</c>).</summary>
    public string DataDirectory { get; init; } = Path.Combine("data", "arena");
    /// <summary>Windhover (Kestra-compatible) API base URL: <c>WINDHOVER_URL</c>, else <c>KESTRA_URL</c>, else http://localhost:8080.</summary>
    public string? KestraUrl { get; init; } = "http://localhost:8080";
    /// <summary>Sent as <c>Authorization: Bearer</c> when set (<c>KESTRA_API_KEY</c>).</summary>
    public string? KestraApiKey { get; init; }
    /// <summary>Namespace of the arena's flows.</summary>
    public string FlowNamespace { get; init; } = "ai-arena";
    /// <summary>Oumi job API (<c>OUMI_API_URL</c>); when null fine-tuning runs locally.</summary>
    public string? OumiApiUrl { get; init; }
    /// <summary>LLM provider for agents whose model is not <c>builtin:*</c>; null = built-in agents only.</summary>
    public AiProviderConfig? LlmProvider { get; init; }
    /// <summary>How many matches may run at once.</summary>
    public int MaxConcurrentMatches { get; init; } = 16;
    /// <summary>Pause between rounds so the dashboard can follow a match (<c>ARENA_ROUND_DELAY_MS</c>).</summary>
    public TimeSpan RoundDelay { get; init; } = TimeSpan.FromMilliseconds(150);
    /// <summary>Resume matches left running when the service stopped.</summary>
    public bool ResumeUnfinishedMatches { get; init; } = true;
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
    /// <summary>Seed for match seeds when a request gives none (null: nondeterministic).</summary>
    public int? RandomSeed { get; init; }

    public static ArenaOptions FromEnvironment(Func<string, string?>? env = null)
    {
        env ??= Environment.GetEnvironmentVariable;
        var options = new ArenaOptions();
        var urls = env("ARENA_URLS") ?? (env("PORT") is { Length: > 0 } port ? $"http://localhost:{port}" : null);
        AiProviderConfig? llm = null;
        var provider = env("ARENA_LLM_PROVIDER");
        var model = env("ARENA_LLM_MODEL");
        if (provider is "openai" && env("ARENA_LLM_API_KEY") is { Length: > 0 } key)
        {
            llm = new OpenAiProviderConfig { ApiKey = key, ModelName = model ?? "gpt-4o-mini", BaseUrl = env("ARENA_LLM_BASE_URL") ?? OpenAiProviderConfig.DefaultBaseUrl };
        }
        else if (provider is "ollama")
        {
            llm = new OllamaProviderConfig { Endpoint = env("ARENA_LLM_BASE_URL") ?? "http://localhost:11434", ModelName = model ?? "llama3.2" };
        }

        return options with
        {
            Urls = urls ?? options.Urls,
            DataDirectory = env("ARENA_DATA_DIR") ?? options.DataDirectory,
            KestraUrl = env("WINDHOVER_URL") ?? env("KESTRA_URL") ?? options.KestraUrl,
            KestraApiKey = env("WINDHOVER_API_KEY") ?? env("KESTRA_API_KEY"),
            OumiApiUrl = env("OUMI_API_URL"),
            LlmProvider = llm,
            RoundDelay = int.TryParse(env("ARENA_ROUND_DELAY_MS"), out var ms) ? TimeSpan.FromMilliseconds(ms) : options.RoundDelay,
        };
    }
}

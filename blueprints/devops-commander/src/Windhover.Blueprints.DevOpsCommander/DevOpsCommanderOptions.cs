namespace Windhover.Blueprints.DevOpsCommander;

/// <summary>Everything the commander service can be configured with. Unset values fall back to the environment.</summary>
public sealed class DevOpsCommanderOptions
{
    /// <summary>The service's default port (the flows' <c>commander_url</c> default points at it).</summary>
    public const int DefaultPort = 3000;

    /// <summary>URLs to listen on; default <c>http://0.0.0.0:3000</c> (or <c>PORT</c>/<c>DEVOPS_COMMANDER_URLS</c>). Use <c>http://127.0.0.1:0</c> in tests.</summary>
    public string? Urls { get; set; }

    /// <summary>Folder holding <c>devops-commander.db</c> (SQLite); default <c>DEVOPS_COMMANDER_DATA</c> or <c>./data/devops-commander</c>.</summary>
    public string? DataDirectory { get; set; }

    /// <summary>The clock for everything the service records. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider? TimeProvider { get; set; }

    /// <summary>Serve the demo scenarios deploy-001..003 (default true).</summary>
    public bool EnableDemoScenarios { get; set; } = true;

    /// <summary>The LLM provider behind the AI gateway; null reads the environment (<see cref="AiProviderOptions.FromEnvironment"/>).</summary>
    public AiProviderOptions? Ai { get; set; }

    /// <summary>What a rollback does besides recording it; default reads <c>DEVOPS_DEPLOY_HOOK_URL</c> / <c>DEVOPS_DEPLOY_HOOK_COMMAND</c>.</summary>
    public DeployHookOptions? DeployHook { get; set; }

    /// <summary>Prometheus sources per service name (metrics come from its <c>/api/v1/query</c>).</summary>
    public Dictionary<string, PrometheusSourceOptions> Prometheus { get; } = new(StringComparer.Ordinal);

    /// <summary>Seed of the synthetic corpus and of the train/held-out split (default 42).</summary>
    public int PolicySeed { get; set; } = 42;

    /// <summary>Size of the synthetic training corpus (default 600).</summary>
    public int SyntheticCorpusSize { get; set; } = 600;

    /// <summary>Extra environment lookups (tests); default <see cref="Environment.GetEnvironmentVariable(string)"/>.</summary>
    public Func<string, string?>? Environment { get; set; }

    internal string? Env(string name) => (Environment ?? System.Environment.GetEnvironmentVariable)(name);
}

/// <summary>An OpenAI-compatible chat completions endpoint the commander's AI gateway forwards to.</summary>
public sealed record AiProviderOptions
{
    /// <summary>openai, together, ollama or a custom name.</summary>
    public required string Provider { get; init; }

    /// <summary>Base URL including the version path, e.g. <c>https://api.openai.com/v1</c>.</summary>
    public required string BaseUrl { get; init; }

    public required string ModelName { get; init; }

    /// <summary>Sent upstream as a bearer token; never returned by the API.</summary>
    public string? ApiKey { get; init; }

    /// <summary>
    /// The provider from the environment, first match wins: <c>DEVOPS_AI_BASE_URL</c> (+ <c>DEVOPS_AI_API_KEY</c>,
    /// <c>DEVOPS_AI_MODEL</c>), <c>OPENAI_API_KEY</c>, <c>TOGETHER_API_KEY</c>, <c>OLLAMA_BASE_URL</c> / <c>OLLAMA_HOST</c>.
    /// Null when none is set: the flows then use the threshold analyser.
    /// </summary>
    public static AiProviderOptions? FromEnvironment(Func<string, string?> env)
    {
        string? Get(string name) => env(name) is { Length: > 0 } v ? v : null;
        var model = Get("DEVOPS_AI_MODEL");
        if (Get("DEVOPS_AI_BASE_URL") is { } custom)
        {
            return new() { Provider = "custom", BaseUrl = custom.TrimEnd('/'), ModelName = model ?? "gpt-4o-mini", ApiKey = Get("DEVOPS_AI_API_KEY") };
        }

        if (Get("OPENAI_API_KEY") is { } openAi)
        {
            return new() { Provider = "openai", BaseUrl = (Get("OPENAI_BASE_URL") ?? "https://api.openai.com/v1").TrimEnd('/'), ModelName = model ?? "gpt-4o-mini", ApiKey = openAi };
        }

        if (Get("TOGETHER_API_KEY") is { } together)
        {
            return new() { Provider = "together", BaseUrl = "https://api.together.xyz/v1", ModelName = model ?? "meta-llama/Llama-3.3-70B-Instruct-Turbo", ApiKey = together };
        }

        if ((Get("OLLAMA_BASE_URL") ?? Get("OLLAMA_HOST")) is { } ollama)
        {
            var baseUrl = ollama.StartsWith("http", StringComparison.OrdinalIgnoreCase) ? ollama : "http://" + ollama;
            baseUrl = baseUrl.TrimEnd('/');
            if (!baseUrl.EndsWith("/v1", StringComparison.Ordinal))
            {
                baseUrl += "/v1";   // Ollama's OpenAI-compatible API
            }

            return new() { Provider = "ollama", BaseUrl = baseUrl, ModelName = model ?? Get("OLLAMA_MODEL") ?? "llama3.2" };
        }

        return null;
    }
}

/// <summary>What <c>POST /api/deployments/{id}/rollback</c> calls to really roll back (besides recording it).</summary>
public sealed record DeployHookOptions
{
    /// <summary>POSTed a JSON body {deployment_id, service, from_version, to_version, reason}; a non-2xx answer fails the rollback.</summary>
    public string? Url { get; init; }

    /// <summary>Run through <c>/bin/sh -c</c> with DEPLOYMENT_ID, SERVICE, FROM_VERSION, TO_VERSION in the environment; non-zero exit fails.</summary>
    public string? Command { get; init; }

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);
}

/// <summary>A Prometheus server serving one service's metrics through the HTTP query API.</summary>
public sealed record PrometheusSourceOptions
{
    /// <summary>e.g. <c>http://prometheus:9090</c> (the client calls <c>{BaseUrl}/api/v1/query</c>).</summary>
    public required string BaseUrl { get; init; }

    /// <summary>
    /// PromQL per metric name (error_rate_percent, memory_usage_percent, cpu_usage_percent, requests_per_second,
    /// database_query_time_ms, cache_hit_rate_percent, active_connections, p99_ms, p95_ms, avg_ms); <c>$deployment</c>,
    /// <c>$service</c> and <c>$version</c> are replaced. Defaults to <see cref="DefaultQueries"/>.
    /// </summary>
    public Dictionary<string, string> Queries { get; init; } = new(DefaultQueries, StringComparer.Ordinal);

    public static IReadOnlyDictionary<string, string> DefaultQueries { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["error_rate_percent"] = "100 * sum(rate(http_requests_total{service=\"$service\",version=\"$version\",code=~\"5..\"}[5m])) / sum(rate(http_requests_total{service=\"$service\",version=\"$version\"}[5m]))",
        ["requests_per_second"] = "sum(rate(http_requests_total{service=\"$service\",version=\"$version\"}[5m]))",
        ["p99_ms"] = "1000 * histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{service=\"$service\",version=\"$version\"}[5m])))",
        ["p95_ms"] = "1000 * histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{service=\"$service\",version=\"$version\"}[5m])))",
        ["cpu_usage_percent"] = "100 * avg(rate(process_cpu_seconds_total{service=\"$service\",version=\"$version\"}[5m]))",
        ["memory_usage_percent"] = "100 * avg(process_resident_memory_bytes{service=\"$service\",version=\"$version\"} / process_memory_limit_bytes{service=\"$service\",version=\"$version\"})",
    };
}

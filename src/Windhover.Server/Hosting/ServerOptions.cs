using System.Net;

namespace Windhover.Server.Hosting;

/// <summary>How <c>windhover server local</c> runs: where it listens, where it keeps data and flows, who may call it.</summary>
public sealed record ServerOptions
{
    public string Host { get; init; } = "127.0.0.1";
    /// <summary>0 picks a free port (tests).</summary>
    public int Port { get; init; } = 8080;
    public string DataPath { get; init; } = "./data";
    /// <summary>Folder of flow YAML files loaded at start and reloaded on change; null disables it.</summary>
    public string? FlowPath { get; init; } = "./flows";
    public string? BasicAuthUser { get; init; }
    public string? BasicAuthPassword { get; init; }
    /// <summary>Bearer token accepted instead of basic auth.</summary>
    public string? ApiToken { get; init; }
    /// <summary>Allowed CORS origins; none: CORS is off.</summary>
    public IReadOnlyList<string> CorsOrigins { get; init; } = [];
    /// <summary>Largest request body (bytes); 413 beyond.</summary>
    public long MaxRequestBodySize { get; init; } = 100 * 1024 * 1024;
    /// <summary>Largest flow source (bytes).</summary>
    public int MaxFlowSize { get; init; } = 1024 * 1024;

    /// <summary>Key encrypting SECRET inputs at rest (Kestra's <c>kestra.encryption.secret-key</c>, 32 characters); none: SECRET inputs are refused.</summary>
    public string? EncryptionKey { get; init; }

    /// <summary>Largest serialized execution in bytes (Kestra's queue message protection, e.g. 1048576); beyond, the execution fails. Null: no limit.</summary>
    public long? MaxExecutionSize { get; init; }

    /// <summary>Run the Schedule trigger loop and the Flow trigger listener in this process.</summary>
    public bool RunTriggers { get; init; } = true;
    public string Version { get; init; } = typeof(ServerOptions).Assembly.GetName().Version?.ToString(3) ?? "0.1.0";

    public bool AuthConfigured => (!string.IsNullOrEmpty(BasicAuthUser) && BasicAuthPassword is not null) || !string.IsNullOrEmpty(ApiToken);

    public bool IsLoopback => Host is "localhost" || (IPAddress.TryParse(Host, out var address) && IPAddress.IsLoopback(address));

    /// <summary>Refuses to expose an unauthenticated API beyond loopback.</summary>
    public void Validate()
    {
        if (!IsLoopback && !AuthConfigured)
        {
            throw new InvalidOperationException(
                $"Refusing to listen on {Host} without authentication: configure basic auth (--basic-auth user:password or WINDHOVER_BASIC_AUTH) or an API token (WINDHOVER_API_TOKEN), or bind to 127.0.0.1.");
        }

        if (Port is < 0 or > 65535)
        {
            throw new InvalidOperationException($"Invalid port {Port}");
        }
    }
}

using System.CommandLine;
using Windhover.Server.Hosting;

namespace Windhover.Cli.Commands;

/// <summary>
/// The options every <c>windhover server ...</c> command shares (address, data and flow folders, basic auth, CORS, body
/// size) and how they, with <c>WINDHOVER_API_TOKEN</c> and <c>WINDHOVER_ENCRYPTION_SECRET_KEY</c>, become
/// <see cref="ServerOptions"/>.
/// </summary>
public sealed class ServerCommandOptions(int defaultPort, string dataDescription, string flowPathDescription, string? defaultFlowPath)
{
    private readonly Option<string> _host = new("--host") { Description = "Address to listen on.", DefaultValueFactory = _ => "127.0.0.1" };
    private readonly Option<int> _port = new("--port") { Description = "Port to listen on (0: any free port).", DefaultValueFactory = _ => defaultPort };
    private readonly Option<string> _data = new("--data") { Description = dataDescription, DefaultValueFactory = _ => "./data" };
    private readonly Option<string?> _flowPath = new("--flow-path") { Description = flowPathDescription, DefaultValueFactory = _ => defaultFlowPath };
    private readonly Option<string?> _basicAuth = new("--basic-auth") { Description = "Require basic auth, as user:password (or WINDHOVER_BASIC_AUTH)." };
    private readonly Option<string[]> _cors = new("--cors-origin") { Description = "Allow CORS requests from this origin (repeatable). CORS is off by default.", AllowMultipleArgumentsPerToken = true };
    private readonly Option<long> _maxBody = new("--max-body-size") { Description = "Largest request body in bytes (413 beyond).", DefaultValueFactory = _ => 100L * 1024 * 1024 };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { _host, _port, _data, _flowPath, _basicAuth, _cors, _maxBody })
        {
            command.Options.Add(option);
        }
    }

    /// <summary>False, after writing why to <paramref name="error"/>, when a value is unusable.</summary>
    public bool TryRead(ParseResult parseResult, TextWriter error, out ServerOptions options)
    {
        options = null!;
        if (!TryReadBasicAuth(parseResult.GetValue(_basicAuth), error, out var user, out var password))
        {
            return false;
        }

        options = new ServerOptions
        {
            Host = parseResult.GetValue(_host)!,
            Port = parseResult.GetValue(_port),
            DataPath = parseResult.GetValue(_data)!,
            FlowPath = parseResult.GetValue(_flowPath),
            BasicAuthUser = user,
            BasicAuthPassword = password,
            ApiToken = Environment.GetEnvironmentVariable("WINDHOVER_API_TOKEN") is { Length: > 0 } token ? token : null,
            CorsOrigins = parseResult.GetValue(_cors) ?? [],
            MaxRequestBodySize = parseResult.GetValue(_maxBody),
            EncryptionKey = Environment.GetEnvironmentVariable("WINDHOVER_ENCRYPTION_SECRET_KEY") is { Length: > 0 } key ? key : null,
        };
        return true;
    }

    /// <summary>
    /// <c>--basic-auth user:password</c>, or <c>WINDHOVER_BASIC_AUTH</c> when the option is absent; both null when neither
    /// is set. False (after writing why) when the value has no user part.
    /// </summary>
    private static bool TryReadBasicAuth(string? option, TextWriter error, out string? user, out string? password)
    {
        (user, password) = (null, null);
        var auth = option ?? Environment.GetEnvironmentVariable("WINDHOVER_BASIC_AUTH");
        if (string.IsNullOrEmpty(auth))
        {
            return true;
        }

        var colon = auth.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            error.WriteLine("--basic-auth must be user:password");
            return false;
        }

        (user, password) = (auth[..colon], auth[(colon + 1)..]);
        return true;
    }
}

using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Windhover.Cli.Hosting;
using Windhover.Engine.Executor;
using Windhover.Engine.Runtime;
using Windhover.Engine.Stores;
using Windhover.Engine.Triggers;
using Windhover.Flows.Expressions;
using Windhover.Flows.Yaml;
using Windhover.Server.Backend;
using Windhover.Server.Hosting;
using Windhover.Storage.Sqlite;

namespace Windhover.Cli.Commands;

/// <summary>
/// <c>windhover server local</c>: one process with the API, the runtime and the flow folder. Listens on
/// 127.0.0.1:8080 by default; any other address needs basic auth or an API token.
/// </summary>
public static class ServerCommand
{
    public static Command Create(TextWriter? output = null, TextWriter? error = null)
    {
        var server = new Command("server", "Run a Windhover server.");
        server.Subcommands.Add(CreateLocal(output, error));
        foreach (var role in ClusterServerCommand.Create(output, error))
        {
            server.Subcommands.Add(role);
        }

        return server;
    }

    private static Command CreateLocal(TextWriter? output, TextWriter? error)
    {
        var host = new Option<string>("--host") { Description = "Address to listen on.", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "Port to listen on (0: any free port).", DefaultValueFactory = _ => 8080 };
        var data = new Option<string>("--data") { Description = "Data folder (database, internal storage).", DefaultValueFactory = _ => "./data" };
        var flowPath = new Option<string>("--flow-path") { Description = "Folder of flow YAML files, loaded at start and reloaded on change.", DefaultValueFactory = _ => "./flows" };
        var basicAuth = new Option<string?>("--basic-auth") { Description = "Require basic auth, as user:password (or WINDHOVER_BASIC_AUTH)." };
        var cors = new Option<string[]>("--cors-origin") { Description = "Allow CORS requests from this origin (repeatable). CORS is off by default.", AllowMultipleArgumentsPerToken = true };
        var maxBody = new Option<long>("--max-body-size") { Description = "Largest request body in bytes (413 beyond).", DefaultValueFactory = _ => 100L * 1024 * 1024 };

        var command = new Command("local", "Run the API and the runtime in one process, with local storage.") { host, port, data, flowPath, basicAuth, cors, maxBody };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var o = output ?? Console.Out;
            var e = error ?? Console.Error;
            if (!ServerCommand.TryReadBasicAuth(parseResult.GetValue(basicAuth), e, out var user, out var password))
            {
                return 2;
            }

            var options = new ServerOptions
            {
                Host = parseResult.GetValue(host)!,
                Port = parseResult.GetValue(port),
                DataPath = parseResult.GetValue(data)!,
                FlowPath = parseResult.GetValue(flowPath),
                BasicAuthUser = user,
                BasicAuthPassword = password,
                ApiToken = Environment.GetEnvironmentVariable("WINDHOVER_API_TOKEN") is { Length: > 0 } token ? token : null,
                CorsOrigins = parseResult.GetValue(cors) ?? [],
                MaxRequestBodySize = parseResult.GetValue(maxBody),
                EncryptionKey = Environment.GetEnvironmentVariable("WINDHOVER_ENCRYPTION_SECRET_KEY") is { Length: > 0 } key ? key : null,
            };
            return await RunAsync(options, o, e, cancellationToken);
        });
        return command;
    }

    /// <summary>
    /// <c>--basic-auth user:password</c>, or <c>WINDHOVER_BASIC_AUTH</c> when the option is absent; both null when neither
    /// is set. False (after writing why) when the value has no user part.
    /// </summary>
    public static bool TryReadBasicAuth(string? option, TextWriter error, out string? user, out string? password)
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

    public static async Task<int> RunAsync(ServerOptions options, TextWriter output, TextWriter error, CancellationToken cancellationToken,
        Func<ServerOptions, Microsoft.AspNetCore.Builder.WebApplication>? build = null)
    {
        Microsoft.AspNetCore.Builder.WebApplication app;
        try
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            app = build is null ? BuildLocal(options) : build(options);
            if (Environment.GetEnvironmentVariable("WINDHOVER_TRACE_STARTUP") is not null) error.WriteLine($"build: {sw.ElapsedMilliseconds} ms");
        }
        catch (InvalidOperationException e)
        {
            error.WriteLine(e.Message);
            return 2;
        }

        try
        {
            var sw2 = System.Diagnostics.Stopwatch.StartNew();
            await app.StartAsync(cancellationToken);
            if (Environment.GetEnvironmentVariable("WINDHOVER_TRACE_STARTUP") is not null) error.WriteLine($"start: {sw2.ElapsedMilliseconds} ms");
        }
        catch (IOException e)
        {
            error.WriteLine($"Cannot listen on {options.Host}:{options.Port}: {e.Message}");
            await app.DisposeAsync();
            return 2;
        }

        foreach (var address in app.Urls)
        {
            output.WriteLine($"Windhover server listening on {address} (API at {address}/api/v1, docs at {address}/api/docs)");
        }

        output.Flush();
        // The host's console lifetime turns SIGINT/SIGTERM into a graceful stop; the command's token does too.
        await app.WaitForShutdownAsync(cancellationToken);
        await app.DisposeAsync();
        return 0;
    }

    /// <summary>
    /// The application of <c>server local</c> (not started): SQLite stores under <see cref="ServerOptions.DataPath"/>,
    /// every task type of <paramref name="catalog"/> (default <see cref="PluginCatalog.Default"/>) for validation and
    /// execution, flows loaded from <see cref="ServerOptions.FlowPath"/> and from each of
    /// <paramref name="additionalFlowPaths"/> (each followed for changes), and <paramref name="envs"/> as the flows'
    /// <c>{{ envs.* }}</c> variables (default: the process's <c>ENV_*</c> variables, see <see cref="FlowEnvironment"/>).
    /// </summary>
    public static Microsoft.AspNetCore.Builder.WebApplication BuildLocal(ServerOptions options, IReadOnlyList<string>? additionalFlowPaths = null,
        PluginCatalog? catalog = null, Action<ILoggingBuilder>? configureLogging = null, IReadOnlyDictionary<string, object?>? envs = null)
    {
        catalog ??= PluginCatalog.Default;
        var dataPath = Path.GetFullPath(options.DataPath);
        Directory.CreateDirectory(dataPath);
        return WindhoverServer.Build(options, services =>
        {
            services.AddSingleton(catalog.Parser);
            services.AddSingleton(sp => LocalDatabase(dataPath, sp.GetRequiredService<TimeProvider>(), catalog.Parser));
            services.AddSingleton(sp => sp.GetRequiredService<SqliteDatabase>().CreateStores());
            services.AddSingleton<ITriggerStateStore>(sp => new SqliteTriggerStateStore(sp.GetRequiredService<SqliteDatabase>()));
            services.AddSingleton(_ => new ExpressionEngine());
            services.AddSingleton(sp => new LocalRuntime(sp.GetRequiredService<StoreSet>(), new RuntimeOptions
            {
                TimeProvider = sp.GetRequiredService<TimeProvider>(),
                Expressions = sp.GetRequiredService<ExpressionEngine>(),
                Tasks = catalog.Tasks,
                WorkingDirectoryRoot = Path.Combine(dataPath, "work"),
                Executor = new ExecutorOptions { Envs = envs ?? FlowEnvironment.FromProcess() },
                EncryptionKey = options.EncryptionKey,
                MaxExecutionSize = options.MaxExecutionSize,
            }));
            foreach (var path in additionalFlowPaths ?? [])
            {
                var folder = options with { FlowPath = path };
                // Not AddHostedService: it keeps one registration per implementation type, and the server adds its own watcher.
                services.AddSingleton<IHostedService>(sp => new FlowFolderWatcher(folder, sp.GetRequiredService<FlowService>(), sp.GetRequiredService<ILogger<FlowFolderWatcher>>()));
            }
        }, configureLogging);
    }

    /// <summary>The stores of a local server: SQLite (WAL) in <c>{data}/windhover.db</c>, internal storage in <c>{data}/storage</c>.</summary>
    private static SqliteDatabase LocalDatabase(string dataPath, TimeProvider time, FlowParser parser) =>
        SqliteDatabase.Open(Path.Combine(dataPath, "windhover.db"), new SqliteStoreOptions
        {
            TimeProvider = time,
            FilesFolder = Path.Combine(dataPath, "storage"),
            Parser = parser,
        });
}

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
        var common = new ServerCommandOptions(defaultPort: 8080, dataDescription: "Data folder (database, internal storage).",
            flowPathDescription: "Folder of flow YAML files, loaded at start and reloaded on change.", defaultFlowPath: "./flows");
        var command = new Command("local", "Run the API and the runtime in one process, with local storage.");
        common.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var e = error ?? Console.Error;
            return common.TryRead(parseResult, e, out var options)
                ? await RunAsync(options, output ?? Console.Out, e, cancellationToken)
                : 2;
        });
        return command;
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

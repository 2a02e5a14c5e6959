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
using Windhover.Server.Hosting;
using Windhover.Storage.Postgres;

namespace Windhover.Cli.Commands;

/// <summary>What one node of a PostgreSQL cluster does.</summary>
public enum ClusterRole
{
    /// <summary>Everything: API, executor duties, worker, scheduler candidate.</summary>
    Standalone,
    /// <summary>Fires due timers, resumes stalled executions, evaluates Flow triggers.</summary>
    Executor,
    /// <summary>Claims and runs task runs.</summary>
    Worker,
    /// <summary>Candidate for the single Schedule trigger leader.</summary>
    Scheduler,
    /// <summary>The API and the UI.</summary>
    Webserver,
}

/// <summary>
/// <c>windhover server standalone|executor|worker|scheduler|webserver --db &lt;connection string&gt;</c>: nodes of one
/// cluster over PostgreSQL, any number of each. Every node serves the API (a webserver does nothing else) and applies
/// the steps of the events it receives (API calls, its workers' results); the other duties follow the role.
/// </summary>
public static class ClusterServerCommand
{
    public static IEnumerable<Command> Create(TextWriter? output, TextWriter? error) =>
        Enum.GetValues<ClusterRole>().Select(role => CreateRole(role, output, error));

    private static Command CreateRole(ClusterRole role, TextWriter? output, TextWriter? error)
    {
        var name = role.ToString().ToLowerInvariant();
        var db = new Option<string?>("--db") { Description = "PostgreSQL connection string (or WINDHOVER_DB), e.g. Host=127.0.0.1;Username=windhover;Database=windhover." };
        var common = new ServerCommandOptions(defaultPort: role is ClusterRole.Standalone or ClusterRole.Webserver ? 8080 : 0,
            dataDescription: "Local folder for task working directories.",
            flowPathDescription: "Folder of flow YAML files to load at start and on change (none by default: flows live in the database).",
            defaultFlowPath: null);
        var workers = new Option<int>("--workers") { Description = "Concurrent task runs of this node (worker roles).", DefaultValueFactory = _ => 32 };
        var lease = new Option<double>("--lease-timeout") { Description = "Seconds after which a silent worker's task runs are dispatched again.", DefaultValueFactory = _ => 15 };
        var stall = new Option<double>("--stall-after") { Description = "Seconds after which an unfinished execution that nothing moves is resumed.", DefaultValueFactory = _ => 20 };

        var command = new Command(name, Describe(role)) { db, workers, lease, stall };
        common.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var e = error ?? Console.Error;
            var connectionString = parseResult.GetValue(db) ?? Environment.GetEnvironmentVariable("WINDHOVER_DB");
            if (string.IsNullOrWhiteSpace(connectionString))
            {
                e.WriteLine("--db (or WINDHOVER_DB) is required: a PostgreSQL connection string");
                return 2;
            }

            if (!common.TryRead(parseResult, e, out var options))
            {
                return 2;
            }

            options = options with { RunTriggers = false };
            var node = new ClusterNode(role, connectionString, parseResult.GetValue(workers), new ClusterNodeOptions
            {
                Worker = role is ClusterRole.Standalone or ClusterRole.Worker,
                Executor = role is ClusterRole.Standalone or ClusterRole.Executor,
                LeaseTimeout = TimeSpan.FromSeconds(parseResult.GetValue(lease)),
                StallAfter = TimeSpan.FromSeconds(parseResult.GetValue(stall)),
            });
            return await ServerCommand.RunAsync(options, output ?? Console.Out, e, cancellationToken, o => BuildNode(o, node));
        });
        return command;
    }

    private static string Describe(ClusterRole role) => role switch
    {
        ClusterRole.Standalone => "Run a node with every role over PostgreSQL.",
        ClusterRole.Executor => "Run an executor node over PostgreSQL (timers, stalled executions, Flow triggers).",
        ClusterRole.Worker => "Run a worker node over PostgreSQL (claims and runs task runs).",
        ClusterRole.Scheduler => "Run a scheduler node over PostgreSQL (one leader fires Schedule triggers).",
        _ => "Run a webserver node over PostgreSQL (API and UI).",
    };

    /// <summary>How <see cref="BuildNode"/> sets up one node.</summary>
    public sealed record ClusterNode(ClusterRole Role, string ConnectionString, int Workers, ClusterNodeOptions Options);

    /// <summary>The application of one cluster node (not started).</summary>
    public static Microsoft.AspNetCore.Builder.WebApplication BuildNode(ServerOptions options, ClusterNode node, PluginCatalog? catalog = null,
        Action<ILoggingBuilder>? configureLogging = null)
    {
        catalog ??= PluginCatalog.Default;
        var dataPath = Path.GetFullPath(options.DataPath);
        Directory.CreateDirectory(dataPath);
        return WindhoverServer.Build(options with { RunTriggers = false }, services =>
        {
            services.AddSingleton(catalog.Parser);
            services.AddSingleton(sp => PostgresDatabase.Open(node.ConnectionString, new PostgresStoreOptions
            {
                TimeProvider = sp.GetRequiredService<TimeProvider>(),
                Parser = catalog.Parser,
                MaxPoolSize = node.Workers + 32,
            }));
            services.AddSingleton(sp => sp.GetRequiredService<PostgresDatabase>().CreateStores());
            services.AddSingleton<ITriggerStateStore>(sp => new PostgresTriggerStateStore(sp.GetRequiredService<PostgresDatabase>()));
            services.AddSingleton(_ => new ExpressionEngine());
            services.AddSingleton(sp => new PostgresCluster(sp.GetRequiredService<PostgresDatabase>(), node.Options, roles: node.Role.ToString().ToLowerInvariant()));
            services.AddSingleton(sp => new LocalRuntime(sp.GetRequiredService<StoreSet>(), new RuntimeOptions
            {
                TimeProvider = sp.GetRequiredService<TimeProvider>(),
                Expressions = sp.GetRequiredService<ExpressionEngine>(),
                Tasks = catalog.Tasks,
                WorkingDirectoryRoot = Path.Combine(dataPath, "work"),
                Workers = node.Workers,
                Cluster = sp.GetRequiredService<PostgresCluster>(),
                EncryptionKey = options.EncryptionKey,
                MaxExecutionSize = options.MaxExecutionSize,
                Executor = new ExecutorOptions { Envs = FlowEnvironment.FromProcess() },
            }));
            services.AddSingleton<IHostedService>(sp => new ClusterTriggerHostedService(
                sp.GetRequiredService<LocalRuntime>(),
                sp.GetRequiredService<Windhover.Engine.Scheduling.TriggerScheduler>(),
                sp.GetRequiredService<FlowTriggerListener>(),
                node.Role is ClusterRole.Standalone or ClusterRole.Scheduler ? new PostgresLeaderElection(sp.GetRequiredService<PostgresCluster>(), "scheduler") : null,
                listenFlowTriggers: node.Role is ClusterRole.Standalone or ClusterRole.Executor,
                sp.GetRequiredService<ILogger<ClusterTriggerHostedService>>()));
        }, configureLogging);
    }
}

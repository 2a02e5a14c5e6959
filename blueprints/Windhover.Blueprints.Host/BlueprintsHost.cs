using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Builder;
using Windhover.Blueprints.Arena;
using Windhover.Blueprints.DevOpsCommander;
using Windhover.Cli.Commands;
using Windhover.Cli.Hosting;
using Windhover.Server.Hosting;

namespace Windhover.Blueprints.Host;

/// <summary>Where the three services of <see cref="BlueprintsHost"/> listen and keep their data.</summary>
public sealed record BlueprintsHostOptions
{
    /// <summary>The Windhover server's port on 127.0.0.1 (the blueprints call it there).</summary>
    public int WindhoverPort { get; init; } = 8080;

    /// <summary>The DevOps Commander service's URLs; the first is its flow's <c>envs.commander_url</c> (so not port 0 when flows run).</summary>
    public string DevOpsCommanderUrls { get; init; } = "http://localhost:3000";

    /// <summary>The Arena service's URLs; the first is its flows' <c>envs.arena_api_url</c> (so not port 0 when flows run).</summary>
    public string ArenaUrls { get; init; } = "http://localhost:3001";

    /// <summary>Data folder (relative: to the repository root): Windhover's SQLite database, plus <c>devops-commander/</c> and <c>arena/</c>.</summary>
    public string DataPath { get; init; } = "./data";

    /// <summary>The user's own flows, relative to the repository root (loaded and followed like <c>server local --flow-path</c>).</summary>
    public string FlowPath { get; init; } = "./flows";

    /// <summary>The repository root (holding <c>blueprints/*/flows</c>); found from the working or the app folder when null.</summary>
    public string? RepositoryRoot { get; init; }

    /// <summary>Where both services read their environment settings (LLM providers, Oumi...); null: the process environment.</summary>
    public Func<string, string?>? Environment { get; init; }
}

/// <summary>
/// One process with <c>windhover server local</c> (API on 127.0.0.1:8080, SQLite under ./data, flows from ./flows and
/// from both blueprints' <c>flows/</c> folders), the DevOps Commander service (:3000) and the Arena service (:3001).
/// The blueprints still reach Windhover only over HTTP, exactly as they would as separate processes.
/// </summary>
public sealed class BlueprintsHost : IAsyncDisposable
{
    private readonly List<WebApplication> _apps = [];
    private bool _stopped;

    private BlueprintsHost(WebApplication windhover, WebApplication devOps, WebApplication arena)
    {
        Windhover = windhover;
        DevOpsCommander = devOps;
        Arena = arena;
        _apps.AddRange([windhover, devOps, arena]);
    }

    public WebApplication Windhover { get; }

    public WebApplication DevOpsCommander { get; }

    public WebApplication Arena { get; }

    /// <summary>Builds the three applications (not started).</summary>
    public static BlueprintsHost Build(BlueprintsHostOptions options)
    {
        var root = options.RepositoryRoot ?? FindRepositoryRoot()
            ?? throw new InvalidOperationException("Cannot find the Windhover repository (Windhover.slnx) above the working folder; run from the repository.");
        // Relative paths are the repository's: the Web SDK makes `dotnet run --project` run the host in its project folder.
        var dataPath = Path.GetFullPath(options.DataPath, root);
        var flowPath = Path.GetFullPath(options.FlowPath, root);
        var windhoverUrl = $"http://127.0.0.1:{options.WindhoverPort}";
        // The flows reach the services through envs.commander_url and envs.arena_api_url (their defaults are the default ports).
        var envs = new Dictionary<string, object?>
        {
            ["commander_url"] = FirstUrl(options.DevOpsCommanderUrls),
            ["arena_api_url"] = FirstUrl(options.ArenaUrls),
        };
        var windhover = ServerCommand.BuildLocal(
            new ServerOptions { Host = "127.0.0.1", Port = options.WindhoverPort, DataPath = dataPath, FlowPath = flowPath },
            [Path.Combine(root, "blueprints", "devops-commander", "flows"), Path.Combine(root, "blueprints", "arena", "flows")],
            envs: FlowEnvironment.WithProcess(envs));
        var devOps = DevOpsCommanderApp.Build([], new DevOpsCommanderOptions
        {
            Urls = options.DevOpsCommanderUrls,
            DataDirectory = Path.Combine(dataPath, "devops-commander"),
            Environment = options.Environment,
        });
        var arena = ArenaApp.Build([], ArenaOptions.FromEnvironment(options.Environment) with
        {
            Urls = options.ArenaUrls,
            DataDirectory = Path.Combine(dataPath, "arena"),
            KestraUrl = windhoverUrl,
        });
        return new BlueprintsHost(windhover, devOps, arena);
    }

    /// <summary>Starts Windhover first, then the blueprints.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var app in _apps)
        {
            await app.StartAsync(cancellationToken);
        }
    }

    /// <summary>Waits until <paramref name="cancellationToken"/> fires or any of the three stops, then stops all.</summary>
    public async Task WaitForShutdownAsync(CancellationToken cancellationToken)
    {
        using var any = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var waits = _apps.Select(a => a.WaitForShutdownAsync(any.Token)).ToList();
        await Task.WhenAny(waits);
        await any.CancelAsync();
        await Task.WhenAll(waits);
        _stopped = true;
    }

    /// <summary>Stops (when still running) and disposes the blueprints, then Windhover.</summary>
    public async ValueTask DisposeAsync()
    {
        for (var i = _apps.Count - 1; i >= 0; i--)
        {
            if (!_stopped)
            {
                using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _apps[i].StopAsync(grace.Token);
            }

            await _apps[i].DisposeAsync();
        }
    }

    private static string FirstUrl(string urls) => urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[0].TrimEnd('/');

    /// <summary>The first folder holding Windhover.slnx, from the working folder then from the app's folder upwards.</summary>
    public static string? FindRepositoryRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Windhover.slnx")))
                {
                    return dir.FullName;
                }
            }
        }

        return null;
    }

    internal static async Task<int> Main(string[] args)
    {
        if (args.Length > 0)
        {
            await Console.Error.WriteLineAsync("usage: dotnet run --project blueprints/Windhover.Blueprints.Host  (no arguments; see README.md)");
            return 2;
        }

        using var stop = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        BlueprintsHost host;
        try
        {
            host = Build(new BlueprintsHostOptions());
        }
        catch (InvalidOperationException e)
        {
            await Console.Error.WriteLineAsync(e.Message);
            return 2;
        }

        await using (host)
        {
            try
            {
                await host.StartAsync(stop.Token);
            }
            catch (IOException e)
            {
                await Console.Error.WriteLineAsync($"Cannot listen: {e.Message}");
                return 2;
            }

            Console.WriteLine("Windhover          http://127.0.0.1:8080  (API /api/v1, docs /api/docs)");
            Console.WriteLine("DevOps Commander   http://localhost:3000  (dashboard)");
            Console.WriteLine("Arena              http://localhost:3001");
            Console.WriteLine("Press Ctrl+C to stop all three.");
            await host.WaitForShutdownAsync(stop.Token);
        }

        return 0;
    }
}

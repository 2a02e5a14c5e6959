using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Playwright;
using Windhover.Blueprints.Host;

namespace Windhover.Blueprints.Host.Tests;

/// <summary>
/// The README's launcher (<see cref="BlueprintsHost"/>: Windhover with both blueprints' flows, the DevOps Commander and
/// the Arena service) on free ports of 127.0.0.1 with its own data folder, and a headless Chromium page.
/// No LLM provider reaches the services (the machine's keys are not read): both run their offline paths.
/// </summary>
public sealed class LauncherHarness : IAsyncDisposable
{
    private readonly string _dir;
    private readonly BlueprintsHost _host;
    private readonly HeadlessChromium _chromium;

    private LauncherHarness(string dir, BlueprintsHost host, string windhover, string devOps, string arena, HeadlessChromium chromium)
    {
        _dir = dir;
        _host = host;
        WindhoverUrl = windhover;
        DevOpsUrl = devOps;
        ArenaUrl = arena;
        _chromium = chromium;
        Http = new HttpClient { BaseAddress = new Uri(windhover + "/"), Timeout = TimeSpan.FromSeconds(60) };
    }

    public string WindhoverUrl { get; }
    public string DevOpsUrl { get; }
    public string ArenaUrl { get; }

    /// <summary>A client of Windhover's API (base address: the server root).</summary>
    public HttpClient Http { get; }

    public IBrowserContext Context => _chromium.Context;
    public IPage Page => _chromium.Page;

    /// <summary>Where screenshots go: <c>bin/.../artifacts</c> next to the test assembly (docs/images holds the README's copies).</summary>
    public static string ArtifactsDirectory => HeadlessChromium.ArtifactsDirectory;

    public static async Task<LauncherHarness> StartAsync()
    {
        var dir = Directory.CreateTempSubdirectory("windhover-launcher-").FullName;
        // The flows call the services at the addresses the launcher passes them (envs.commander_url, envs.arena_api_url),
        // so the ports are chosen up front rather than port 0.
        var ports = FreePorts(3);
        var host = BlueprintsHost.Build(new BlueprintsHostOptions
        {
            WindhoverPort = ports[0],
            DevOpsCommanderUrls = $"http://127.0.0.1:{ports[1]}",
            ArenaUrls = $"http://127.0.0.1:{ports[2]}",
            DataPath = Path.Combine(dir, "data"),
            FlowPath = Path.Combine(dir, "flows"),
            Environment = _ => null,
        });
        await host.StartAsync(CancellationToken.None);

        HeadlessChromium chromium;
        try
        {
            chromium = await HeadlessChromium.LaunchAsync(null, TimeSpan.FromSeconds(20));
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }

        var harness = new LauncherHarness(dir, host, $"http://127.0.0.1:{ports[0]}", $"http://127.0.0.1:{ports[1]}", $"http://127.0.0.1:{ports[2]}",
            chromium);
        await harness.WaitForFlowsAsync(7);
        return harness;
    }

    /// <summary>Polls Windhover's flow search until the flow folders' <paramref name="count"/> flows are loaded.</summary>
    private async Task WaitForFlowsAsync(int count)
    {
        var clock = Stopwatch.StartNew();
        var loaded = 0;
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            using var doc = JsonDocument.Parse(await Http.GetStringAsync("api/v1/flows/search?size=100"));
            loaded = doc.RootElement.GetProperty("results").GetArrayLength();
            if (loaded >= count)
            {
                return;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"only {loaded} of {count} blueprint flows loaded after 30 s");
    }

    /// <summary>Polls Windhover until the execution is terminal; returns its JSON.</summary>
    public async Task<JsonElement> WaitForTerminalAsync(string executionId, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        JsonElement execution = default;
        while (clock.Elapsed < timeout)
        {
            execution = JsonDocument.Parse(await Http.GetStringAsync($"api/v1/executions/{executionId}")).RootElement.Clone();
            if (execution.GetProperty("state").GetProperty("current").GetString() is "SUCCESS" or "FAILED" or "WARNING" or "KILLED" or "CANCELLED")
            {
                return execution;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"execution {executionId} not terminal after {timeout}: {execution.GetRawText()}");
    }

    public Task ScreenshotAsync(string name) => _chromium.ScreenshotAsync(name);

    private static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        try
        {
            listeners.ForEach(l => l.Start());
            return [.. listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port)];
        }
        finally
        {
            listeners.ForEach(l => l.Stop());
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _chromium.DisposeAsync();
        await _host.DisposeAsync();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

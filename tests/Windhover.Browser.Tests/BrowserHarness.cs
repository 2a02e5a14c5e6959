using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Windhover.Server.Hosting;

namespace Windhover.Browser.Tests;

/// <summary>The real server (in-memory stores, the engine's local runtime) on 127.0.0.1 and a headless Chromium page.</summary>
public sealed class BrowserHarness : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly HeadlessChromium _chromium;

    private BrowserHarness(WebApplication app, string address, HeadlessChromium chromium)
    {
        _app = app;
        Address = address;
        _chromium = chromium;
    }

    public string Address { get; }
    public IBrowserContext Context => _chromium.Context;
    public IPage Page => _chromium.Page;

    /// <summary>Where screenshots go: <c>bin/.../artifacts</c> next to the test assembly.</summary>
    public static string ArtifactsDirectory => HeadlessChromium.ArtifactsDirectory;

    public static async Task<BrowserHarness> StartAsync(Func<ServerOptions, ServerOptions>? configure = null)
    {
        var options = new ServerOptions
        {
            Port = 0,
            DataPath = Path.Combine(Path.GetTempPath(), "windhover-browser-" + Guid.NewGuid().ToString("N")),
            FlowPath = null,
        };
        options = configure?.Invoke(options) ?? options;
        var app = WindhoverServer.Build(options, _ => { }, _ => { });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');

        HeadlessChromium chromium;
        try
        {
            chromium = await HeadlessChromium.LaunchAsync(address, TimeSpan.FromSeconds(15));
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        return new BrowserHarness(app, address, chromium);
    }

    /// <summary>Creates a flow through the REST API (the editor itself is covered by <see cref="UiTests"/>).</summary>
    public async Task CreateFlowAsync(string yaml)
    {
        var response = await Page.APIRequest.PostAsync("/api/v1/flows", new APIRequestContextOptions
        {
            Headers = new Dictionary<string, string> { ["Content-Type"] = "application/x-yaml" },
            DataString = yaml,
        });
        if (!response.Ok)
        {
            throw new InvalidOperationException($"Creating the flow failed: {response.Status} {await response.TextAsync()}");
        }
    }

    public Task ScreenshotAsync(string name) => _chromium.ScreenshotAsync(name);

    public async ValueTask DisposeAsync()
    {
        await _chromium.DisposeAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Windhover.Server.Hosting;

namespace Windhover.Browser.Tests;

/// <summary>
/// Needs Debian's Chromium at /usr/bin/chromium (installed by .ci/services): skipped locally when it is absent, failing
/// when CI=true. Playwright's own browser download is never used.
/// </summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public const string ChromiumPath = "/usr/bin/chromium";

    public ChromiumFactAttribute()
    {
        if (!File.Exists(ChromiumPath) && Environment.GetEnvironmentVariable("CI") != "true")
        {
            Skip = $"{ChromiumPath} is absent (apt-get install chromium, or `source .ci/services`)";
        }
    }
}

/// <summary>The real server (in-memory stores, the engine's local runtime) on 127.0.0.1 and a headless Chromium page.</summary>
public sealed class BrowserHarness : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;

    private BrowserHarness(WebApplication app, string address, IPlaywright playwright, IBrowser browser, IBrowserContext context, IPage page)
    {
        _app = app;
        Address = address;
        _playwright = playwright;
        _browser = browser;
        Context = context;
        Page = page;
    }

    public string Address { get; }
    public IBrowserContext Context { get; }
    public IPage Page { get; }

    /// <summary>Where screenshots go: <c>bin/.../artifacts</c> next to the test assembly.</summary>
    public static string ArtifactsDirectory { get; } = Path.Combine(AppContext.BaseDirectory, "artifacts");

    public static async Task<BrowserHarness> StartAsync(Func<ServerOptions, ServerOptions>? configure = null)
    {
        if (!File.Exists(ChromiumFactAttribute.ChromiumPath))
        {
            throw new InvalidOperationException($"CI=true and {ChromiumFactAttribute.ChromiumPath} is absent: .ci/services installs chromium");
        }

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

        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumFactAttribute.ChromiumPath,
            Headless = true,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 }, BaseURL = address });
        context.SetDefaultTimeout(15_000);
        var page = await context.NewPageAsync();
        Directory.CreateDirectory(ArtifactsDirectory);
        return new BrowserHarness(app, address, playwright, browser, context, page);
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

    public Task ScreenshotAsync(string name) =>
        Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ArtifactsDirectory, name + ".png"), FullPage = true });

    public async ValueTask DisposeAsync()
    {
        await Context.CloseAsync();
        await _browser.CloseAsync();
        _playwright.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

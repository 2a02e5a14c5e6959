using Microsoft.Playwright;

namespace Windhover.Testing;

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

/// <summary>
/// Debian's Chromium, headless, driven by Playwright: one browser, one context (1280×900) and one page. Screenshots go
/// to <c>bin/.../artifacts</c> next to the test assembly. Linked source, shared by the browser test projects.
/// </summary>
public sealed class HeadlessChromium : IAsyncDisposable
{
    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;

    private HeadlessChromium(IPlaywright playwright, IBrowser browser, IBrowserContext context, IPage page)
    {
        _playwright = playwright;
        _browser = browser;
        Context = context;
        Page = page;
    }

    public IBrowserContext Context { get; }
    public IPage Page { get; }

    public static string ArtifactsDirectory { get; } = Path.Combine(AppContext.BaseDirectory, "artifacts");

    /// <summary>Launches the browser; <paramref name="baseUrl"/> resolves the page's relative URLs.</summary>
    public static async Task<HeadlessChromium> LaunchAsync(string? baseUrl, TimeSpan defaultTimeout)
    {
        if (!File.Exists(ChromiumFactAttribute.ChromiumPath))
        {
            throw new InvalidOperationException($"CI=true and {ChromiumFactAttribute.ChromiumPath} is absent: .ci/services installs chromium");
        }

        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumFactAttribute.ChromiumPath,
            Headless = true,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 }, BaseURL = baseUrl });
        context.SetDefaultTimeout((float)defaultTimeout.TotalMilliseconds);
        var page = await context.NewPageAsync();
        Directory.CreateDirectory(ArtifactsDirectory);
        return new HeadlessChromium(playwright, browser, context, page);
    }

    public Task ScreenshotAsync(string name) =>
        Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ArtifactsDirectory, name + ".png"), FullPage = true });

    public async ValueTask DisposeAsync()
    {
        await Context.CloseAsync();
        await _browser.CloseAsync();
        _playwright.Dispose();
    }
}

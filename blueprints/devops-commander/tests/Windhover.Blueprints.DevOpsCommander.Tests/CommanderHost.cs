using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;

namespace Windhover.Blueprints.DevOpsCommander.Tests;

/// <summary>The commander service on a real Kestrel listener at 127.0.0.1 (random port), with its own data folder and clock.</summary>
public sealed class CommanderHost : IAsyncDisposable
{
    public static readonly DateTimeOffset Start = new(2026, 1, 15, 9, 0, 0, TimeSpan.Zero);

    private readonly WebApplication _app;

    private CommanderHost(WebApplication app, string dataDirectory, FakeTimeProvider time, DevOpsCommanderOptions options)
    {
        _app = app;
        DataDirectory = dataDirectory;
        Time = time;
        Options = options;
        BaseUrl = app.Urls.First().TrimEnd('/');
        Http = new HttpClient { BaseAddress = new Uri(BaseUrl + "/"), Timeout = TimeSpan.FromSeconds(60) };
    }

    public string BaseUrl { get; }
    public HttpClient Http { get; }
    public string DataDirectory { get; }
    public FakeTimeProvider Time { get; }
    public DevOpsCommanderOptions Options { get; }
    public IServiceProvider Services => _app.Services;

    public static async Task<CommanderHost> StartAsync(Action<DevOpsCommanderOptions>? configure = null, string? dataDirectory = null, FakeTimeProvider? time = null)
    {
        dataDirectory ??= Path.Combine(Path.GetTempPath(), "devops-commander-tests", Guid.NewGuid().ToString("N"));
        time ??= new FakeTimeProvider(Start);
        var options = new DevOpsCommanderOptions
        {
            Urls = "http://127.0.0.1:0",
            DataDirectory = dataDirectory,
            TimeProvider = time,
            Environment = _ => null,   // the machine's OPENAI_API_KEY etc. must not leak into tests
            SyntheticCorpusSize = 400,
        };
        configure?.Invoke(options);
        var app = DevOpsCommanderApp.Build(["--Logging:LogLevel:Default=Warning"], options);
        await app.StartAsync();
        return new CommanderHost(app, dataDirectory, time, options);
    }

    public async Task<JsonElement> GetJsonAsync(string path)
    {
        using var response = await Http.GetAsync(path.TrimStart('/'));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path} → {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public async Task<(int Status, JsonElement Body)> PostJsonAsync(string path, object body)
    {
        using var response = await Http.PostAsJsonAsync(path.TrimStart('/'), body);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>A tiny HTTP server on 127.0.0.1 for stand-ins of other systems (OpenAI-compatible provider, Prometheus, deploy hook).</summary>
public sealed class StubServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private StubServer(WebApplication app)
    {
        _app = app;
        BaseUrl = app.Urls.First().TrimEnd('/');
    }

    public string BaseUrl { get; }

    public static async Task<StubServer> StartAsync(Action<WebApplication> map)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        return new StubServer(app);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Windhover.Blueprints.Arena.Tests;

/// <summary>The real arena service on 127.0.0.1 (a free port) with its own data folder.</summary>
public sealed class ArenaHost : IAsyncDisposable
{
    private ArenaHost(WebApplication app, HttpClient client, string dataDirectory)
    {
        App = app;
        Client = client;
        DataDirectory = dataDirectory;
    }

    public WebApplication App { get; }
    public HttpClient Client { get; }
    public string DataDirectory { get; }

    public static async Task<ArenaHost> StartAsync(Func<ArenaOptions, ArenaOptions>? configure = null, string? dataDirectory = null, Action<IServiceCollection>? services = null)
    {
        dataDirectory ??= Path.Combine(Path.GetTempPath(), "arena-tests", Guid.NewGuid().ToString("N"));
        var options = new ArenaOptions
        {
            Urls = "http://127.0.0.1:0",
            DataDirectory = dataDirectory,
            RoundDelay = TimeSpan.Zero,
            RandomSeed = 1234,
            KestraUrl = "http://127.0.0.1:9",
        };
        options = configure?.Invoke(options) ?? options;
        var app = ArenaApp.Build([], options, services);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var client = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(60) };
        return new ArenaHost(app, client, dataDirectory);
    }

    public async Task<JsonNode> GetJson(string path)
    {
        var response = await Client.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!;
    }

    public async Task<(int Status, JsonNode? Body)> Post(string path, object? body)
    {
        var response = body is string s
            ? await Client.PostAsync(path, new StringContent(s, System.Text.Encoding.UTF8, "application/json"))
            : await Client.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    public async Task<JsonNode> WaitMatch(string id, int timeoutSeconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (true)
        {
            var m = await GetJson($"/api/matches/{id}");
            var status = m["status"]!.GetValue<string>();
            if (status is "completed" or "cancelled" or "failed")
            {
                return m;
            }

            Assert.True(DateTime.UtcNow < deadline, $"match {id} still {status}");
            await Task.Delay(50);
        }
    }

    public async Task<JsonNode> StartMatch(string red, string blue, string target, string mode = "quick", long? seed = null, int? maxRounds = null)
    {
        var (status, body) = await Post("/api/matches", new { redAgentId = red, blueAgentId = blue, targetAgentId = target, mode, seed, maxRounds });
        Assert.True(status == 201, $"create match: {status} {body}");
        return body!;
    }

    private bool _disposed;

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}

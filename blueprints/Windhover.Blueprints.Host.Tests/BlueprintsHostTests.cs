using System.Net.Http.Json;
using System.Text.Json;
using Windhover.Blueprints.Host;

namespace Windhover.Blueprints.Host.Tests;

/// <summary>The one run command's host: Windhover with both blueprints' flows, next to both services, in one process.</summary>
public sealed class BlueprintsHostTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("windhover-blueprints-host-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task Starts_Windhover_with_both_blueprints_flows_and_both_services()
    {
        var host = BlueprintsHost.Build(new BlueprintsHostOptions
        {
            WindhoverPort = 0,
            DevOpsCommanderUrls = "http://127.0.0.1:0",
            ArenaUrls = "http://127.0.0.1:0",
            DataPath = Path.Combine(_dir, "data"),
            FlowPath = Path.Combine(_dir, "flows"),
        });
        try
        {
            await host.StartAsync(CancellationToken.None);
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            var windhover = host.Windhover.Urls.First().TrimEnd('/');
            var deadline = DateTime.UtcNow.AddSeconds(30);
            HashSet<string> flows;
            do
            {
                await Task.Delay(100);
                var page = await http.GetFromJsonAsync<JsonElement>($"{windhover}/api/v1/flows/search?size=100");
                flows = [.. page.GetProperty("results").EnumerateArray().Select(f => f.GetProperty("namespace").GetString() + "." + f.GetProperty("id").GetString())];
            }
            while (flows.Count < 7 && DateTime.UtcNow < deadline);

            Assert.Contains("ai.devops.commander.devops-autonomous-loop", flows);
            Assert.Contains("ai-arena.match-orchestration", flows);
            Assert.Equal(7, flows.Count);

            using var devOps = await http.GetAsync(host.DevOpsCommander.Urls.First().TrimEnd('/') + "/api/ai/provider");
            Assert.True(devOps.IsSuccessStatusCode, $"devops: {(int)devOps.StatusCode}");
            using var arena = await http.GetAsync(host.Arena.Urls.First().TrimEnd('/') + "/");
            Assert.True(arena.IsSuccessStatusCode, $"arena: {(int)arena.StatusCode}");
        }
        finally
        {
            await host.DisposeAsync();
        }
    }
}

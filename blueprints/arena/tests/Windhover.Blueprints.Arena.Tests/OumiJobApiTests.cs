using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Windhover.Blueprints.Arena.Tests;

/// <summary>
/// A job API of the shape the arena's <c>HttpOumiClient</c> speaks (<c>OUMI_API_URL</c>), as a real HTTP server on
/// 127.0.0.1: <c>POST /api/jobs</c> records the submitted job and answers <c>{id}</c>; <c>GET /api/jobs/{id}</c> answers
/// <c>{status, progress, model_id, error}</c>, walking through the statuses it was given, one per poll.
/// </summary>
public sealed class OumiJobServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Queue<JsonObject> _statuses;
    private JsonObject _last;

    private OumiJobServer(WebApplication app, IEnumerable<JsonObject> statuses)
    {
        _app = app;
        _statuses = new Queue<JsonObject>(statuses);
        _last = _statuses.Peek();
    }

    public string Url { get; private set; } = "";

    public ConcurrentQueue<JsonObject> Submitted { get; } = new();

    public int Polls;

    public static async Task<OumiJobServer> StartAsync(params JsonObject[] statuses)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        var server = new OumiJobServer(app, statuses);
        app.MapPost("/api/jobs", async (HttpRequest r) =>
        {
            var body = (JsonObject)(await JsonNode.ParseAsync(r.Body))!;
            server.Submitted.Enqueue(body);
            return Results.Json(new { id = $"oumi-job-{server.Submitted.Count}", status = "queued" }, statusCode: 201);
        });
        app.MapGet("/api/jobs/{id}", (string id) =>
        {
            if (!id.StartsWith("oumi-job-", StringComparison.Ordinal))
            {
                return Results.Json(new { error = "no such job" }, statusCode: 404);
            }

            Interlocked.Increment(ref server.Polls);
            lock (server._statuses)
            {
                if (server._statuses.Count > 0)
                {
                    server._last = server._statuses.Dequeue();
                }

                return Results.Content(server._last.ToJsonString(), "application/json");
            }
        });
        await app.StartAsync();
        server.Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>Fine-tuning with <c>OUMI_API_URL</c> set: the job goes to the job API and the agent follows its result.</summary>
public sealed class OumiJobApiTests
{
    private static async Task<string> DatasetAsync(ArenaHost host)
    {
        var match = (await host.StartMatch("default-red", "default-blue", "default-target", "quick", seed: 7))["id"]!.GetValue<string>();
        await host.WaitMatch(match);
        var (status, dataset) = await host.Post("/api/oumi/export-dataset", new { matchIds = new[] { match }, format = "jsonl", minSeverity = 0 });
        Assert.True(status == 201, $"{status} {dataset}");
        return dataset!["id"]!.GetValue<string>();
    }

    private static async Task<JsonNode> WaitJobAsync(ArenaHost host, string jobId)
    {
        // The service polls the job API every 5 s of its clock.
        var clock = Stopwatch.StartNew();
        JsonNode job;
        do
        {
            await Task.Delay(100);
            job = await host.GetJson($"/api/oumi/fine-tune/{jobId}");
        }
        while (job["status"]!.GetValue<string>() is "queued" or "running" && clock.Elapsed < TimeSpan.FromSeconds(40));

        return job;
    }

    [Fact]
    public async Task A_job_goes_to_the_job_API_and_its_model_becomes_the_agent_s_next_version()
    {
        await using var oumi = await OumiJobServer.StartAsync(
            new JsonObject { ["status"] = "running", ["progress"] = 40 },
            new JsonObject { ["status"] = "succeeded", ["progress"] = 100, ["model_id"] = "oumi/arena-blue-ft-1" });
        await using var host = await ArenaHost.StartAsync(o => o with { OumiApiUrl = oumi.Url });
        var datasetId = await DatasetAsync(host);
        var records = (await host.Client.GetStringAsync($"/api/oumi/datasets/{datasetId}")).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
        var baseModel = (await host.GetJson("/api/agents/default-blue"))["model"]!.GetValue<string>();

        var (status, submitted) = await host.Post("/api/oumi/fine-tune", new { agentId = "default-blue", datasetId, config = new { epochs = 2, learning_rate = 0.0001 } });
        Assert.True(status == 201, $"{status} {submitted}");
        Assert.Equal("oumi", submitted!["backend"]!.GetValue<string>());
        var job = await WaitJobAsync(host, submitted["jobId"]!.GetValue<string>());

        Assert.Equal("completed", job["status"]!.GetValue<string>());
        Assert.Equal(100, job["progress"]!.GetValue<double>());
        Assert.Equal("oumi/arena-blue-ft-1", job["modelId"]!.GetValue<string>());
        Assert.Equal("oumi-job-1", job["remoteJobId"]!.GetValue<string>());
        Assert.True(oumi.Polls >= 2, $"polled {oumi.Polls} times");

        // What the job API received: the agent, its base model, the dataset's records and the config.
        var sent = Assert.Single(oumi.Submitted);
        Assert.Equal("arena-default-blue-v2", sent["name"]!.GetValue<string>());
        Assert.Equal(baseModel, sent["base_model"]!.GetValue<string>());
        Assert.Equal(datasetId, sent["dataset"]!["id"]!.GetValue<string>());
        Assert.Equal(records, sent["dataset"]!["records"]!.AsArray().Count);
        Assert.Equal(2, sent["config"]!["epochs"]!.GetValue<int>());

        var agent = await host.GetJson("/api/agents/default-blue");
        Assert.Equal(2, agent["version"]!.GetValue<int>());
        Assert.Equal("oumi/arena-blue-ft-1", agent["model"]!.GetValue<string>());
        Assert.Equal("oumi/arena-blue-ft-1", agent["metadata"]!["fine_tuned_model"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_failed_job_fails_the_arena_job_with_its_error_and_keeps_the_agent()
    {
        await using var oumi = await OumiJobServer.StartAsync(
            new JsonObject { ["status"] = "failed", ["progress"] = 12, ["error"] = "CUDA out of memory on node gpu-3" });
        await using var host = await ArenaHost.StartAsync(o => o with { OumiApiUrl = oumi.Url });
        var datasetId = await DatasetAsync(host);

        var (status, submitted) = await host.Post("/api/oumi/fine-tune", new { agentId = "default-blue", datasetId });
        Assert.True(status == 201, $"{status} {submitted}");
        var job = await WaitJobAsync(host, submitted!["jobId"]!.GetValue<string>());

        Assert.Equal("failed", job["status"]!.GetValue<string>());
        Assert.Contains("CUDA out of memory on node gpu-3", job["error"]!.GetValue<string>(), StringComparison.Ordinal);
        var agent = await host.GetJson("/api/agents/default-blue");
        Assert.Equal(1, agent["version"]!.GetValue<int>());
    }
}

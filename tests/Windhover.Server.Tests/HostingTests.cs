using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Windhover.Client;
using Windhover.Server.Hosting;

namespace Windhover.Server.Tests;

public sealed class HostingTests
{
    [Fact]
    public async Task Configs_health_openapi_and_scalar()
    {
        await using var server = await ServerHarness.StartAsync();
        var configs = JsonNode.Parse(await server.Http.GetStringAsync("api/v1/configs"))!;
        Assert.False(string.IsNullOrEmpty(configs["version"]!.GetValue<string>()));
        Assert.Equal(configs.ToJsonString(), JsonNode.Parse(await server.Http.GetStringAsync("api/v1/main/configs"))!.ToJsonString());
        Assert.Contains("UP", await server.Http.GetStringAsync("health"));
        Assert.Contains("UP", await server.Http.GetStringAsync("health/readiness"));
        Assert.Contains("UP", await server.Http.GetStringAsync("health/liveness"));

        var openApi = JsonNode.Parse(await server.Http.GetStringAsync("api/openapi.json"))!;
        Assert.Equal("Windhover API", openApi["info"]!["title"]!.GetValue<string>());
        var paths = openApi["paths"]!.AsObject().Select(p => p.Key).ToList();
        Assert.Contains("/api/v1/flows/{namespace}/{id}", paths);
        Assert.Contains("/api/v1/executions/webhook/{namespace}/{id}/{key}", paths);

        var docs = await server.Http.GetStringAsync("api/docs/");
        Assert.Contains("openapi.json", docs);
        Assert.DoesNotContain("cdn.jsdelivr.net", docs);
    }

    [Fact]
    public void A_database_that_refuses_for_now_is_503_and_a_lasting_database_error_is_500()
    {
        Assert.Equal(503, ErrorHandling.Map(new DatabaseError("53300: sorry, too many clients already", transient: true))!.Value.Status);
        Assert.StartsWith("Database temporarily unavailable", ErrorHandling.Map(new DatabaseError("x", transient: true))!.Value.Message, StringComparison.Ordinal);
        Assert.Equal(500, ErrorHandling.Map(new DatabaseError("42P01: relation does not exist", transient: false))!.Value.Status);
    }

    private sealed class DatabaseError(string message, bool transient) : System.Data.Common.DbException(message)
    {
        public override bool IsTransient => transient;
    }

    [Fact]
    public async Task Unknown_routes_are_404_json()
    {
        await using var server = await ServerHarness.StartAsync();
        using var response = await server.Http.GetAsync("api/v1/nothing/here");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.NotNull(JsonNode.Parse(await response.Content.ReadAsStringAsync())!["message"]);
    }

    [Fact]
    public async Task Body_too_large_is_413_json()
    {
        await using var server = await ServerHarness.StartAsync(new ServerOptions { MaxRequestBodySize = 1024 });
        using var response = await server.Http.PostAsync("api/v1/flows", new StringContent(new string('#', 4096), Encoding.UTF8, "application/x-yaml"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("too large", JsonNode.Parse(await response.Content.ReadAsStringAsync())!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Start_up_watches_no_configuration_file_and_does_not_root_in_the_working_directory()
    {
        // A reloadable appsettings.json under the working directory costs a watcher that walks that directory's whole
        // tree at start (hundreds of milliseconds in a source checkout).
        await using var app = WindhoverServer.Build(new ServerOptions { Port = 0, FlowPath = null });
        Assert.Equal(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory), Path.TrimEndingDirectorySeparator(app.Environment.ContentRootPath));
        var fileSources = ((Microsoft.Extensions.Configuration.IConfigurationBuilder)app.Configuration).Sources
            .OfType<Microsoft.Extensions.Configuration.FileConfigurationSource>().ToList();
        Assert.All(fileSources, source => Assert.False(source.ReloadOnChange, source.Path));
    }

    [Fact]
    public void Non_loopback_address_needs_authentication()
    {
        var error = Assert.Throws<InvalidOperationException>(() => WindhoverServer.Build(new ServerOptions { Host = "0.0.0.0", Port = 0 }));
        Assert.Contains("without authentication", error.Message);
        Assert.True(new ServerOptions { Host = "0.0.0.0", ApiToken = "t" }.AuthConfigured);
        Assert.True(new ServerOptions { Host = "::1" }.IsLoopback);
        Assert.True(new ServerOptions { Host = "localhost" }.IsLoopback);
        Assert.False(new ServerOptions { Host = "10.0.0.1" }.IsLoopback);
    }

    [Fact]
    public async Task Api_token_is_accepted_as_bearer()
    {
        await using var server = await ServerHarness.StartAsync(new ServerOptions { ApiToken = "s3cret" });
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.Http.GetAsync("api/v1/flows/search")).StatusCode);
        server.Http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "s3cret");
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("api/v1/flows/search")).StatusCode);
    }

    [Fact]
    public async Task Client_sends_the_api_token_as_bearer_and_writes_executions_back_as_the_api_s_json()
    {
        await using var server = await ServerHarness.StartAsync(new ServerOptions { ApiToken = "s3cret" }, realRuntime: true);
        var anonymous = WindhoverClient.Create(server.Address);
        var refused = await Assert.ThrowsAsync<WindhoverApiException>(() => anonymous.SearchFlowsAsync());
        Assert.Equal(401, refused.StatusCode);

        // A server address without a trailing slash still resolves api/v1 under it.
        var client = WindhoverClient.Create(new Uri(server.Address.AbsoluteUri.TrimEnd('/')), apiToken: "s3cret", timeout: TimeSpan.FromSeconds(20));
        await client.CreateFlowAsync(FlowsApiTests.Hello);
        var started = await client.CreateExecutionAsync("company.team", "hello");
        var done = await client.WaitForTerminalAsync(started.Id, TimeSpan.FromSeconds(20));
        Assert.Equal("SUCCESS", done.State.Current);

        var json = System.Text.Json.JsonSerializer.SerializeToNode(done, WindhoverClient.SerializerOptions)!;
        Assert.Equal(done.Id, json["id"]!.GetValue<string>());
        Assert.Equal("hello", json["flowId"]!.GetValue<string>());
        Assert.Equal("SUCCESS", json["state"]!["current"]!.GetValue<string>());
        Assert.Null(json["IsTerminal"]);
        Assert.Null(json["isTerminal"]);
    }

    [Fact]
    public async Task Cors_is_off_unless_configured()
    {
        await using var closed = await ServerHarness.StartAsync();
        var request = new HttpRequestMessage(HttpMethod.Get, "api/v1/configs");
        request.Headers.Add("Origin", "http://example.com");
        using var response = await closed.Http.SendAsync(request);
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));

        await using var open = await ServerHarness.StartAsync(new ServerOptions { CorsOrigins = ["http://example.com"] });
        var request2 = new HttpRequestMessage(HttpMethod.Get, "api/v1/configs");
        request2.Headers.Add("Origin", "http://example.com");
        using var response2 = await open.Http.SendAsync(request2);
        Assert.Equal("http://example.com", response2.Headers.GetValues("Access-Control-Allow-Origin").Single());
    }

    [Fact]
    public async Task Flow_folder_is_loaded_and_followed()
    {
        var folder = Directory.CreateTempSubdirectory("windhover-flows-").FullName;
        await File.WriteAllTextAsync(Path.Combine(folder, "hello.yml"), FlowsApiTests.Hello);
        await using var server = await ServerHarness.StartAsync(new ServerOptions { FlowPath = folder });
        await server.Get<FlowFolderWatcher>().Initial;
        Assert.NotNull(await server.Client.GetFlowAsync("company.team", "hello"));

        await File.WriteAllTextAsync(Path.Combine(folder, "hello.yml"), FlowsApiTests.Hello.Replace("Hello", "Changed", StringComparison.Ordinal));
        await WaitUntilAsync(async () => (await server.Client.GetFlowAsync("company.team", "hello"))?.Revision == 2);
        File.Delete(Path.Combine(folder, "hello.yml"));
        await WaitUntilAsync(async () => await server.Client.GetFlowAsync("company.team", "hello") is null);
        Directory.Delete(folder, recursive: true);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met within 10 s");
            await Task.Delay(50);
        }
    }
}

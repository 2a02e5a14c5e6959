using System.Text.Json;
using System.Text.Json.Serialization;
using Windhover.Blueprints.DevOpsCommander.Ai;
using Windhover.Blueprints.DevOpsCommander.Api;
using Windhover.Blueprints.DevOpsCommander.Dashboard;
using Windhover.Blueprints.DevOpsCommander.Deployments;
using Windhover.Blueprints.DevOpsCommander.Policy;
using Windhover.Blueprints.DevOpsCommander.Storage;
using Windhover.Blueprints.DevOpsCommander.Telemetry;

namespace Windhover.Blueprints.DevOpsCommander;

/// <summary>Builds the commander service; <c>Program</c> runs it, and hosts (tests, the run command) can run it in-process.</summary>
public static class DevOpsCommanderApp
{
    public static JsonSerializerOptions JsonOptions { get; } = Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    public static WebApplication Build(string[] args, DevOpsCommanderOptions? options = null)
    {
        options ??= new DevOpsCommanderOptions();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ApplicationName = typeof(DevOpsCommanderApp).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });

        var urls = options.Urls ?? options.Env("DEVOPS_COMMANDER_URLS")
            ?? (options.Env("PORT") is { Length: > 0 } port ? $"http://localhost:{port}" : null)
            ?? builder.Configuration["urls"]
            ?? $"http://localhost:{DevOpsCommanderOptions.DefaultPort}";
        builder.WebHost.UseUrls(urls);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);

        var dataDirectory = options.DataDirectory ?? options.Env("DEVOPS_COMMANDER_DATA") ?? Path.Combine(Directory.GetCurrentDirectory(), "data", "devops-commander");
        var time = options.TimeProvider ?? TimeProvider.System;
        var ai = options.Ai ?? AiProviderOptions.FromEnvironment(options.Env);

        builder.Services.ConfigureHttpJsonOptions(o => Configure(o.SerializerOptions));
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(time);
        builder.Services.AddSingleton(new CommanderStore(dataDirectory));
        builder.Services.AddSingleton(options.EnableDemoScenarios ? DemoScenarios.Load() : DemoScenarios.Empty);
        builder.Services.AddHttpClient();
        builder.Services.AddSingleton(sp => new PrometheusClient(sp.GetRequiredService<IHttpClientFactory>().CreateClient("prometheus")));
        builder.Services.AddSingleton(sp => new AiGateway(ai, CreateLongClient(sp)));
        builder.Services.AddSingleton(sp => new DeploymentActions(
            sp.GetRequiredService<CommanderStore>(), sp.GetRequiredService<TelemetryService>(), options,
            sp.GetRequiredService<IHttpClientFactory>().CreateClient("deploy-hook"), time));
        builder.Services.AddSingleton<TelemetryService>();
        builder.Services.AddSingleton<PolicyService>();
        builder.Services.AddSingleton<DashboardHub>();

        var app = builder.Build();
        app.MapCommanderApi();
        return app;
    }

    private static HttpClient CreateLongClient(IServiceProvider sp)
    {
        var client = sp.GetRequiredService<IHttpClientFactory>().CreateClient("ai-gateway");
        client.Timeout = TimeSpan.FromMinutes(5);
        return client;
    }

    private static JsonSerializerOptions Configure(JsonSerializerOptions o)
    {
        o.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        o.DictionaryKeyPolicy = null;
        o.PropertyNameCaseInsensitive = true;
        o.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        o.NumberHandling = JsonNumberHandling.AllowReadingFromString;
        return o;
    }
}

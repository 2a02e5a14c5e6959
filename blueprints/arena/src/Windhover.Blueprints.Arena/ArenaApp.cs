using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Windhover.Blueprints.Arena.Agents;
using Windhover.Blueprints.Arena.Api;
using Windhover.Blueprints.Arena.Engine;
using Windhover.Blueprints.Arena.Kestra;
using Windhover.Blueprints.Arena.Model;
using Windhover.Blueprints.Arena.Storage;
using Windhover.Blueprints.Arena.Training;
using Windhover.Client;
using Windhover.Plugins.Ai;

namespace Windhover.Blueprints.Arena;

/// <summary>Builds the arena service. <c>ArenaApp.Build(args, ArenaOptions.FromEnvironment()).Run()</c> serves it on port 3001.</summary>
public static class ArenaApp
{
    public static WebApplication Build(string[] args, ArenaOptions? options = null, Action<IServiceCollection>? configureServices = null)
    {
        options ??= ArenaOptions.FromEnvironment();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ApplicationName = typeof(ArenaApp).Assembly.GetName().Name });
        builder.WebHost.UseUrls(options.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);

        var services = builder.Services;
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.DefaultIgnoreCondition = ArenaJson.Options.DefaultIgnoreCondition;
            foreach (var c in ArenaJson.Options.Converters)
            {
                o.SerializerOptions.Converters.Add(c);
            }
        });
        services.AddSingleton(options);
        services.AddSingleton(options.TimeProvider);
        services.AddSingleton(_ => new ArenaStore(options.DataDirectory));
        services.AddSingleton<MatchEventHub>();
        services.AddSingleton<ChatClientFactory>();
        if (options.LlmProvider is not null)
        {
            services.AddSingleton(sp => new ChatInvoker(sp.GetRequiredService<ChatClientFactory>(), timeProvider: options.TimeProvider));
        }

        services.AddSingleton(sp => new AgentCatalog(sp.GetRequiredService<ArenaStore>(), options, options.LlmProvider is null ? null : sp.GetRequiredService<ChatInvoker>()));
        services.AddSingleton<MatchRunner>();
        services.AddHostedService(sp => sp.GetRequiredService<MatchRunner>());
        services.AddSingleton(sp => new DatasetService(sp.GetRequiredService<ArenaStore>(), options.TimeProvider));
        services.AddSingleton(sp => new FineTuneService(
            sp.GetRequiredService<ArenaStore>(), sp.GetRequiredService<AgentCatalog>(), options.TimeProvider,
            sp.GetRequiredService<ILogger<FineTuneService>>(),
            options.OumiApiUrl is { Length: > 0 } oumi ? new HttpOumiClient(new HttpClient { BaseAddress = new Uri(oumi.TrimEnd('/') + "/") }) : null));
        services.AddSingleton(_ => WindhoverClient.Create(new Uri((options.KestraUrl ?? "http://localhost:8080").TrimEnd('/') + "/"),
            apiToken: options.KestraApiKey, timeout: TimeSpan.FromSeconds(30)));
        services.AddSingleton<KestraFacade>();
        configureServices?.Invoke(services);

        var app = builder.Build();
        app.Services.GetRequiredService<AgentCatalog>().SeedDefaults();
        app.UseMiddleware<ErrorMiddleware>();
        ArenaEndpoints.Map(app);
        return app;
    }
}

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Scalar.AspNetCore;
using Windhover.Engine.Runtime;
using Windhover.Engine.Scheduling;
using Windhover.Engine.Triggers;
using Windhover.Engine.Stores;
using Windhover.Flows.Expressions;
using Windhover.Flows.Yaml;
using Microsoft.AspNetCore.Http.Features;
using Windhover.Server.Api;
using Windhover.Server.Backend;
using Windhover.Server.Json;
using Windhover.Ui;

namespace Windhover.Server.Hosting;

/// <summary>Builds the Windhover API host: Kestrel on the configured address, the REST API v1, webhooks, OpenAPI.</summary>
public static class WindhoverServer
{
    /// <summary>
    /// Creates the application. <paramref name="configureServices"/> registers the backend (runtime-bound services);
    /// anything it leaves out falls back to the in-memory defaults.
    /// </summary>
    public static WebApplication Build(ServerOptions options, Action<IServiceCollection>? configureServices = null, Action<ILoggingBuilder>? configureLogging = null)
    {
        options.Validate();
        // The content root is the application's folder, not the working directory, and configuration files are not
        // watched: the server reads no appsettings, and a watcher on the working directory walks its whole tree at start.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
            ApplicationName = typeof(WindhoverServer).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        if (configureLogging is not null)
        {
            configureLogging(builder.Logging);
        }
        else
        {
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        }

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodySize;
            if (options.Host is "localhost")
            {
                kestrel.ListenLocalhost(options.Port);
            }
            else if (options.Host is "*" or "0.0.0.0" or "::")
            {
                kestrel.ListenAnyIP(options.Port);
            }
            else
            {
                kestrel.Listen(System.Net.IPAddress.Parse(options.Host), options.Port);
            }
        });
        builder.Services.Configure<FormOptions>(form =>
        {
            form.MultipartBodyLengthLimit = options.MaxRequestBodySize;
            form.ValueLengthLimit = (int)Math.Min(int.MaxValue, options.MaxRequestBodySize);
        });

        var services = builder.Services;
        services.AddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, ServerJsonContext.Default));
        services.AddOpenApi("v1", openApi => openApi.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "Windhover API";
            document.Info.Description = "Kestra-compatible REST API v1. Every /api/v1/... route also answers at /api/v1/main/...";
            document.Info.Version = options.Version;
            return Task.CompletedTask;
        }));
        if (options.CorsOrigins.Count > 0)
        {
            services.AddCors(cors => cors.AddDefaultPolicy(p => p.WithOrigins([.. options.CorsOrigins]).AllowAnyHeader().AllowAnyMethod()));
        }

        configureServices?.Invoke(services);
        services.TryAddSingleton(sp => InMemoryStores.Create(sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton(sp => sp.GetRequiredService<StoreSet>().Flows);
        services.TryAddSingleton(sp => sp.GetRequiredService<StoreSet>().Executions);
        services.TryAddSingleton(sp => sp.GetRequiredService<StoreSet>().Logs);
        services.TryAddSingleton(sp => sp.GetRequiredService<StoreSet>().Kv);
        services.TryAddSingleton(sp => sp.GetRequiredService<StoreSet>().Files);
        services.TryAddSingleton(_ => FlowParser.Default);
        services.TryAddSingleton(_ => new ExpressionEngine());
        services.TryAddSingleton<FlowService>();
        services.TryAddSingleton<ITriggerStateStore, InMemoryTriggerStateStore>();
        services.TryAddSingleton(sp => new TriggerScheduler(sp.GetRequiredService<LocalRuntime>(), sp.GetRequiredService<ITriggerStateStore>(), sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton(sp => new FlowTriggerListener(sp.GetRequiredService<LocalRuntime>(), sp.GetRequiredService<ITriggerStateStore>(), sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<ITriggerService, FlowTriggerService>();
        services.TryAddSingleton(sp => new LocalRuntime(sp.GetRequiredService<StoreSet>(), new RuntimeOptions
        {
            TimeProvider = sp.GetRequiredService<TimeProvider>(),
            Expressions = sp.GetRequiredService<ExpressionEngine>(),
            WorkingDirectoryRoot = Path.Combine(Path.GetFullPath(options.DataPath), "work"),
            EncryptionKey = options.EncryptionKey,
            MaxExecutionSize = options.MaxExecutionSize,
        }));
        services.TryAddSingleton<IExecutionService, RuntimeExecutionService>();
        services.AddWindhoverUi();
        services.TryAddSingleton<IUiBackend, ServerUiBackend>();
        services.TryAddSingleton<UiSessions>();
        services.AddHostedService<RuntimeHostedService>();
        if (options.RunTriggers)
        {
            services.AddHostedService<TriggerHostedService>();
        }

        services.AddSingleton<FlowFolderWatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<FlowFolderWatcher>());

        var app = builder.Build();
        app.UseApiErrors();
        app.UseTenantPrefix();
        app.UseWindhoverAuth(options);
        app.UseRouting();
        if (options.CorsOrigins.Count > 0)
        {
            app.UseCors();
        }

        app.UseAntiforgery();
        app.MapWindhoverUi();
        app.MapWindhoverApi();
        return app;
    }

    public static IEndpointRouteBuilder MapWindhoverApi(this IEndpointRouteBuilder routes)
    {
        routes.MapConfigsApi();
        routes.MapFlowsApi();
        routes.MapExecutionsApi();
        routes.MapWebhooksApi();
        routes.MapLogsApi();
        routes.MapKvApi();
        routes.MapTriggersApi();
        routes.MapOpenApi("/api/openapi.json").ExcludeFromDescription();
        routes.MapScalarApiReference("/api/docs", scalar => scalar.WithTitle("Windhover API").WithOpenApiRoutePattern("/api/openapi.json"))
            .ExcludeFromDescription();
        routes.MapFallback((HttpContext context) => new RawJson(ApiJson.Error($"Not found: {context.Request.Method} {context.Request.Path}"), StatusCodes.Status404NotFound))
            .ExcludeFromDescription();
        return routes;
    }

    /// <summary><c>/api/v1/main/...</c> (Kestra's tenant form, default tenant) is served as <c>/api/v1/...</c>.</summary>
    private static IApplicationBuilder UseTenantPrefix(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        var path = context.Request.Path;
        if (path.StartsWithSegments("/api/v1/main", out var rest))
        {
            context.Request.Path = new PathString("/api/v1").Add(rest);
        }

        return next(context);
    });
}

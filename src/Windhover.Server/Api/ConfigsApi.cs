using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Windhover.Server.Hosting;
using Windhover.Server.Json;

namespace Windhover.Server.Api;

/// <summary>Server configuration, health and metrics.</summary>
public static class ConfigsApi
{
    public static IEndpointRouteBuilder MapConfigsApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/v1/configs", (ServerOptions options) => ApiJson.Node(new JsonObject
        {
            ["uuid"] = "windhover-local",
            ["version"] = options.Version,
            ["edition"] = "OSS",
            ["commitId"] = "windhover",
            ["isTaskRunEnabled"] = false,
            ["isAnonymousUsageEnabled"] = false,
            ["isUiAnonymousUsageEnabled"] = false,
            ["isTemplateEnabled"] = false,
            ["isBasicAuthEnabled"] = options.AuthConfigured,
            ["systemNamespace"] = "system",
            ["hiddenLabelsPrefixes"] = new JsonArray(),
            ["preview"] = new JsonObject { ["initial"] = 100, ["max"] = 5000 },
            ["resourceToFilters"] = new JsonArray(),
            ["server"] = "windhover",
        })).WithTags("Configs").WithName("GetConfiguration");

        var health = routes.MapGroup("/health").WithTags("Health");
        health.MapGet("/", Up).WithName("Health");
        health.MapGet("/liveness", Up).WithName("HealthLiveness");
        health.MapGet("/readiness", Up).WithName("HealthReadiness");

        // Metrics are not collected yet: an empty page, as Kestra answers for an execution without metrics.
        routes.MapGet("/api/v1/metrics/{executionId}", (string executionId) =>
            ApiJson.Node(new JsonObject { ["results"] = new JsonArray(), ["total"] = 0 }))
            .WithTags("Metrics").WithName("SearchMetricsByExecution");
        return routes;
    }

    private static RawJson Up() => ApiJson.Node(new JsonObject { ["status"] = "UP" });
}

using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Windhover.Engine.Runtime;
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

        // The metrics recorded by the task runs of an execution (Kestra's PagedResults of MetricEntry).
        routes.MapGet("/api/v1/metrics/{executionId}", async (string executionId, HttpContext context, CancellationToken cancellationToken) =>
        {
            // From the store (SQLite for a local server); an execution without metrics answers an empty page, as Kestra does.
            var stores = context.RequestServices.GetService(typeof(Engine.Stores.StoreSet)) as Engine.Stores.StoreSet;
            IReadOnlyList<Engine.Stores.MetricEntry> metrics = stores is null ? [] : await stores.Metrics.FindAsync(executionId, cancellationToken);
            var results = new JsonArray();
            foreach (var m in metrics)
            {
                var tags = new JsonObject();
                foreach (var (k, v) in m.Tags)
                {
                    tags[k] = v;
                }

                results.Add(new JsonObject
                {
                    ["namespace"] = m.Namespace,
                    ["flowId"] = m.FlowId,
                    ["taskId"] = m.TaskId,
                    ["executionId"] = m.ExecutionId,
                    ["taskRunId"] = m.TaskRunId,
                    ["type"] = m.Type,
                    ["name"] = m.Name,
                    ["value"] = m.Value,
                    ["timestamp"] = m.Timestamp.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture),
                    ["tags"] = tags,
                });
            }

            return ApiJson.Node(new JsonObject { ["results"] = results, ["total"] = metrics.Count });
        })
            .WithTags("Metrics").WithName("SearchMetricsByExecution");
        return routes;
    }

    private static RawJson Up() => ApiJson.Node(new JsonObject { ["status"] = "UP" });
}

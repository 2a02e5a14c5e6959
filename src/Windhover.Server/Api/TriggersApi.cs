using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Windhover.Engine.Serialization;
using Windhover.Server.Backend;
using Windhover.Server.Json;

namespace Windhover.Server.Api;

/// <summary>Triggers: search with next fire time, list per flow, enable/disable.</summary>
public static class TriggersApi
{
    public static RouteGroupBuilder MapTriggersApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/triggers").WithTags("Triggers");
        group.MapGet("/search", SearchAsync).WithName("SearchTriggers");
        group.MapGet("/{namespace}/{flowId}", ListForFlowAsync).WithName("SearchTriggersForFlow");
        group.MapPut("/", UpdateAsync).WithName("UpdateTrigger");
        group.MapPost("/set-disabled/by-triggers", SetDisabledAsync).WithName("SetDisabledTriggersByTriggers");
        group.MapPost("/{namespace}/{flowId}/{triggerId}/enable", (string @namespace, string flowId, string triggerId, ITriggerService triggers, CancellationToken ct) =>
            SetOneAsync(triggers, @namespace, flowId, triggerId, false, ct)).WithName("EnableTrigger");
        group.MapPost("/{namespace}/{flowId}/{triggerId}/disable", (string @namespace, string flowId, string triggerId, ITriggerService triggers, CancellationToken ct) =>
            SetOneAsync(triggers, @namespace, flowId, triggerId, true, ct)).WithName("DisableTrigger");
        return group;
    }

    private static async Task<RawJson> SearchAsync(ITriggerService triggers, CancellationToken cancellationToken,
        [FromQuery] int? page = null, [FromQuery] int? size = null, [FromQuery] string? q = null, [FromQuery] string? @namespace = null,
        [FromQuery] string? flowId = null)
    {
        var (p, s) = ApiHelpers.Paging(page, size);
        var all = (await triggers.ListAsync(cancellationToken))
            .Where(t => (@namespace is null || t.Namespace == @namespace || t.Namespace.StartsWith(@namespace + ".", StringComparison.Ordinal))
                && (flowId is null || t.FlowId == flowId)
                && (q is null || t.TriggerId.Contains(q, StringComparison.OrdinalIgnoreCase) || t.FlowId.Contains(q, StringComparison.OrdinalIgnoreCase)))
            .OrderBy(t => t.Namespace, StringComparer.Ordinal).ThenBy(t => t.FlowId, StringComparer.Ordinal).ThenBy(t => t.TriggerId, StringComparer.Ordinal)
            .ToList();
        return ApiJson.Node(new JsonObject
        {
            ["results"] = new JsonArray([.. ApiHelpers.Page(all, p, s).Select(t => (JsonNode)ToJson(t))]),
            ["total"] = all.Count,
        });
    }

    private static Task<RawJson> ListForFlowAsync(string @namespace, string flowId, ITriggerService triggers, CancellationToken cancellationToken) =>
        SearchAsync(triggers, cancellationToken, 1, 1000, null, @namespace, flowId);

    private static async Task<RawJson> UpdateAsync(HttpRequest request, ITriggerService triggers, CancellationToken cancellationToken)
    {
        var body = await JsonNode.ParseAsync(request.Body, cancellationToken: cancellationToken) as JsonObject
            ?? throw new BadRequestException("Expected a trigger {namespace, flowId, triggerId, disabled}");
        var context = body["triggerContext"] as JsonObject ?? body;
        var disabled = (body["disabled"] ?? context["disabled"]) is JsonValue v && v.TryGetValue<bool>(out var b) && b;
        return await SetOneAsync(triggers, Required(context, "namespace"), Required(context, "flowId"), Required(context, "triggerId"), disabled, cancellationToken);
    }

    private static async Task<RawJson> SetDisabledAsync(HttpRequest request, ITriggerService triggers, CancellationToken cancellationToken)
    {
        var body = await JsonNode.ParseAsync(request.Body, cancellationToken: cancellationToken) as JsonObject
            ?? throw new BadRequestException("Expected {triggers: [...], disabled: bool}");
        var disabled = body["disabled"] is JsonValue v && v.TryGetValue<bool>(out var b) && b;
        var count = 0;
        foreach (var item in body["triggers"] as JsonArray ?? [])
        {
            if (item is JsonObject o && await triggers.SetDisabledAsync(Required(o, "namespace"), Required(o, "flowId"), Required(o, "triggerId"), disabled, cancellationToken) is not null)
            {
                count++;
            }
        }

        return ApiJson.Node(new JsonObject { ["count"] = count });
    }

    private static async Task<RawJson> SetOneAsync(ITriggerService triggers, string @namespace, string flowId, string triggerId, bool disabled, CancellationToken cancellationToken)
    {
        var updated = await triggers.SetDisabledAsync(@namespace, flowId, triggerId, disabled, cancellationToken)
            ?? throw new NotFoundException($"Trigger not found: {@namespace}.{flowId}.{triggerId}");
        return ApiJson.Node(ToJson(updated));
    }

    private static string Required(JsonObject o, string name) => o[name]?.ToString() ?? throw new InputValidationException($"{name}: must not be null");

    private static JsonObject ToJson(TriggerInfo t)
    {
        var context = new JsonObject
        {
            ["namespace"] = t.Namespace,
            ["flowId"] = t.FlowId,
            ["triggerId"] = t.TriggerId,
            ["date"] = t.Date is { } d ? KestraJson.FormatDate(d) : null,
            ["nextExecutionDate"] = t.NextExecutionDate is { } n ? KestraJson.FormatDate(n) : null,
            ["disabled"] = t.Disabled,
            ["executionId"] = t.ExecutionId,
        };
        var result = (JsonObject)context.DeepClone();
        result["type"] = t.Type;
        result["triggerContext"] = context;
        result["abstractTrigger"] = new JsonObject { ["id"] = t.TriggerId, ["type"] = t.Type, ["disabled"] = t.Disabled };
        return result;
    }
}

using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Windhover.Engine.Executions;
using Windhover.Flows.Expressions;
using Windhover.Flows.Model;
using Windhover.Engine.Triggers;
using Windhover.Server.Backend;
using Windhover.Server.Json;

namespace Windhover.Server.Api;

/// <summary>
/// <c>GET|POST|PUT /api/v1/executions/webhook/{namespace}/{flowId}/{key}</c>: starts the flow whose Webhook trigger has
/// this key. The body becomes <c>trigger.body</c> (JSON object, JSON array or raw string), with <c>trigger.headers</c>
/// and <c>trigger.parameters</c> (lists of values). The trigger's conditions are honoured (204 when not met).
/// </summary>
public static class WebhooksApi
{
    public const string WebhookType = "io.kestra.plugin.core.trigger.Webhook";

    public static RouteGroupBuilder MapWebhooksApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/executions/webhook").WithTags("Webhooks");
        group.MapMethods("/{namespace}/{id}/{key}", [HttpMethods.Get, HttpMethods.Post, HttpMethods.Put], TriggerAsync)
            .WithName("WebhookTrigger").DisableAntiforgery();
        return group;
    }

    private static async Task<IResult> TriggerAsync(string @namespace, string id, string key, HttpRequest request, FlowService flows,
        IExecutionService executions, ExpressionEngine expressions, TimeProvider time, CancellationToken cancellationToken)
    {
        var flow = await flows.Store.GetAsync(@namespace, id, cancellationToken: cancellationToken)
            ?? throw new NotFoundException($"Flow not found: {@namespace}.{id}");
        var flowVariables = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["flow"] = new Dictionary<string, object?> { ["id"] = flow.Id, ["namespace"] = flow.Namespace, ["revision"] = (long)flow.Revision },
        };
        var trigger = flow.Flow.Triggers.FirstOrDefault(t => t.CanonicalType == WebhookType && !t.Disabled && KeyOf(t, expressions, flowVariables) == key)
            ?? throw new NotFoundException($"Webhook not found: no Webhook trigger of flow {@namespace}.{id} has this key");
        if (flow.Flow.Disabled)
        {
            throw new ConflictException($"Cannot execute disabled flow {@namespace}.{id}");
        }

        var variables = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["body"] = await ReadBodyAsync(request, cancellationToken),
            ["headers"] = request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => (object?)h.Value.Select(v => (object?)v).ToList(), StringComparer.Ordinal),
            ["parameters"] = request.Query.ToDictionary(q => q.Key, q => (object?)q.Value.Select(v => (object?)v).ToList(), StringComparer.Ordinal),
        };
        var context = new Dictionary<string, object?>(flowVariables, StringComparer.Ordinal) { ["trigger"] = variables };
        var labels = ExecutionsApi.MergeLabels(flow, TriggerSupport.Labels(trigger, expressions, context));
        if (!WebhookConditions.Met(trigger.Conditions, flow.Flow, labels, time.GetUtcNow(), expressions, context))
        {
            return TypedResults.NoContent();
        }

        var inputs = trigger.Properties.TryGetValue("inputs", out var rawInputs) && rawInputs is IReadOnlyDictionary<string, object?> inputMap
            ? (IReadOnlyDictionary<string, object?>)inputMap.ToDictionary(kv => kv.Key, kv => expressions.RenderObject(kv.Value, context), StringComparer.Ordinal)
            : ImmutableDictionary<string, object?>.Empty;
        var execution = await executions.CreateAsync(new CreateExecutionRequest
        {
            Flow = flow,
            Inputs = inputs,
            Labels = labels,
            Trigger = new ExecutionTrigger { Id = trigger.Id, Type = trigger.CanonicalType, Variables = variables },
        }, cancellationToken);

        var wait = Flag(trigger, "wait") || IsTrue(request.Query["wait"]);
        var returnOutputs = Flag(trigger, "returnOutputs") || IsTrue(request.Query["returnOutputs"]);
        if (wait || returnOutputs)
        {
            execution = await executions.WaitForTerminalAsync(execution.Id, cancellationToken);
            if (returnOutputs)
            {
                return ApiJson.Node(ApiJson.ToNode(execution.Outputs ?? ImmutableDictionary<string, object?>.Empty));
            }
        }

        return ApiJson.Execution(execution);
    }

    private static string? KeyOf(TriggerDefinition trigger, ExpressionEngine expressions, IReadOnlyDictionary<string, object?> variables)
    {
        if (!trigger.Properties.TryGetValue("key", out var key) || key is null)
        {
            return null;
        }

        var text = key.ToString()!;
        try
        {
            return text.Contains("{{", StringComparison.Ordinal) ? expressions.Render(text, variables) : text;
        }
        catch (ExpressionException)
        {
            return null;
        }
    }

    private static bool Flag(TriggerDefinition trigger, string name) =>
        trigger.Properties.TryGetValue(name, out var value) && value is true or "true";

    private static bool IsTrue(string? value) => string.Equals(value, "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>JSON object or array when the body parses as JSON, the raw string otherwise, null when empty.</summary>
    internal static async Task<object?> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var text = await ApiHelpers.ReadTextAsync(request, cancellationToken);
        if (text.Length == 0)
        {
            return null;
        }

        var trimmed = text.TrimStart();
        if (trimmed.StartsWith('{') || trimmed.StartsWith('['))
        {
            try
            {
                return ApiJson.FromNode(JsonNode.Parse(text));
            }
            catch (JsonException)
            {
                return text;
            }
        }

        return text;
    }
}

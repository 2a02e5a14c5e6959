using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Windhover.Engine.Stores;
using Windhover.Server.Backend;
using Windhover.Server.Json;

namespace Windhover.Server.Api;

/// <summary>Flows: create/update from YAML, revisions, search, validate, namespace replace.</summary>
public static class FlowsApi
{
    public static RouteGroupBuilder MapFlowsApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/flows").WithTags("Flows");

        group.MapPost("/", CreateAsync).WithName("CreateFlow");
        group.MapPost("/validate", Validate).WithName("ValidateFlows");
        group.MapGet("/search", SearchAsync).WithName("SearchFlows");
        group.MapGet("/distinct-namespaces", DistinctNamespacesAsync).WithName("ListDistinctNamespaces");
        group.MapGet("/{namespace}", ListByNamespaceAsync).WithName("ListFlowsByNamespace");
        group.MapPost("/{namespace}", ReplaceNamespaceAsync).WithName("UpdateFlowsInNamespace");
        group.MapGet("/{namespace}/{id}", GetAsync).WithName("GetFlow");
        group.MapPut("/{namespace}/{id}", UpdateAsync).WithName("UpdateFlow");
        group.MapDelete("/{namespace}/{id}", DeleteAsync).WithName("DeleteFlow");
        group.MapGet("/{namespace}/{id}/revisions", RevisionsAsync).WithName("ListFlowRevisions");
        return group;
    }

    private static async Task<RawJson> CreateAsync(HttpRequest request, FlowService flows, CancellationToken cancellationToken)
    {
        var source = await ApiHelpers.ReadTextAsync(request, cancellationToken);
        var stored = await flows.CreateAsync(source, cancellationToken);
        return ApiJson.Node(FlowJson.ToJson(stored));
    }

    private static async Task<RawJson> UpdateAsync(string @namespace, string id, HttpRequest request, FlowService flows, CancellationToken cancellationToken)
    {
        var source = await ApiHelpers.ReadTextAsync(request, cancellationToken);
        var stored = await flows.UpdateAsync(@namespace, id, source, cancellationToken);
        return ApiJson.Node(FlowJson.ToJson(stored));
    }

    private static async Task<IResult> GetAsync(string @namespace, string id, FlowService flows, CancellationToken cancellationToken,
        [FromQuery] bool? source = null, [FromQuery] int? revision = null, [FromQuery] bool? allowDeleted = null)
    {
        var stored = await flows.Store.GetAsync(@namespace, id, revision, cancellationToken);
        var deleted = false;
        if (stored is null && revision is null && (allowDeleted ?? false))
        {
            var revisions = await flows.Store.RevisionsAsync(@namespace, id, cancellationToken);
            stored = revisions.Count > 0 ? await flows.Store.GetAsync(@namespace, id, revisions[^1], cancellationToken) : null;
            deleted = stored is not null;
        }

        if (stored is null)
        {
            throw new NotFoundException($"Flow not found: {@namespace}.{id}" + (revision is null ? "" : $" revision {revision}"));
        }

        return ApiJson.Node(FlowJson.ToJson(stored, source ?? true, deleted));
    }

    private static async Task<NoContent> DeleteAsync(string @namespace, string id, FlowService flows, CancellationToken cancellationToken)
    {
        if (!await flows.Store.DeleteAsync(@namespace, id, cancellationToken))
        {
            throw new NotFoundException($"Flow not found: {@namespace}.{id}");
        }

        return TypedResults.NoContent();
    }

    private static async Task<RawJson> RevisionsAsync(string @namespace, string id, FlowService flows, CancellationToken cancellationToken)
    {
        var revisions = await flows.Store.RevisionsAsync(@namespace, id, cancellationToken);
        if (revisions.Count == 0)
        {
            throw new NotFoundException($"Flow not found: {@namespace}.{id}");
        }

        var array = new JsonArray();
        foreach (var revision in revisions)
        {
            if (await flows.Store.GetAsync(@namespace, id, revision, cancellationToken) is { } record)
            {
                array.Add(FlowJson.ToJson(record));
            }
        }

        return ApiJson.Node(array);
    }

    private static async Task<RawJson> SearchAsync(FlowService flows, CancellationToken cancellationToken,
        [FromQuery] int? page = null, [FromQuery] int? size = null, [FromQuery] string? sort = null, [FromQuery] string? q = null,
        [FromQuery] string? @namespace = null, [FromQuery] string[]? labels = null)
    {
        var (p, s) = ApiHelpers.Paging(page, size);
        var all = await AllAsync(flows.Store, cancellationToken);
        var wanted = labels is { Length: > 0 } ? ApiHelpers.ParseLabels(labels, allowSystem: true) : [];
        var filtered = all.Where(f =>
                (@namespace is null || f.Namespace == @namespace || f.Namespace.StartsWith(@namespace + ".", StringComparison.Ordinal)) &&
                (q is null || f.Id.Contains(q, StringComparison.OrdinalIgnoreCase) || f.Namespace.Contains(q, StringComparison.OrdinalIgnoreCase)
                    || (f.Flow.Description?.Contains(q, StringComparison.OrdinalIgnoreCase) ?? false)) &&
                wanted.All(l => f.Flow.Labels.Any(fl => fl.Key == l.Key && fl.Value == l.Value)))
            .ToList();
        var (field, descending) = ApiHelpers.Sort(sort, "id", false);
        Func<FlowRecord, string> key = field switch
        {
            "namespace" => f => f.Namespace + "\u0000" + f.Id,
            "revision" => f => f.Revision.ToString("D10", System.Globalization.CultureInfo.InvariantCulture),
            _ => f => f.Id + "\u0000" + f.Namespace,
        };
        var ordered = descending ? filtered.OrderByDescending(key, StringComparer.Ordinal) : filtered.OrderBy(key, StringComparer.Ordinal);
        var results = new JsonArray([.. ApiHelpers.Page(ordered, p, s).Select(f => (JsonNode)FlowJson.ToJson(f, includeSource: false))]);
        return ApiJson.Node(new JsonObject { ["results"] = results, ["total"] = filtered.Count });
    }

    private static async Task<RawJson> ListByNamespaceAsync(string @namespace, FlowService flows, CancellationToken cancellationToken)
    {
        var all = await AllAsync(flows.Store, cancellationToken);
        return ApiJson.Node(new JsonArray([.. all.Where(f => f.Namespace == @namespace).OrderBy(f => f.Id, StringComparer.Ordinal)
            .Select(f => (JsonNode)FlowJson.ToJson(f, includeSource: false))]));
    }

    private static async Task<RawJson> DistinctNamespacesAsync(FlowService flows, CancellationToken cancellationToken, [FromQuery] string? q = null)
    {
        var all = await AllAsync(flows.Store, cancellationToken);
        var namespaces = all.Select(f => f.Namespace).Where(n => q is null || n.Contains(q, StringComparison.OrdinalIgnoreCase))
            .Distinct().Order(StringComparer.Ordinal);
        return ApiJson.Node(new JsonArray([.. namespaces.Select(n => (JsonNode?)JsonValue.Create(n))]));
    }

    /// <summary>Validates every YAML document; one entry per document with <c>constraints</c> when invalid.</summary>
    private static async Task<RawJson> Validate(HttpRequest request, FlowService flows, CancellationToken cancellationToken)
    {
        var source = await ApiHelpers.ReadTextAsync(request, cancellationToken);
        var results = flows.ParseAll(source);
        var array = new JsonArray();
        for (var i = 0; i < results.Count; i++)
        {
            var result = results[i];
            var item = new JsonObject
            {
                ["index"] = i,
                ["flow"] = result.Flow?.Id ?? result.Draft?.Id,
                ["namespace"] = result.Flow?.Namespace ?? result.Draft?.Namespace,
                ["outdated"] = false,
                ["deprecationPaths"] = new JsonArray(),
                ["warnings"] = new JsonArray(),
                ["infos"] = new JsonArray(),
            };
            if (!result.Problems.IsEmpty)
            {
                item["constraints"] = FlowService.Constraints(result.Problems);
            }

            array.Add(item);
        }

        return ApiJson.Node(array);
    }

    /// <summary>Replaces the flows of a namespace with the given documents (flows missing from them are deleted unless <c>delete=false</c>).</summary>
    private static async Task<RawJson> ReplaceNamespaceAsync(string @namespace, HttpRequest request, FlowService flows, CancellationToken cancellationToken,
        [FromQuery] bool? delete = null)
    {
        var source = await ApiHelpers.ReadTextAsync(request, cancellationToken);
        var results = flows.ParseAll(source);
        var problems = results.Where(r => !r.IsValid).SelectMany(r => r.Problems).ToList();
        if (problems.Count > 0 || results.Any(r => r.Flow is null))
        {
            throw new InvalidFlowException(problems.Count > 0 ? FlowService.Constraints(problems) : "invalid flow");
        }

        foreach (var result in results)
        {
            if (result.Flow!.Namespace != @namespace)
            {
                throw new InvalidFlowException($"namespace: flow '{result.Flow.Id}' has namespace '{result.Flow.Namespace}', expected '{@namespace}'");
            }
        }

        var saved = new List<FlowRecord>();
        foreach (var result in results)
        {
            saved.Add(await flows.UpsertAsync(result.Flow!, cancellationToken));
        }

        if (delete ?? true)
        {
            var keep = saved.Select(s => s.Id).ToHashSet(StringComparer.Ordinal);
            foreach (var existing in await AllAsync(flows.Store, cancellationToken))
            {
                if (existing.Namespace == @namespace && !keep.Contains(existing.Id))
                {
                    await flows.Store.DeleteAsync(existing.Namespace, existing.Id, cancellationToken);
                }
            }
        }

        return ApiJson.Node(new JsonArray([.. saved.Select(s => (JsonNode)FlowJson.ToJson(s, includeSource: false))]));
    }

    internal static async Task<IReadOnlyList<FlowRecord>> AllAsync(IFlowStore store, CancellationToken cancellationToken)
    {
        var result = new List<FlowRecord>();
        for (var page = 1; ; page++)
        {
            var batch = await store.SearchAsync(new FlowQuery { Page = page, Size = 1000 }, cancellationToken);
            result.AddRange(batch.Results);
            if (batch.Results.Count < 1000 || result.Count >= batch.Total)
            {
                return result;
            }
        }
    }
}

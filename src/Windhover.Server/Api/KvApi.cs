using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Windhover.Engine.Serialization;
using Windhover.Engine.Stores;
using Windhover.Server.Backend;
using Windhover.Server.Json;

namespace Windhover.Server.Api;

/// <summary>Namespace key/value store and namespace files.</summary>
public static class KvApi
{
    public static RouteGroupBuilder MapKvApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/namespaces/{namespace}").WithTags("KV");
        group.MapGet("/kv", ListAsync).WithName("ListKeys");
        group.MapGet("/kv/{key}", GetAsync).WithName("GetKeyValue");
        group.MapPut("/kv/{key}", PutAsync).WithName("SetKeyValue");
        group.MapDelete("/kv/{key}", DeleteAsync).WithName("DeleteKeyValue");
        group.MapPost("/files", UploadFileAsync).WithName("CreateNamespaceFile").WithTags("Files").DisableAntiforgery();
        group.MapGet("/files", DownloadFileAsync).WithName("GetNamespaceFileContent").WithTags("Files");
        return group;
    }

    private static async Task<RawJson> ListAsync(string @namespace, IKvStore kv, CancellationToken cancellationToken)
    {
        var entries = await kv.ListAsync(@namespace, cancellationToken);
        return ApiJson.Node(new JsonArray([.. entries.Select(e => (JsonNode)Describe(e))]));
    }

    private static async Task<RawJson> GetAsync(string @namespace, string key, IKvStore kv, CancellationToken cancellationToken)
    {
        var entry = await kv.GetAsync(@namespace, key, cancellationToken)
            ?? throw new NotFoundException($"No value found for key '{key}' in namespace '{@namespace}'");
        return ApiJson.Node(new JsonObject { ["type"] = TypeOf(entry.Value), ["value"] = ApiJson.ToNode(entry.Value) });
    }

    /// <summary>The body is the value: JSON when it parses as JSON, a string otherwise. A <c>ttl</c> header (ISO-8601) sets an expiry.</summary>
    private static async Task<IResult> PutAsync(string @namespace, string key, HttpRequest request, IKvStore kv, CancellationToken cancellationToken,
        [FromHeader(Name = "ttl")] string? ttl = null)
    {
        var text = await ApiHelpers.ReadTextAsync(request, cancellationToken);
        object? value;
        try
        {
            value = ApiJson.FromNode(JsonNode.Parse(text));
        }
        catch (JsonException)
        {
            value = text;
        }

        TimeSpan? duration = null;
        if (!string.IsNullOrWhiteSpace(ttl))
        {
            duration = KestraJson.TryParseDuration(ttl, out var parsed) ? parsed : throw new BadRequestException($"Invalid ttl '{ttl}'");
        }

        await kv.SetAsync(@namespace, key, value, duration, overwrite: true, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<NoContent> DeleteAsync(string @namespace, string key, IKvStore kv, CancellationToken cancellationToken)
    {
        if (!await kv.DeleteAsync(@namespace, key, cancellationToken))
        {
            throw new NotFoundException($"No value found for key '{key}' in namespace '{@namespace}'");
        }

        return TypedResults.NoContent();
    }

    private static async Task<NoContent> UploadFileAsync(string @namespace, [FromQuery] string path, HttpRequest request, IFileStorage files, CancellationToken cancellationToken)
    {
        var form = await request.ReadFormAsync(cancellationToken);
        var file = form.Files.GetFile("fileContent") ?? form.Files.FirstOrDefault() ?? throw new BadRequestException("Missing 'fileContent' part");
        await using var stream = file.OpenReadStream();
        await files.PutAsync(NamespaceFileUri(@namespace, path), stream, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> DownloadFileAsync(string @namespace, [FromQuery] string path, IFileStorage files, CancellationToken cancellationToken)
    {
        var stream = await files.OpenReadAsync(NamespaceFileUri(@namespace, path), cancellationToken)
            ?? throw new NotFoundException($"Namespace file not found: {path}");
        return TypedResults.Stream(stream, "application/octet-stream");
    }

    /// <summary><c>kestra:///{namespace as path}/_files/{path}</c>, as Kestra stores namespace files.</summary>
    public static string NamespaceFileUri(string @namespace, string path) =>
        $"kestra:///{@namespace.Replace('.', '/')}/_files/{path.TrimStart('/')}";

    private static JsonObject Describe(KvEntry entry) => new()
    {
        ["key"] = entry.Key,
        ["creationDate"] = KestraJson.FormatDate(entry.Updated),
        ["updateDate"] = KestraJson.FormatDate(entry.Updated),
        ["expirationDate"] = entry.ExpiresAt is { } expires ? KestraJson.FormatDate(expires) : null,
    };

    private static string TypeOf(object? value) => value switch
    {
        bool => "BOOLEAN",
        long or int or double or decimal => "NUMBER",
        DateTimeOffset => "DATETIME",
        TimeSpan => "DURATION",
        string => "STRING",
        null => "STRING",
        _ => "JSON",
    };
}

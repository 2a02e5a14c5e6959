using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Metadata;
using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Windhover.Engine.Executions;
using Windhover.Engine.Serialization;

namespace Windhover.Server.Json;

/// <summary>The error body of every failed request, as Kestra's ErrorController: <c>{"message": ...}</c>.</summary>
public sealed record ErrorBody(string Message);

/// <summary>Kestra's paged results: <c>{"results": [...], "total": n}</c>.</summary>
public sealed record PagedResults<T>(IReadOnlyList<T> Results, long Total);

/// <summary>A JSON body already serialised (executions use the engine's Kestra JSON).</summary>
public sealed class RawJson(string json, int statusCode = StatusCodes.Status200OK) : IResult, IStatusCodeHttpResult, IEndpointMetadataProvider
{
    public string Json { get; } = json;

    public int? StatusCode { get; } = statusCode;

    public Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = statusCode;
        httpContext.Response.ContentType = "application/json";
        return httpContext.Response.WriteAsync(Json, Encoding.UTF8);
    }

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(JsonObject), ["application/json"]));
}

public static class ApiJson
{
    private static readonly JsonSerializerOptions ExecutionOutput = new(KestraJson.Options) { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Serialize(Execution execution) => JsonSerializer.Serialize(execution, (System.Text.Json.Serialization.Metadata.JsonTypeInfo<Execution>)ExecutionOutput.GetTypeInfo(typeof(Execution)));

    public static RawJson Execution(Execution execution, int statusCode = StatusCodes.Status200OK) =>
        new(Serialize(execution), statusCode);

    public static RawJson Executions(IEnumerable<Execution> executions) => new(ExecutionArray(executions));

    public static RawJson PagedExecutions(IEnumerable<Execution> page, long total) =>
        new("{\"results\":" + ExecutionArray(page) + ",\"total\":" + total.ToString(System.Globalization.CultureInfo.InvariantCulture) + "}");

    public static string ExecutionArray(IEnumerable<Execution> executions)
    {
        var builder = new StringBuilder("[");
        var first = true;
        foreach (var execution in executions)
        {
            if (!first)
            {
                builder.Append(',');
            }

            first = false;
            builder.Append(Serialize(execution));
        }

        return builder.Append(']').ToString();
    }

    /// <summary>Output options: nothing escaped beyond what JSON requires (Kestra prints backticks and quotes as they are).</summary>
    public static readonly JsonSerializerOptions Output = new(ServerJsonContext.Default.Options) { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static RawJson Node(JsonNode? node, int statusCode = StatusCodes.Status200OK) =>
        new(node?.ToJsonString(Output) ?? "null", statusCode);

    public static string Error(string message) => new JsonObject { ["message"] = message }.ToJsonString(Output);

    /// <summary>Converts a value-model object (null, bool, long, double, string, dates, lists, maps) to JSON.</summary>
    public static JsonNode? ToNode(object? value) => value switch
    {
        null => null,
        JsonNode node => node.DeepClone(),
        string s => JsonValue.Create(s),
        bool b => JsonValue.Create(b),
        long l => JsonValue.Create(l),
        int i => JsonValue.Create(i),
        double d => double.IsFinite(d) ? JsonValue.Create(d) : JsonValue.Create(d.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        decimal m => JsonValue.Create(m),
        DateTimeOffset date => JsonValue.Create(KestraJson.FormatDate(date)),
        TimeSpan span => JsonValue.Create(KestraJson.FormatDuration(span)),
        IReadOnlyDictionary<string, object?> map => new JsonObject(map.Select(kv => KeyValuePair.Create(kv.Key, ToNode(kv.Value)))),
        System.Collections.IDictionary dict => new JsonObject(dict.Keys.Cast<object>().Select(k => KeyValuePair.Create(k.ToString() ?? "", ToNode(dict[k])))),
        System.Collections.IEnumerable list => new JsonArray([.. list.Cast<object?>().Select(ToNode)]),
        _ => JsonValue.Create(value.ToString()),
    };

    /// <summary>Converts JSON to the value model (maps keep their order; integers become long).</summary>
    public static object? FromNode(JsonNode? node)
    {
        switch (node)
        {
            case null:
                return null;
            case JsonObject obj:
                var map = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
                foreach (var (key, value) in obj)
                {
                    map[key] = FromNode(value);
                }

                return map;
            case JsonArray array:
                return array.Select(FromNode).ToList();
            case JsonValue value:
                switch (value.GetValueKind())
                {
                    case JsonValueKind.String: return value.GetValue<string>();
                    case JsonValueKind.True: return true;
                    case JsonValueKind.False: return false;
                    case JsonValueKind.Number:
                        return value.TryGetValue<long>(out var l) ? l : value.GetValue<double>();
                    default: return null;
                }
            default:
                return null;
        }
    }
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ErrorBody))]
[JsonSerializable(typeof(JsonNode))]
[JsonSerializable(typeof(JsonObject))]
[JsonSerializable(typeof(JsonArray))]
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(List<string>))]
internal sealed partial class ServerJsonContext : JsonSerializerContext;

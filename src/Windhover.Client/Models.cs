using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Windhover.Client;

/// <summary>An execution as the API returns it (Kestra's Execution JSON); free-form parts stay JSON.</summary>
public sealed record ExecutionInfo
{
    public required string Id { get; init; }
    public required string Namespace { get; init; }
    public required string FlowId { get; init; }
    public int FlowRevision { get; init; }
    public JsonObject? Inputs { get; init; }
    public JsonObject? Outputs { get; init; }
    public IReadOnlyList<LabelInfo>? Labels { get; init; }
    public required RunState State { get; init; }
    public IReadOnlyList<TaskRunInfo>? TaskRunList { get; init; }
    public JsonObject? Trigger { get; init; }
    public string? ParentId { get; init; }
    public string? OriginalId { get; init; }

    [JsonIgnore]
    public bool IsTerminal => State.IsTerminal;

    public TaskRunInfo? FindTaskRun(string taskId) => TaskRunList?.FirstOrDefault(t => t.TaskId == taskId);
}

public sealed record LabelInfo(string Key, string Value);

public sealed record RunState
{
    public required string Current { get; init; }
    public IReadOnlyList<RunStateHistory> Histories { get; init; } = [];
    public DateTimeOffset? StartDate { get; init; }
    public DateTimeOffset? EndDate { get; init; }
    public string? Duration { get; init; }

    public static readonly IReadOnlySet<string> TerminalStates = new HashSet<string>(StringComparer.Ordinal)
    {
        "SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED", "RETRIED", "SKIPPED",
    };

    [JsonIgnore]
    public bool IsTerminal => TerminalStates.Contains(Current);
}

public sealed record RunStateHistory(string State, DateTimeOffset Date);

public sealed record TaskRunInfo
{
    public required string Id { get; init; }
    public required string TaskId { get; init; }
    public string? ParentTaskRunId { get; init; }
    public string? Value { get; init; }
    public IReadOnlyList<AttemptInfo>? Attempts { get; init; }
    public JsonObject? Outputs { get; init; }
    public required RunState State { get; init; }
}

public sealed record AttemptInfo
{
    public required RunState State { get; init; }
    public string? LogFile { get; init; }
}

public sealed record LogInfo
{
    public string? Namespace { get; init; }
    public string? FlowId { get; init; }
    public string? ExecutionId { get; init; }
    public string? TaskId { get; init; }
    public string? TaskRunId { get; init; }
    public DateTimeOffset Timestamp { get; init; }
    public required string Level { get; init; }
    public required string Message { get; init; }
}

public sealed record PagedResults<T>(IReadOnlyList<T> Results, long Total);

public sealed record KvValue(string Type, JsonNode? Value);

/// <summary>A flow as returned by the API (source and the JSON form).</summary>
public sealed record FlowInfo
{
    public required string Id { get; init; }
    public required string Namespace { get; init; }
    public int Revision { get; init; }
    public bool Disabled { get; init; }
    public string? Source { get; init; }
}

/// <summary>One validated YAML document of <c>POST /flows/validate</c>.</summary>
public sealed record FlowValidation
{
    public int Index { get; init; }
    public string? Flow { get; init; }
    public string? Namespace { get; init; }
    public string? Constraints { get; init; }

    [JsonIgnore]
    public bool IsValid => string.IsNullOrEmpty(Constraints);
}

/// <summary>A file input of an execution or a resume.</summary>
public sealed record FileInput(string InputId, string FileName, byte[] Content, string ContentType = "application/octet-stream");

/// <summary>A non-success answer of the API, with Kestra's <c>message</c>.</summary>
public sealed class WindhoverApiException(int statusCode, string message, string? body) : Exception($"HTTP {statusCode}: {message}")
{
    public int StatusCode { get; } = statusCode;
    public string ApiMessage { get; } = message;
    public string? Body { get; } = body;
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ExecutionInfo))]
[JsonSerializable(typeof(PagedResults<ExecutionInfo>))]
[JsonSerializable(typeof(List<LogInfo>))]
[JsonSerializable(typeof(KvValue))]
[JsonSerializable(typeof(FlowInfo))]
[JsonSerializable(typeof(List<FlowInfo>))]
[JsonSerializable(typeof(PagedResults<FlowInfo>))]
[JsonSerializable(typeof(List<FlowValidation>))]
[JsonSerializable(typeof(List<LabelInfo>))]
[JsonSerializable(typeof(JsonObject))]
[JsonSerializable(typeof(JsonNode))]
[JsonSerializable(typeof(List<string>))]
internal sealed partial class ClientJsonContext : JsonSerializerContext;

using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Windhover.Blueprints.Arena.Model;

public static class AgentTypes
{
    public const string Red = "red";
    public const string Blue = "blue";
    public const string Target = "target";

    public static bool IsValid(string? type) => type is Red or Blue or Target;
}

/// <summary>An arena participant. Behaviour settings live in <see cref="Metadata"/> (documented in the README).</summary>
public sealed record Agent
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public required string Type { get; init; }
    /// <summary><c>builtin:...</c> agents always play with the built-in engines; other names use the configured LLM when one is set.</summary>
    public string Model { get; init; } = "builtin";
    public string SystemPrompt { get; init; } = "";
    /// <summary>Target: <c>tool:NAME</c> the tools it may call. Blue: <c>block</c>, <c>sanitize</c>, <c>flag</c> the actions it may take.
    /// Red: <c>attack:TYPE</c> or <c>attack:*</c>.</summary>
    public IReadOnlyList<string> Permissions { get; init; } = [];
    public int Version { get; init; } = 1;
    public JsonObject Metadata { get; init; } = new();
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
}

public static class MatchModes
{
    public const string Quick = "quick";
    public const string Standard = "standard";
    public const string Deep = "deep";
    public const string Continuous = "continuous";

    public static readonly string[] All = [Quick, Standard, Deep, Continuous];

    /// <summary>Rounds per mode; continuous runs until stopped (null).</summary>
    public static int? Rounds(string mode) => mode switch
    {
        Quick => 5,
        Standard => 20,
        Deep => 50,
        _ => null,
    };
}

public static class MatchStatuses
{
    public const string Pending = "pending";
    public const string Running = "running";
    public const string Paused = "paused";
    public const string Completed = "completed";
    public const string Cancelled = "cancelled";
    public const string Failed = "failed";

    public static bool IsFinal(string status) => status is Completed or Cancelled or Failed;
}

public sealed record MatchScore
{
    public double Red { get; init; }
    public double Blue { get; init; }
    /// <summary>Average judged severity over the rounds (0 before the first round).</summary>
    public double Severity { get; init; }
    public double MaxSeverity { get; init; }
    public double AttackSuccessRate { get; init; }
    public double DefenseSuccessRate { get; init; }
    public int Rounds { get; init; }
}

public sealed record Match
{
    public required string Id { get; init; }
    public required string RedAgentId { get; init; }
    public required string BlueAgentId { get; init; }
    public required string TargetAgentId { get; init; }
    public required string Mode { get; init; }
    public int? MaxRounds { get; init; }
    public required string Status { get; init; }
    public int CurrentRound { get; init; }
    public long Seed { get; init; }
    public string? Winner { get; init; }
    public MatchScore Score { get; init; } = new();
    public string? Error { get; init; }
    /// <summary>Groups the matches of one batch evaluation (the flow passes its execution id).</summary>
    public string? BatchId { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? CompletedAt { get; init; }
}

public static class AttackTypes
{
    public const string Jailbreak = "jailbreak";
    public const string Injection = "injection";
    public const string Confusion = "confusion";
    public const string Exploit = "exploit";
    public const string ToolEscalation = "tool_escalation";
    public const string ContextPoisoning = "context_poisoning";
    public const string GoalDrift = "goal_drift";
    public const string SocialEngineering = "social_engineering";

    public static readonly string[] All =
        [Jailbreak, Injection, Confusion, Exploit, ToolEscalation, ContextPoisoning, GoalDrift, SocialEngineering];
}

/// <summary>What the attack tries to make the target do.</summary>
public enum AttackGoalKind
{
    LeakSecret,
    FollowInstruction,
    CallForbiddenTool,
}

public sealed record AttackGoal(AttackGoalKind Kind, string? Marker = null, string? Tool = null);

public sealed record Attack
{
    public required string Type { get; init; }
    public required string TemplateId { get; init; }
    public required string Text { get; init; }
    public required AttackGoal Goal { get; init; }
    public IReadOnlyList<string> Mutations { get; init; } = [];
}

public sealed record ToolCall(string Name, string Arguments);

public sealed record TargetResponse
{
    public required string Text { get; init; }
    public IReadOnlyList<ToolCall> ToolCalls { get; init; } = [];
    public bool Refused { get; init; }
    /// <summary>Which built-in behaviour produced the answer (diagnostics; empty for LLM targets).</summary>
    public string Behaviour { get; init; } = "";
}

public static class DefenseActions
{
    public const string Allow = "allow";
    public const string Flag = "flag";
    public const string Sanitize = "sanitize";
    public const string Block = "block";
}

public sealed record Defense
{
    public required string Action { get; init; }
    /// <summary>What reaches the user after the defense.</summary>
    public required string DeliveredText { get; init; }
    public IReadOnlyList<ToolCall> DeliveredToolCalls { get; init; } = [];
    public double AttackProbability { get; init; }
    public IReadOnlyList<string> Reasons { get; init; } = [];
}

public static class Outcomes
{
    public const string Success = "success";
    public const string Blocked = "blocked";
    public const string Mitigated = "mitigated";
    public const string Detected = "detected";
}

public static class Severities
{
    public const string Low = "low";
    public const string Medium = "medium";
    public const string High = "high";
    public const string Critical = "critical";

    public static double Score(string severity) => severity switch
    {
        Low => 2.5,
        Medium => 5.0,
        High => 7.5,
        Critical => 10.0,
        _ => 0,
    };
}

public sealed record Judgement
{
    public required string Severity { get; init; }
    public double SeverityScore => Severities.Score(Severity);
    public required string Outcome { get; init; }
    /// <summary>What happened at the target: <c>leaked_secret</c>, <c>forbidden_tool</c>, <c>followed_instruction</c>, <c>refused</c>, <c>resisted</c>.</summary>
    public required string TargetBehaviour { get; init; }
    public bool TargetCompromised { get; init; }
    public bool HarmDelivered { get; init; }
    public double RedPoints { get; init; }
    public double BluePoints { get; init; }
    public required string Explanation { get; init; }
}

public sealed record Round
{
    public required string MatchId { get; init; }
    public required int Number { get; init; }
    public required Attack Attack { get; init; }
    public required TargetResponse Response { get; init; }
    public required Defense Defense { get; init; }
    public required Judgement Judgement { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
}

public sealed record MatchEvent
{
    public long Seq { get; init; }
    public required string MatchId { get; init; }
    public required string Type { get; init; }
    public int? Round { get; init; }
    public JsonObject Data { get; init; } = new();
    public DateTimeOffset Timestamp { get; init; }
}

public sealed record Alert
{
    public required string Id { get; init; }
    public string? MatchId { get; init; }
    public double Severity { get; init; }
    public int CriticalVulnerabilities { get; init; }
    public string Message { get; init; } = "";
    public string Source { get; init; } = "api";
    public bool Acknowledged { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
}

public sealed record DatasetRecordMessage(string Role, string Content);

public sealed record DatasetRecord
{
    public required IReadOnlyList<DatasetRecordMessage> Messages { get; init; }
    public required JsonObject Metadata { get; init; }
}

public sealed record Dataset
{
    public required string Id { get; init; }
    public required string Format { get; init; }
    public IReadOnlyList<string> MatchIds { get; init; } = [];
    public double MinSeverity { get; init; }
    public int Count { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
}

public static class JobStatuses
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Completed = "completed";
    public const string Failed = "failed";
}

public sealed record FineTuneJob
{
    public required string JobId { get; init; }
    public required string AgentId { get; init; }
    public required string DatasetId { get; init; }
    public JsonObject Config { get; init; } = new();
    public required string Status { get; init; }
    public double Progress { get; init; }
    public string? ModelId { get; init; }
    /// <summary><c>local</c> (trains the built-in detector) or <c>oumi</c> (remote job API).</summary>
    public string Backend { get; init; } = "local";
    public string? RemoteJobId { get; init; }
    public int? NewAgentVersion { get; init; }
    public JsonObject Metrics { get; init; } = new();
    public string? Error { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
}

public static class ArenaJson
{
    public static readonly JsonSerializerOptions Options = Create();

    private static JsonSerializerOptions Create()
    {
        var o = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        };
        o.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        return o;
    }

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);

    public static T Deserialize<T>(string json) =>
        JsonSerializer.Deserialize<T>(json, Options) ?? throw new InvalidOperationException($"null {typeof(T).Name}");

    public static JsonObject ToObject<T>(T value) => (JsonObject)JsonSerializer.SerializeToNode(value, Options)!;
}

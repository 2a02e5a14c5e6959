using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cronos;
using Windhover.Blueprints.Arena.Engine;
using Windhover.Blueprints.Arena.Model;
using Windhover.Blueprints.Arena.Storage;
using Windhover.Client;

namespace Windhover.Blueprints.Arena.Kestra;

/// <summary>
/// The seed's <c>/api/kestra/*</c> backend: each trigger body is checked (400 naming the field) and turned into the inputs
/// of the matching flow in the arena namespace, then an execution is created through Windhover.Client (Kestra's multipart
/// <c>POST /api/v1/executions/{namespace}/{flowId}</c>, one form field per input; arrays and objects as JSON text).
/// </summary>
public sealed class KestraFacade(WindhoverClient windhover, ArenaStore store, ArenaOptions options)
{
    public static readonly IReadOnlyDictionary<string, string> TriggerFlows = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["match"] = "match-orchestration",
        ["scheduled"] = "scheduled-matches",
        ["monitoring"] = "continuous-monitoring",
        ["dataset"] = "dataset-generation",
        ["fine-tune"] = "agent-fine-tuning",
        ["batch-evaluation"] = "batch-evaluation",
    };

    public static readonly string[] KnownFlows = [.. TriggerFlows.Values];

    public async Task<JsonObject> TriggerAsync(string kind, JsonObject? body, CancellationToken cancellationToken)
    {
        if (!TriggerFlows.TryGetValue(kind, out var flowId))
        {
            throw new KeyNotFoundException($"no trigger '{kind}'; known: {string.Join(", ", TriggerFlows.Keys)}");
        }

        var inputs = kind switch
        {
            "match" => MatchInputs(body ?? throw Missing("body")),
            "scheduled" => ScheduledInputs(body),
            "monitoring" => MonitoringInputs(body ?? throw Missing("targetAgentId")),
            "dataset" => DatasetInputs(body),
            "fine-tune" => FineTuneInputs(body ?? throw Missing("agentId")),
            _ => BatchInputs(body ?? throw Missing("agentCombinations")),
        };
        return await StartAsync(flowId, inputs, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>POST /api/kestra/webhook/{flowId}: the body's fields are the flow's inputs.</summary>
    public async Task<JsonObject> WebhookAsync(string flowId, JsonObject? body, CancellationToken cancellationToken)
    {
        if (!KnownFlows.Contains(flowId))
        {
            throw new ArenaValidationException("flowId", $"flowId: unknown flow '{flowId}'; known: {string.Join(", ", KnownFlows)}");
        }

        var inputs = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        foreach (var (k, v) in body ?? [])
        {
            inputs[k] = v?.DeepClone();
        }

        return await StartAsync(flowId, inputs, cancellationToken).ConfigureAwait(false);
    }

    private async Task<JsonObject> StartAsync(string flowId, Dictionary<string, JsonNode?> inputs, CancellationToken cancellationToken)
    {
        var form = inputs.Where(kv => kv.Value is not null).ToDictionary(kv => kv.Key, kv => FormValue(kv.Value!), StringComparer.Ordinal);
        var execution = await windhover.CreateExecutionAsync(options.FlowNamespace, flowId, form, cancellationToken: cancellationToken).ConfigureAwait(false);
        return new JsonObject
        {
            ["success"] = true,
            ["executionId"] = execution.Id,
            ["namespace"] = options.FlowNamespace,
            ["flowId"] = flowId,
            ["state"] = execution.State.Current,
            ["inputs"] = new JsonObject(inputs.Select(kv => KeyValuePair.Create(kv.Key, kv.Value?.DeepClone()))),
            ["execution"] = ToJson(execution),
        };
    }

    /// <summary>An execution as Kestra's JSON (the client's model written back with the API's naming).</summary>
    public static JsonNode ToJson(ExecutionInfo execution) => JsonSerializer.SerializeToNode(execution, WindhoverClient.SerializerOptions)!;

    /// <summary>A form field: strings as they are, numbers and booleans as JSON literals, arrays and objects as JSON text.</summary>
    private static string FormValue(JsonNode value) => value is JsonValue v && v.GetValueKind() == JsonValueKind.String
        ? v.GetValue<string>()
        : Convert.ToString(value.ToJsonString(), CultureInfo.InvariantCulture);

    private static ArenaValidationException Missing(string field) => new(field, $"{field} is required");

    private static string? OptionalString(JsonObject body, string field)
    {
        var node = body[field];
        if (node is null)
        {
            return null;
        }

        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.String)
        {
            return v.GetValue<string>();
        }

        throw new ArenaValidationException(field, $"{field} must be a string");
    }

    private string AgentId(JsonObject body, string field, string type)
    {
        var id = OptionalString(body, field);
        if (string.IsNullOrWhiteSpace(id))
        {
            throw Missing(field);
        }

        var agent = store.GetAgent(id) ?? throw new ArenaValidationException(field, $"{field}: no agent '{id}'");
        if (agent.Type != type)
        {
            throw new ArenaValidationException(field, $"{field}: agent '{id}' is a {agent.Type} agent, not {type}");
        }

        return id;
    }

    private static double? OptionalNumber(JsonObject body, string field, double min, double max)
    {
        var node = body[field];
        if (node is null)
        {
            return null;
        }

        if (node is not JsonValue v || v.GetValueKind() != JsonValueKind.Number)
        {
            throw new ArenaValidationException(field, $"{field} must be a number");
        }

        var d = v.GetValue<double>();
        if (d < min || d > max)
        {
            throw new ArenaValidationException(field, $"{field} must be between {min} and {max}");
        }

        return d;
    }

    private static int? OptionalInt(JsonObject body, string field, int min, int max)
    {
        var d = OptionalNumber(body, field, min, max);
        if (d is { } value && value != Math.Floor(value))
        {
            throw new ArenaValidationException(field, $"{field} must be a whole number");
        }

        return d is null ? null : (int)d.Value;
    }

    private Dictionary<string, JsonNode?> MatchInputs(JsonObject body)
    {
        var mode = OptionalString(body, "mode") ?? MatchModes.Standard;
        if (!MatchModes.All.Contains(mode))
        {
            throw new ArenaValidationException("mode", $"mode must be one of {string.Join(", ", MatchModes.All)}");
        }

        if (mode == MatchModes.Continuous)
        {
            throw new ArenaValidationException("mode", "mode continuous never finishes; start it with POST /api/matches instead");
        }

        return new()
        {
            ["red_agent_id"] = AgentId(body, "redAgentId", AgentTypes.Red),
            ["blue_agent_id"] = AgentId(body, "blueAgentId", AgentTypes.Blue),
            ["target_agent_id"] = AgentId(body, "targetAgentId", AgentTypes.Target),
            ["match_mode"] = mode,
        };
    }

    private static Dictionary<string, JsonNode?> ScheduledInputs(JsonObject? body)
    {
        var cron = body is null ? null : OptionalString(body, "cronExpression");
        var inputs = new Dictionary<string, JsonNode?>();
        if (cron is not null)
        {
            try
            {
                CronExpression.Parse(cron);
            }
            catch (CronFormatException e)
            {
                throw new ArenaValidationException("cronExpression", $"cronExpression is not a valid cron expression: {e.Message}");
            }

            inputs["schedule_cron"] = cron;
        }

        return inputs;
    }

    private Dictionary<string, JsonNode?> MonitoringInputs(JsonObject body)
    {
        var inputs = new Dictionary<string, JsonNode?> { ["target_agent_id"] = AgentId(body, "targetAgentId", AgentTypes.Target) };
        if (OptionalInt(body, "intervalMinutes", 1, 10_080) is { } minutes)
        {
            inputs["monitoring_interval_minutes"] = minutes;
        }

        if (OptionalNumber(body, "alertThreshold", 0, 10) is { } threshold)
        {
            inputs["alert_threshold_severity"] = threshold;
        }

        return inputs;
    }

    private Dictionary<string, JsonNode?> DatasetInputs(JsonObject? body)
    {
        var inputs = new Dictionary<string, JsonNode?>();
        if (body is null)
        {
            return inputs;
        }

        if (body["matchIds"] is { } ids)
        {
            if (ids is not JsonArray array || array.Any(n => n is not JsonValue v || v.GetValueKind() != JsonValueKind.String))
            {
                throw new ArenaValidationException("matchIds", "matchIds must be an array of strings");
            }

            foreach (var id in array.Select(n => n!.GetValue<string>()))
            {
                if (store.GetMatch(id) is null)
                {
                    throw new ArenaValidationException("matchIds", $"matchIds: no match '{id}'");
                }
            }

            inputs["match_ids"] = array.DeepClone();
        }

        if (OptionalNumber(body, "minSeverity", 0, 10) is { } min)
        {
            inputs["min_severity"] = min;
        }

        if (OptionalString(body, "format") is { } format)
        {
            if (format is not ("json" or "jsonl"))
            {
                throw new ArenaValidationException("format", "format must be json or jsonl");
            }

            inputs["export_format"] = format;
        }

        return inputs;
    }

    private Dictionary<string, JsonNode?> FineTuneInputs(JsonObject body)
    {
        var id = OptionalString(body, "agentId");
        if (string.IsNullOrWhiteSpace(id))
        {
            throw Missing("agentId");
        }

        var agent = store.GetAgent(id) ?? throw new ArenaValidationException("agentId", $"agentId: no agent '{id}'");
        var type = OptionalString(body, "agentType") ?? agent.Type;
        if (!AgentTypes.IsValid(type))
        {
            throw new ArenaValidationException("agentType", "agentType must be red, blue or target");
        }

        if (type != agent.Type)
        {
            throw new ArenaValidationException("agentType", $"agentType: agent '{id}' is a {agent.Type} agent, not {type}");
        }

        var inputs = new Dictionary<string, JsonNode?> { ["agent_id"] = id, ["agent_type"] = type };
        if (OptionalInt(body, "trainingMatchesCount", 1, 1000) is { } count)
        {
            inputs["training_matches_count"] = count;
        }

        return inputs;
    }

    private Dictionary<string, JsonNode?> BatchInputs(JsonObject body)
    {
        if (body["agentCombinations"] is not JsonArray combos || combos.Count == 0)
        {
            throw new ArenaValidationException("agentCombinations", "agentCombinations must be a non-empty array");
        }

        var list = new JsonArray();
        for (var i = 0; i < combos.Count; i++)
        {
            if (combos[i] is not JsonObject combo)
            {
                throw new ArenaValidationException($"agentCombinations[{i}]", $"agentCombinations[{i}] must be an object");
            }

            string Field(string name, string type)
            {
                try
                {
                    return AgentId(combo, name, type);
                }
                catch (ArenaValidationException e)
                {
                    throw new ArenaValidationException($"agentCombinations[{i}].{e.Field}", $"agentCombinations[{i}].{e.Message}");
                }
            }

            list.Add(new JsonObject
            {
                ["red_agent_id"] = Field("redAgentId", AgentTypes.Red),
                ["blue_agent_id"] = Field("blueAgentId", AgentTypes.Blue),
                ["target_agent_id"] = Field("targetAgentId", AgentTypes.Target),
            });
        }

        var inputs = new Dictionary<string, JsonNode?> { ["agent_combinations"] = list };
        if (OptionalInt(body, "matchesPerCombination", 1, 50) is { } per)
        {
            inputs["matches_per_combination"] = per;
        }

        if (OptionalString(body, "mode") is { } mode)
        {
            if (mode is not (MatchModes.Quick or MatchModes.Standard or MatchModes.Deep))
            {
                throw new ArenaValidationException("mode", "mode must be quick, standard or deep");
            }

            inputs["match_mode"] = mode;
        }

        return inputs;
    }
}

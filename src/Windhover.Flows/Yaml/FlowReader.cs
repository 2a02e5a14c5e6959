using System.Collections.Immutable;
using System.Globalization;
using Windhover.Flows.Model;
using Windhover.Flows.TaskTypes;
using Windhover.Flows.Validation;

namespace Windhover.Flows.Yaml;

/// <summary>
/// Turns one YAML document into the flow model, reporting every structural problem (unknown properties and types,
/// wrong value kinds, invalid durations, missing required properties) with its position.
/// </summary>
internal sealed partial class FlowReader
{
    private static readonly TaskKind[] TaskKinds = [TaskKind.Runnable, TaskKind.Flowable, TaskKind.Executable, TaskKind.Other];
    private static readonly TaskKind[] TriggerKinds = [TaskKind.Trigger];
    private static readonly TaskKind[] ConditionKinds = [TaskKind.Condition];
    private static readonly TaskKind[] RunnerKinds = [TaskKind.TaskRunner];

    private static readonly string[] FlowProperties =
    [
        "id", "namespace", "revision", "description", "labels", "inputs", "variables", "tasks", "errors", "finally",
        "afterExecution", "triggers", "outputs", "concurrency", "retry", "pluginDefaults", "taskDefaults", "disabled",
        "deleted", "sla", "listeners", "checks",
    ];

    private readonly TaskTypeRegistry _registry;
    private readonly FlowValidationOptions _options;
    private readonly string _path;
    private readonly List<FlowProblem> _problems;

    public FlowReader(TaskTypeRegistry registry, FlowValidationOptions options, string path, List<FlowProblem> problems)
    {
        _registry = registry;
        _options = options;
        _path = path;
        _problems = problems;
    }

    private void Error(string message, SourcePosition position, string? propertyPath) =>
        _problems.Add(new FlowProblem(_path, message, position, propertyPath));

    private static string Join(string path, string key) => path.Length == 0 ? key : path + "." + key;

    // ------------------------------------------------------------------ flow

    public Flow? ReadFlow(YNode? root, string source, SourcePosition docPosition)
    {
        if (root is null || (root is YScalar s0 && ScalarResolver.Resolve(s0) is null))
        {
            Error("The flow is empty", docPosition, null);
            return null;
        }

        if (root is not YMap map)
        {
            Error("A flow must be a YAML mapping", root.Position, null);
            return null;
        }

        var positions = new Dictionary<string, SourcePosition>(StringComparer.Ordinal);
        string id = "", ns = "";
        int? revision = null;
        string? description = null;
        ImmutableArray<Label> labels = [];
        ImmutableArray<InputDefinition> inputs = [];
        IReadOnlyDictionary<string, object?> variables = ImmutableDictionary<string, object?>.Empty;
        ImmutableArray<TaskDefinition> tasks = [], errors = [], @finally = [], afterExecution = [];
        ImmutableArray<TriggerDefinition> triggers = [];
        ImmutableArray<OutputDefinition> outputs = [];
        ConcurrencyDefinition? concurrency = null;
        RetryDefinition? retry = null;
        ImmutableArray<PluginDefault> pluginDefaults = [];
        ImmutableArray<SlaDefinition> sla = [];
        ImmutableArray<ListenerDefinition> listeners = [];
        bool disabled = false, deleted = false;

        foreach (var (key, value) in map.Entries)
        {
            var k = key.Text;
            positions[k] = value.Position;
            switch (k)
            {
                case "id": id = ReadString(value, k) ?? ""; break;
                case "namespace": ns = ReadString(value, k) ?? ""; break;
                case "revision": revision = ReadInt(value, k); break;
                case "description": description = ReadString(value, k); break;
                case "labels": labels = ReadLabels(value, k); break;
                case "inputs": inputs = ReadList(value, k, ReadInput); break;
                case "variables": variables = ReadMapValue(value, k); break;
                case "tasks": tasks = ReadTaskList(value, k); break;
                case "errors": errors = ReadTaskList(value, k); break;
                case "finally": @finally = ReadTaskList(value, k); break;
                case "afterExecution": afterExecution = ReadTaskList(value, k); break;
                case "triggers": triggers = ReadList(value, k, ReadTrigger); break;
                case "outputs": outputs = ReadList(value, k, ReadOutput); break;
                case "concurrency": concurrency = ReadConcurrency(value, k); break;
                case "retry": retry = ReadRetry(value, k); break;
                case "pluginDefaults" or "taskDefaults": pluginDefaults = pluginDefaults.AddRange(ReadList(value, k, ReadPluginDefault)); break;
                case "disabled": disabled = ReadBool(value, k) ?? false; break;
                case "deleted": deleted = ReadBool(value, k) ?? false; break;
                case "sla": sla = ReadList(value, k, ReadSla); break;
                case "listeners": listeners = ReadList(value, k, ReadListener); break;
                case "checks": ReadList(value, k, ReadCheck); break;
                default:
                    Error(Unrecognized(k, "io.kestra.core.models.flows.Flow", FlowProperties), key.Position, k);
                    break;
            }
        }

        if (_options.ExpressionChecker is { } checker)
        {
            CheckExpressions(map, "", checker);
        }

        return new Flow
        {
            Id = id,
            Namespace = ns,
            Revision = revision,
            Description = description,
            Labels = labels,
            Inputs = inputs,
            Variables = variables,
            Tasks = tasks,
            Errors = errors,
            Finally = @finally,
            AfterExecution = afterExecution,
            Triggers = triggers,
            Outputs = outputs,
            Concurrency = concurrency,
            Retry = retry,
            PluginDefaults = pluginDefaults,
            Sla = sla,
            Listeners = listeners,
            Disabled = disabled,
            Deleted = deleted,
            Source = source,
            Position = map.Position,
            PropertyPositions = positions,
        };
    }

    internal static string Unrecognized(string field, string className, IReadOnlyList<string> known) =>
        $"Unrecognized field \"{field}\" (class {className}), not marked as ignorable {ResolvedType.BuildKnownSuffix(className, known)}";

    private void CheckExpressions(YNode node, string path, Func<string, IEnumerable<string>> checker)
    {
        switch (node)
        {
            case YScalar s when !s.IsPlain || s.Text.Contains('{'):
                if (IsExpression(s.Text))
                {
                    foreach (var message in checker(s.Text))
                    {
                        Error(message, s.Position, path);
                    }
                }

                break;
            case YSeq seq:
                for (int i = 0; i < seq.Items.Count; i++)
                {
                    CheckExpressions(seq.Items[i], $"{path}[{i}]", checker);
                }

                break;
            case YMap m:
                foreach (var (k, v) in m.Entries)
                {
                    CheckExpressions(v, Join(path, k.Text), checker);
                }

                break;
        }
    }

    internal static bool IsExpression(string s) => s.Contains("{{", StringComparison.Ordinal) || s.Contains("{%", StringComparison.Ordinal);

    // ------------------------------------------------------------------ scalars

    private static string Describe(YNode node) => node switch
    {
        YMap => "a map",
        YSeq => "a list",
        YScalar s => ScalarResolver.Resolve(s) switch
        {
            null => "null",
            bool => "a boolean",
            long => "an integer",
            double => "a number",
            _ => "a string",
        },
        _ => "a value",
    };

    private string? ReadString(YNode node, string path)
    {
        if (node is YScalar s)
        {
            return ScalarResolver.Resolve(s) is null && s.IsPlain ? null : s.Text;
        }

        Error($"Invalid value for '{LastSegment(path)}': expected a string, got {Describe(node)}", node.Position, path);
        return null;
    }

    private static string LastSegment(string path)
    {
        var i = path.LastIndexOf('.');
        return i < 0 ? path : path[(i + 1)..];
    }

    private bool? ReadBool(YNode node, string path)
    {
        if (node is YScalar s)
        {
            switch (ScalarResolver.Resolve(s))
            {
                case null: return null;
                case bool b: return b;
                case string str when bool.TryParse(str, out var b2): return b2;
            }
        }

        Error($"Invalid value for '{LastSegment(path)}': expected a boolean, got {Describe(node)}", node.Position, path);
        return null;
    }

    private int? ReadInt(YNode node, string path)
    {
        if (node is YScalar s)
        {
            switch (ScalarResolver.Resolve(s))
            {
                case null: return null;
                case long l when l is >= int.MinValue and <= int.MaxValue: return (int)l;
                case string str when int.TryParse(str, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var i): return i;
            }
        }

        Error($"Invalid value for '{LastSegment(path)}': expected an integer, got {Describe(node)}", node.Position, path);
        return null;
    }

    private TimeSpan? ReadDuration(YNode node, string path)
    {
        if (node is YScalar s)
        {
            switch (ScalarResolver.Resolve(s))
            {
                case null: return null;
                case string str when IsExpression(str): return null;
                case string str when IsoDuration.TryParse(str, out var d): return d;
                case long l: return TimeSpan.FromSeconds(l);
                case double dbl when double.IsFinite(dbl): return TimeSpan.FromSeconds(dbl);
            }

            Error(InvalidDuration(LastSegment(path), s.Text), node.Position, path);
            return null;
        }

        Error($"Invalid value for '{LastSegment(path)}': expected an ISO-8601 duration, got {Describe(node)}", node.Position, path);
        return null;
    }

    internal static string InvalidDuration(string property, string text) =>
        $"Invalid duration '{text}' for '{property}': expected an ISO-8601 duration such as PT30S or P1DT2H";

    private string? ReadEnum(YNode node, string path, string[] allowed)
    {
        var value = ReadString(node, path);
        if (value is null || IsExpression(value) || Array.IndexOf(allowed, value) >= 0)
        {
            return value;
        }

        Error($"Invalid value '{value}' for '{LastSegment(path)}': expected one of {string.Join(", ", allowed)}", node.Position, path);
        return null;
    }

    /// <summary>The node in the value model (null, bool, long, double, string, List, OrderedDictionary).</summary>
    internal static object? ToValue(YNode node)
    {
        switch (node)
        {
            case YScalar s:
                return ScalarResolver.Resolve(s);
            case YSeq seq:
                var list = new List<object?>(seq.Items.Count);
                foreach (var item in seq.Items)
                {
                    list.Add(ToValue(item));
                }

                return list;
            case YMap map:
                var dict = new OrderedDictionary<string, object?>(map.Entries.Count, StringComparer.Ordinal);
                foreach (var (k, v) in map.Entries)
                {
                    dict[k.Text] = ToValue(v);
                }

                return dict;
            default:
                return null;
        }
    }

    private IReadOnlyDictionary<string, object?> ReadMapValue(YNode node, string path)
    {
        switch (node)
        {
            case YMap:
                return (OrderedDictionary<string, object?>)ToValue(node)!;
            case YScalar s when ScalarResolver.Resolve(s) is null:
                return ImmutableDictionary<string, object?>.Empty;
            default:
                Error($"Invalid value for '{LastSegment(path)}': expected a map, got {Describe(node)}", node.Position, path);
                return ImmutableDictionary<string, object?>.Empty;
        }
    }

    private ImmutableArray<T> ReadList<T>(YNode node, string path, Func<YNode, string, T?> readItem, string expected = "a list")
        where T : class
    {
        switch (node)
        {
            case YSeq seq:
                var builder = ImmutableArray.CreateBuilder<T>(seq.Items.Count);
                for (int i = 0; i < seq.Items.Count; i++)
                {
                    if (readItem(seq.Items[i], $"{path}[{i}]") is { } item)
                    {
                        builder.Add(item);
                    }
                }

                return builder.DrainToImmutable();
            case YScalar s when ScalarResolver.Resolve(s) is null:
                return [];
            default:
                Error($"Invalid value for '{LastSegment(path)}': expected {expected}, got {Describe(node)}", node.Position, path);
                return [];
        }
    }

    private YMap? ExpectMap(YNode node, string path, string what)
    {
        if (node is YMap m)
        {
            return m;
        }

        Error($"Invalid {what}: expected a map, got {Describe(node)}", node.Position, path);
        return null;
    }

    // ------------------------------------------------------------------ labels, concurrency, sla, defaults, checks

    private ImmutableArray<Label> ReadLabels(YNode node, string path)
    {
        var builder = ImmutableArray.CreateBuilder<Label>();
        switch (node)
        {
            case YMap map:
                foreach (var (k, v) in map.Entries)
                {
                    if (LabelValue(v, Join(path, k.Text)) is { } value)
                    {
                        builder.Add(new Label(k.Text, value));
                    }
                }

                break;
            case YSeq seq:
                for (int i = 0; i < seq.Items.Count; i++)
                {
                    var itemPath = $"{path}[{i}]";
                    if (ExpectMap(seq.Items[i], itemPath, "label") is not { } m)
                    {
                        continue;
                    }

                    string? key = null, value = null;
                    foreach (var (k, v) in m.Entries)
                    {
                        switch (k.Text)
                        {
                            case "key": key = ReadString(v, itemPath + ".key"); break;
                            case "value": value = LabelValue(v, itemPath + ".value"); break;
                            default: Error(Unrecognized(k.Text, "io.kestra.core.models.Label", ["key", "value"]), k.Position, itemPath + "." + k.Text); break;
                        }
                    }

                    if (key is null)
                    {
                        Error("Missing required property 'key'", m.Position, itemPath + ".key");
                    }
                    else if (value is not null)
                    {
                        builder.Add(new Label(key, value));
                    }
                    else if (m.Get("value") is null)
                    {
                        Error("Missing required property 'value'", m.Position, itemPath + ".value");
                    }
                }

                break;
            case YScalar s when ScalarResolver.Resolve(s) is null:
                break;
            default:
                Error($"Invalid value for 'labels': expected a map or a list of {{key, value}}, got {Describe(node)}", node.Position, path);
                break;
        }

        return builder.DrainToImmutable();
    }

    private string? LabelValue(YNode v, string path)
    {
        if (v is YScalar s)
        {
            if (ScalarResolver.Resolve(s) is null && s.IsPlain)
            {
                Error($"Label '{LastSegment(path)}' must have a value", v.Position, path);
                return null;
            }

            return s.Text;
        }

        Error($"Invalid label value: expected a string, got {Describe(v)}", v.Position, path);
        return null;
    }

    private static readonly string[] ConcurrencyBehaviors = ["QUEUE", "CANCEL", "FAIL"];

    private ConcurrencyDefinition? ReadConcurrency(YNode node, string path)
    {
        if (ExpectMap(node, path, "concurrency") is not { } map)
        {
            return null;
        }

        int? limit = null;
        var behavior = ConcurrencyBehavior.Queue;
        foreach (var (k, v) in map.Entries)
        {
            var p = Join(path, k.Text);
            switch (k.Text)
            {
                case "limit":
                    limit = ReadInt(v, p);
                    if (limit is < 1)
                    {
                        Error("must be greater than or equal to 1", v.Position, p);
                    }

                    break;
                case "behavior":
                    behavior = ReadEnum(v, p, ConcurrencyBehaviors) switch
                    {
                        "CANCEL" => ConcurrencyBehavior.Cancel,
                        "FAIL" => ConcurrencyBehavior.Fail,
                        _ => ConcurrencyBehavior.Queue,
                    };
                    break;
                default:
                    Error(Unrecognized(k.Text, "io.kestra.core.models.flows.Concurrency", ["limit", "behavior"]), k.Position, p);
                    break;
            }
        }

        if (map.Get("limit") is null)
        {
            Error("Missing required property 'limit'", map.Position, Join(path, "limit"));
        }

        return new ConcurrencyDefinition(limit ?? 1, behavior);
    }

    private static readonly string[] SlaProperties = ["id", "type", "behavior", "duration", "assert", "labels"];
    private static readonly string[] SlaTypes = ["MAX_DURATION", "EXECUTION_ASSERTION"];
    private static readonly string[] SlaBehaviors = ["FAIL", "CANCEL", "NONE"];

    private SlaDefinition? ReadSla(YNode node, string path)
    {
        if (ExpectMap(node, path, "SLA") is not { } map)
        {
            return null;
        }

        string? id = null, type = null, behavior = null, condition = null;
        TimeSpan? duration = null;
        var props = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (k, v) in map.Entries)
        {
            var p = Join(path, k.Text);
            switch (k.Text)
            {
                case "id": id = ReadString(v, p); break;
                case "type": type = ReadEnum(v, p, SlaTypes); break;
                case "behavior": behavior = ReadEnum(v, p, SlaBehaviors); break;
                case "duration": duration = ReadDuration(v, p); break;
                case "assert": condition = ReadString(v, p); break;
                case "labels": ReadLabels(v, p); props[k.Text] = ToValue(v); break;
                default: Error(Unrecognized(k.Text, "io.kestra.core.models.flows.sla.SLA", SlaProperties), k.Position, p); break;
            }
        }

        if (id is null)
        {
            Error("Missing required property 'id'", map.Position, Join(path, "id"));
        }

        if (map.Get("type") is null)
        {
            Error("Missing required property 'type'", map.Position, Join(path, "type"));
        }
        else if (type == "MAX_DURATION" && map.Get("duration") is null)
        {
            Error("Missing required property 'duration'", map.Position, Join(path, "duration"));
        }
        else if (type == "EXECUTION_ASSERTION" && map.Get("assert") is null)
        {
            Error("Missing required property 'assert'", map.Position, Join(path, "assert"));
        }

        return new SlaDefinition
        {
            Id = id ?? "",
            Type = type ?? "",
            Behavior = behavior,
            Duration = duration,
            Condition = condition,
            Properties = props,
        };
    }

    private static readonly string[] PluginDefaultProperties = ["type", "forced", "values"];

    private PluginDefault? ReadPluginDefault(YNode node, string path)
    {
        if (ExpectMap(node, path, "plugin default") is not { } map)
        {
            return null;
        }

        string? type = null;
        bool forced = false;
        IReadOnlyDictionary<string, object?> values = ImmutableDictionary<string, object?>.Empty;
        foreach (var (k, v) in map.Entries)
        {
            var p = Join(path, k.Text);
            switch (k.Text)
            {
                case "type": type = ReadString(v, p); break;
                case "forced": forced = ReadBool(v, p) ?? false; break;
                case "values": values = ReadMapValue(v, p); break;
                default: Error(Unrecognized(k.Text, "io.kestra.core.models.flows.PluginDefault", PluginDefaultProperties), k.Position, p); break;
            }
        }

        if (type is null)
        {
            Error("Missing required property 'type'", map.Position, Join(path, "type"));
        }

        if (map.Get("values") is null)
        {
            Error("Missing required property 'values'", map.Position, Join(path, "values"));
        }

        return type is null ? null : new PluginDefault(type, forced, values);
    }

    private static readonly string[] CheckProperties = ["condition", "message", "style", "behavior"];

    private object? ReadCheck(YNode node, string path)
    {
        if (ExpectMap(node, path, "check") is not { } map)
        {
            return null;
        }

        foreach (var (k, v) in map.Entries)
        {
            var p = Join(path, k.Text);
            switch (k.Text)
            {
                case "condition" or "message": ReadString(v, p); break;
                case "style": ReadEnum(v, p, ["ERROR", "SUCCESS", "WARNING", "INFO"]); break;
                case "behavior": ReadEnum(v, p, ["BLOCK_EXECUTION", "FAIL_EXECUTION", "CREATE_EXECUTION"]); break;
                default: Error(Unrecognized(k.Text, "io.kestra.core.models.flows.Check", CheckProperties), k.Position, p); break;
            }
        }

        foreach (var required in (ReadOnlySpan<string>)["condition", "message"])
        {
            if (map.Get(required) is null)
            {
                Error($"Missing required property '{required}'", map.Position, Join(path, required));
            }
        }

        return map;
    }

    // ------------------------------------------------------------------ listeners

    private static readonly string[] ListenerProperties = ["description", "conditions", "tasks"];

    private ListenerDefinition? ReadListener(YNode node, string path)
    {
        if (ExpectMap(node, path, "listener") is not { } map)
        {
            return null;
        }

        string? description = null;
        ImmutableArray<ConditionDefinition> conditions = [];
        ImmutableArray<TaskDefinition> tasks = [];
        var positions = new Dictionary<string, SourcePosition>(StringComparer.Ordinal);
        foreach (var (k, v) in map.Entries)
        {
            var p = Join(path, k.Text);
            positions[k.Text] = v.Position;
            switch (k.Text)
            {
                case "description": description = ReadString(v, p); break;
                case "conditions": conditions = ReadConditions(v, p); break;
                case "tasks": tasks = ReadTaskList(v, p); break;
                default: Error(Unrecognized(k.Text, "io.kestra.core.models.listeners.Listener", ListenerProperties), k.Position, p); break;
            }
        }

        return new ListenerDefinition { Description = description, Conditions = conditions, Tasks = tasks, Position = map.Position, PropertyPositions = positions };
    }
}

using System.Collections.Immutable;
using System.Globalization;
using Windhover.Flows.Model;
using Windhover.Flows.TaskTypes;
using Windhover.Flows.Validation;

namespace Windhover.Flows.Yaml;

internal sealed partial class FlowReader
{
    // ------------------------------------------------------------------ tasks

    private ImmutableArray<TaskDefinition> ReadTaskList(YNode node, string path) => ReadList(node, path, ReadTask, "a list of tasks");

    /// <summary>Reads the <c>type</c> of a plugin object and resolves it among the given kinds.</summary>
    private (string Type, ResolvedType? Resolved) ReadType(YMap map, string path, TaskKind[] kinds, string what)
    {
        var typeNode = map.Get("type");
        var type = typeNode is null ? null : ReadString(typeNode, Join(path, "type"));
        if (type is null)
        {
            if (typeNode is null || typeNode is YScalar)
            {
                Error($"Invalid type: null (the {what} has no 'type' property)", typeNode?.Position ?? map.Position, Join(path, "type"));
            }

            return ("", null);
        }

        var resolved = _registry.ResolveInternal(type);
        if (resolved is null)
        {
            var nearest = _registry.NearestKnown(type, kinds);
            Error(nearest is null ? $"Invalid type: {type}" : $"Invalid type: {type} (did you mean {nearest}?)", typeNode!.Position, Join(path, "type"));
            return (type, null);
        }

        if (Array.IndexOf(kinds, resolved.Descriptor.Kind) < 0)
        {
            Error($"Invalid type: {type} is a {KindName(resolved.Descriptor.Kind)}, it cannot be used as a {what}", typeNode!.Position, Join(path, "type"));
            return (type, null);
        }

        return (type, resolved);
    }

    private static string KindName(TaskKind kind) => kind switch
    {
        TaskKind.Runnable or TaskKind.Flowable or TaskKind.Executable => "task",
        TaskKind.Trigger => "trigger",
        TaskKind.Condition => "condition",
        TaskKind.TaskRunner => "task runner",
        _ => "plugin",
    };

    private static readonly string[] LogLevels = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"];

    private TaskDefinition? ReadTask(YNode node, string path)
    {
        if (ExpectMap(node, path, "task") is not { } map)
        {
            return null;
        }

        var (type, resolved) = ReadType(map, path, TaskKinds, "task");
        var flowable = resolved is null || resolved.Descriptor.Kind == TaskKind.Flowable;
        string? id = null, description = null, timeout = null, runIf = null, logLevel = null, workerGroup = null;
        RetryDefinition? retry = null;
        bool allowFailure = false, allowWarning = false, disabled = false, logToFile = false;
        ImmutableArray<TaskDefinition> errors = [], @finally = [];
        var properties = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        var positions = new Dictionary<string, SourcePosition>(map.Entries.Count, StringComparer.Ordinal);

        foreach (var (key, value) in map.Entries)
        {
            var k = key.Text;
            var p = Join(path, k);
            positions[k] = value.Position;
            switch (k)
            {
                case "type": break;
                case "id": id = ReadString(value, p); break;
                case "description": description = ReadString(value, p); break;
                case "retry": retry = ReadRetry(value, p); break;
                case "timeout":
                    timeout = ReadString(value, p);
                    if (timeout is not null && !IsExpression(timeout) && !IsoDuration.TryParse(timeout, out _))
                    {
                        Error(InvalidDuration(k, timeout), value.Position, p);
                    }

                    break;
                case "allowFailure": allowFailure = ReadBool(value, p) ?? false; break;
                case "allowWarning": allowWarning = ReadBool(value, p) ?? false; break;
                case "runIf":
                    runIf = ReadString(value, p);
                    break;
                case "disabled": disabled = ReadBool(value, p) ?? false; break;
                case "logLevel": logLevel = ReadEnum(value, p, LogLevels); break;
                case "logToFile": logToFile = ReadBool(value, p) ?? false; break;
                case "workerGroup": workerGroup = ReadWorkerGroup(value, p); break;
                case "errors" when flowable: errors = ReadTaskList(value, p); break;
                case "finally" when flowable: @finally = ReadTaskList(value, p); break;
                default:
                    ReadTypedProperty(resolved, key, value, p, properties, positions);
                    break;
            }
        }

        if (id is null && map.Get("id") is null)
        {
            Error("Missing required property 'id'", map.Position, Join(path, "id"));
        }

        if (resolved is not null)
        {
            CheckRequired(resolved.Required, map, path, properties);
        }

        return new TaskDefinition
        {
            Id = id ?? "",
            Type = type,
            CanonicalType = resolved?.Descriptor.Name ?? type,
            Description = description,
            Retry = retry,
            Timeout = timeout,
            AllowFailure = allowFailure,
            AllowWarning = allowWarning,
            RunIf = runIf,
            Disabled = disabled,
            LogLevel = logLevel,
            LogToFile = logToFile,
            WorkerGroup = workerGroup,
            Errors = errors,
            Finally = @finally,
            Properties = properties,
            Position = map.Position,
            PropertyPositions = positions,
        };
    }

    private void CheckRequired(ImmutableArray<PropertyDescriptor> required, YMap map, string path, OrderedDictionary<string, object?> properties)
    {
        foreach (var descriptor in required)
        {
            var node = map.Get(descriptor.Name);
            var p = Join(path, descriptor.Name);
            if (descriptor.HoldsTasks)
            {
                if (node is null || IsEmptyTasks(properties.GetValueOrDefault(descriptor.Name)))
                {
                    Error("must not be empty", node?.Position ?? map.Position, p);
                }
            }
            else if (node is null || (node is YScalar s && s.IsPlain && ScalarResolver.Resolve(s) is null))
            {
                Error($"Missing required property '{descriptor.Name}'", node?.Position ?? map.Position, p);
            }
        }
    }

    private static bool IsEmptyTasks(object? value) => value switch
    {
        ImmutableArray<TaskDefinition> a => a.IsDefaultOrEmpty,
        ImmutableArray<DagTaskDefinition> d => d.IsDefaultOrEmpty,
        IReadOnlyDictionary<string, ImmutableArray<TaskDefinition>> m => m.Count == 0,
        _ => true,
    };

    private string? ReadWorkerGroup(YNode node, string path)
    {
        if (node is YMap map)
        {
            string? key = null;
            foreach (var (k, v) in map.Entries)
            {
                switch (k.Text)
                {
                    case "key": key = ReadString(v, Join(path, "key")); break;
                    case "fallback": ReadEnum(v, Join(path, "fallback"), ["FAIL", "WAIT", "CANCEL"]); break;
                    default: Error(Unrecognized(k.Text, "io.kestra.core.models.tasks.WorkerGroup", ["key", "fallback"]), k.Position, Join(path, k.Text)); break;
                }
            }

            return key;
        }

        return ReadString(node, path);
    }

    /// <summary>Reads one property per its descriptor: task-holding properties are parsed, others checked and converted.</summary>
    /// <summary>
    /// A type-specific property of a task or trigger: read per its descriptor, kept as written for unknown types or
    /// types that accept any property, or reported as Kestra's "Unrecognized field" otherwise.
    /// </summary>
    private void ReadTypedProperty(ResolvedType? resolved, YScalar key, YNode value, string path, OrderedDictionary<string, object?> properties, Dictionary<string, SourcePosition> positions)
    {
        var k = key.Text;
        if (resolved is null)
        {
            properties[k] = ToValue(value);
        }
        else if (resolved.Properties.TryGetValue(k, out var descriptor))
        {
            properties[k] = ReadProperty(descriptor, value, path, positions, k);
        }
        else if (resolved.Descriptor.AllowUnknownProperties || !_options.RejectUnknownProperties)
        {
            properties[k] = ToValue(value);
        }
        else
        {
            Error(resolved.UnrecognizedField(k), key.Position, path);
        }
    }

    private object? ReadProperty(PropertyDescriptor descriptor, YNode node, string path, Dictionary<string, SourcePosition> positions, string relative)
    {
        var kind = descriptor.Kind;
        if ((kind & PropertyKind.Tasks) != 0)
        {
            return ReadTaskList(node, path);
        }

        if ((kind & PropertyKind.TaskMap) != 0)
        {
            var cases = new OrderedDictionary<string, ImmutableArray<TaskDefinition>>(StringComparer.Ordinal);
            switch (node)
            {
                case YMap map:
                    foreach (var (k, v) in map.Entries)
                    {
                        positions[relative + "." + k.Text] = v.Position;
                        cases[k.Text] = ReadTaskList(v, Join(path, k.Text));
                    }

                    break;
                case YScalar s when ScalarResolver.Resolve(s) is null:
                    break;
                default:
                    Error($"Invalid value for '{descriptor.Name}': expected a map of task lists, got {Describe(node)}", node.Position, path);
                    break;
            }

            return cases;
        }

        if ((kind & PropertyKind.DagTasks) != 0)
        {
            return ReadDagTasks(node, path, positions, relative);
        }

        if ((kind & PropertyKind.Conditions) != 0 && node is YSeq or YMap)
        {
            ReadConditions(node, path);
            return ToValue(node);
        }

        if ((kind & PropertyKind.Plugin) != 0 && node is YMap pluginMap)
        {
            ReadPlugin(pluginMap, path, RunnerKinds, "task runner");
            return ToValue(node);
        }

        CheckValue(descriptor, node, path);
        return ToValue(node);
    }

    private void CheckValue(PropertyDescriptor descriptor, YNode node, string path)
    {
        var kind = descriptor.Kind;
        if ((kind & PropertyKind.Any) != 0)
        {
            return;
        }

        switch (node)
        {
            case YScalar s:
            {
                var value = ScalarResolver.Resolve(s);
                if (value is null || (value is string str0 && IsExpression(str0)))
                {
                    return;
                }

                if (!descriptor.AllowedValues.IsDefaultOrEmpty)
                {
                    if (descriptor.AllowedValues.Contains(s.Text))
                    {
                        return;
                    }

                    Error($"Invalid value '{s.Text}' for '{descriptor.Name}': expected one of {string.Join(", ", descriptor.AllowedValues)}", s.Position, path);
                    return;
                }

                if ((kind & PropertyKind.String) != 0)
                {
                    return;
                }

                if ((kind & PropertyKind.Duration) != 0)
                {
                    if (value is long or double || IsoDuration.TryParse(s.Text, out _))
                    {
                        return;
                    }

                    Error(InvalidDuration(descriptor.Name, s.Text), s.Position, path);
                    return;
                }

                if ((kind & PropertyKind.Cron) != 0 && value is string)
                {
                    return; // checked by the validator (it depends on withSeconds)
                }

                if ((kind & PropertyKind.Integer) != 0 && (value is long || (value is double d && Math.Floor(d) == d) ||
                        (value is string si && long.TryParse(si, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))))
                {
                    return;
                }

                if ((kind & PropertyKind.Number) != 0 && (value is long or double ||
                        (value is string sn && double.TryParse(sn, NumberStyles.Float, CultureInfo.InvariantCulture, out _))))
                {
                    return;
                }

                if ((kind & PropertyKind.Boolean) != 0 && (value is bool || (value is string sb && bool.TryParse(sb, out _))))
                {
                    return;
                }

                break;
            }
            case YSeq when (kind & PropertyKind.List) != 0:
                return;
            case YMap when (kind & PropertyKind.Map) != 0:
                return;
            case YMap map when (kind & PropertyKind.Object) != 0:
                CheckObject(descriptor, map, path);
                return;
        }

        Error($"Invalid value for '{descriptor.Name}': expected {DescribeKind(kind)}, got {Describe(node)}", node.Position, path);
    }

    private void CheckObject(PropertyDescriptor descriptor, YMap map, string path)
    {
        if (descriptor.Properties.IsDefaultOrEmpty)
        {
            return;
        }

        foreach (var (k, v) in map.Entries)
        {
            var nested = FindProperty(descriptor.Properties, k.Text);
            if (nested is null)
            {
                Error(Unrecognized(k.Text, descriptor.Name, [.. descriptor.Properties.Select(x => x.Name)]), k.Position, Join(path, k.Text));
                continue;
            }

            CheckValue(nested, v, Join(path, k.Text));
        }

        foreach (var nested in descriptor.Properties)
        {
            if (nested.Required && map.Get(nested.Name) is null)
            {
                Error($"Missing required property '{nested.Name}'", map.Position, Join(path, nested.Name));
            }
        }
    }

    private static PropertyDescriptor? FindProperty(ImmutableArray<PropertyDescriptor> properties, string name)
    {
        foreach (var p in properties)
        {
            if (p.Name == name)
            {
                return p;
            }
        }

        return null;
    }

    private static string DescribeKind(PropertyKind kind)
    {
        var parts = new List<string>(3);
        if ((kind & PropertyKind.String) != 0) parts.Add("a string");
        if ((kind & PropertyKind.Integer) != 0) parts.Add("an integer");
        if ((kind & PropertyKind.Number) != 0) parts.Add("a number");
        if ((kind & PropertyKind.Boolean) != 0) parts.Add("a boolean");
        if ((kind & PropertyKind.Duration) != 0) parts.Add("an ISO-8601 duration");
        if ((kind & PropertyKind.Cron) != 0) parts.Add("a cron expression");
        if ((kind & PropertyKind.List) != 0) parts.Add("a list");
        if ((kind & (PropertyKind.Map | PropertyKind.Object | PropertyKind.Plugin)) != 0) parts.Add("a map");
        if ((kind & PropertyKind.Conditions) != 0) parts.Add("a list of conditions");
        return parts.Count == 0 ? "a value" : string.Join(" or ", parts);
    }

    private static readonly string[] DagTaskProperties = ["task", "dependsOn"];

    private ImmutableArray<DagTaskDefinition> ReadDagTasks(YNode node, string path, Dictionary<string, SourcePosition> positions, string relative)
    {
        if (node is YScalar s0 && ScalarResolver.Resolve(s0) is null)
        {
            return [];
        }

        if (node is not YSeq seq)
        {
            Error($"Invalid value for '{LastSegment(path)}': expected a list of {{task, dependsOn}}, got {Describe(node)}", node.Position, path);
            return [];
        }

        var builder = ImmutableArray.CreateBuilder<DagTaskDefinition>(seq.Items.Count);
        for (int i = 0; i < seq.Items.Count; i++)
        {
            var itemPath = $"{path}[{i}]";
            var itemRelative = $"{relative}[{i}]";
            if (ExpectMap(seq.Items[i], itemPath, "Dag task") is not { } map)
            {
                continue;
            }

            positions[itemRelative] = map.Position;
            TaskDefinition? task = null;
            var dependsOn = ImmutableArray.CreateBuilder<string>();
            foreach (var (k, v) in map.Entries)
            {
                var p = Join(itemPath, k.Text);
                switch (k.Text)
                {
                    case "task":
                        task = ReadTask(v, p);
                        break;
                    case "dependsOn":
                        if (v is YSeq deps)
                        {
                            for (int j = 0; j < deps.Items.Count; j++)
                            {
                                if (ReadString(deps.Items[j], $"{p}[{j}]") is { } dep)
                                {
                                    positions[$"{itemRelative}.dependsOn[{dependsOn.Count}]"] = deps.Items[j].Position;
                                    dependsOn.Add(dep);
                                }
                            }
                        }
                        else if (!(v is YScalar sv && ScalarResolver.Resolve(sv) is null))
                        {
                            Error($"Invalid value for 'dependsOn': expected a list of task ids, got {Describe(v)}", v.Position, p);
                        }

                        break;
                    default:
                        Error(Unrecognized(k.Text, "io.kestra.plugin.core.flow.Dag$DagTask", DagTaskProperties), k.Position, p);
                        break;
                }
            }

            if (map.Get("task") is null)
            {
                Error("Missing required property 'task'", map.Position, Join(itemPath, "task"));
            }

            if (task is not null)
            {
                builder.Add(new DagTaskDefinition(task, dependsOn.ToImmutable()));
            }
        }

        return builder.DrainToImmutable();
    }

    // ------------------------------------------------------------------ retry

    private static readonly string[] RetryBehaviors = ["RETRY_FAILED_TASK", "CREATE_NEW_EXECUTION"];
    private static readonly string[] RetryCommon = ["type", "maxAttempt", "maxAttempts", "maxDuration", "warningOnRetry", "behavior"];
    private static readonly string[] RetryConstant = [.. RetryCommon, "interval"];
    private static readonly string[] RetryExponential = [.. RetryCommon, "interval", "maxInterval", "delayFactor"];
    private static readonly string[] RetryRandom = [.. RetryCommon, "minInterval", "maxInterval"];

    private RetryDefinition? ReadRetry(YNode node, string path)
    {
        if (node is YScalar s0 && ScalarResolver.Resolve(s0) is null)
        {
            return null;
        }

        if (ExpectMap(node, path, "retry") is not { } map)
        {
            return null;
        }

        var typeNode = map.Get("type");
        var typeText = typeNode is null ? null : ReadString(typeNode, Join(path, "type"));
        RetryKind? kind = typeText switch
        {
            "constant" => RetryKind.Constant,
            "exponential" => RetryKind.Exponential,
            "random" => RetryKind.Random,
            _ => null,
        };
        if (kind is null)
        {
            Error($"Invalid type: {typeText ?? "null"} (retry type must be one of constant, exponential, random)", typeNode?.Position ?? map.Position, Join(path, "type"));
            return null;
        }

        var (allowed, className) = kind switch
        {
            RetryKind.Constant => (RetryConstant, "io.kestra.core.models.tasks.retrys.Constant"),
            RetryKind.Exponential => (RetryExponential, "io.kestra.core.models.tasks.retrys.Exponential"),
            _ => (RetryRandom, "io.kestra.core.models.tasks.retrys.Random"),
        };

        int? maxAttempt = null;
        TimeSpan? maxDuration = null, interval = null, minInterval = null, maxInterval = null;
        double? delayFactor = null;
        bool warningOnRetry = false;
        var behavior = RetryBehavior.RetryFailedTask;
        foreach (var (k, v) in map.Entries)
        {
            var p = Join(path, k.Text);
            if (Array.IndexOf(allowed, k.Text) < 0)
            {
                Error(Unrecognized(k.Text, className, allowed), k.Position, p);
                continue;
            }

            switch (k.Text)
            {
                case "maxAttempt" or "maxAttempts":
                    maxAttempt = ReadInt(v, p);
                    if (maxAttempt is < 1)
                    {
                        Error("must be greater than or equal to 1", v.Position, p);
                    }

                    break;
                case "maxDuration": maxDuration = ReadDuration(v, p); break;
                case "interval": interval = ReadDuration(v, p); break;
                case "minInterval": minInterval = ReadDuration(v, p); break;
                case "maxInterval": maxInterval = ReadDuration(v, p); break;
                case "delayFactor":
                    if (v is YScalar ds && ScalarResolver.Resolve(ds) is long or double)
                    {
                        delayFactor = Convert.ToDouble(ScalarResolver.Resolve(ds), CultureInfo.InvariantCulture);
                    }
                    else
                    {
                        Error($"Invalid value for 'delayFactor': expected a number, got {Describe(v)}", v.Position, p);
                    }

                    break;
                case "warningOnRetry": warningOnRetry = ReadBool(v, p) ?? false; break;
                case "behavior":
                    behavior = ReadEnum(v, p, RetryBehaviors) == "CREATE_NEW_EXECUTION" ? RetryBehavior.CreateNewExecution : RetryBehavior.RetryFailedTask;
                    break;
            }
        }

        string[] required = kind switch
        {
            RetryKind.Constant => ["interval"],
            RetryKind.Exponential => ["interval", "maxInterval"],
            _ => ["minInterval", "maxInterval"],
        };
        foreach (var r in required)
        {
            if (map.Get(r) is null)
            {
                Error($"Missing required property '{r}'", map.Position, Join(path, r));
            }
        }

        return new RetryDefinition
        {
            Kind = kind.Value,
            MaxAttempt = maxAttempt,
            MaxDuration = maxDuration,
            Interval = interval,
            MinInterval = minInterval,
            MaxInterval = maxInterval,
            DelayFactor = delayFactor,
            WarningOnRetry = warningOnRetry,
            Behavior = behavior,
        };
    }

    // ------------------------------------------------------------------ triggers, conditions, plugins

    private TriggerDefinition? ReadTrigger(YNode node, string path)
    {
        if (ExpectMap(node, path, "trigger") is not { } map)
        {
            return null;
        }

        var (type, resolved) = ReadType(map, path, TriggerKinds, "trigger");
        string? id = null, description = null;
        bool disabled = false;
        ImmutableArray<ConditionDefinition> conditions = [];
        var properties = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        var positions = new Dictionary<string, SourcePosition>(StringComparer.Ordinal);
        foreach (var (key, value) in map.Entries)
        {
            var k = key.Text;
            var p = Join(path, k);
            positions[k] = value.Position;
            switch (k)
            {
                case "type": break;
                case "id": id = ReadString(value, p); break;
                case "description": description = ReadString(value, p); break;
                case "disabled": disabled = ReadBool(value, p) ?? false; break;
                case "conditions": conditions = ReadConditions(value, p); break;
                default:
                    ReadTypedProperty(resolved, key, value, p, properties, positions);
                    break;
            }
        }

        if (map.Get("id") is null)
        {
            Error("Missing required property 'id'", map.Position, Join(path, "id"));
        }

        if (resolved is not null)
        {
            CheckRequired(resolved.Required, map, path, properties);
        }

        return new TriggerDefinition
        {
            Id = id ?? "",
            Type = type,
            CanonicalType = resolved?.Descriptor.Name ?? type,
            Description = description,
            Disabled = disabled,
            Conditions = conditions,
            Properties = properties,
            Position = map.Position,
            PropertyPositions = positions,
        };
    }

    /// <summary>A list of conditions, or a map of named conditions (MultipleCondition).</summary>
    private ImmutableArray<ConditionDefinition> ReadConditions(YNode node, string path)
    {
        switch (node)
        {
            case YSeq:
                return ReadList(node, path, ReadCondition);
            case YMap map:
                var builder = ImmutableArray.CreateBuilder<ConditionDefinition>(map.Entries.Count);
                foreach (var (k, v) in map.Entries)
                {
                    if (ReadCondition(v, Join(path, k.Text)) is { } c)
                    {
                        builder.Add(c);
                    }
                }

                return builder.DrainToImmutable();
            case YScalar s when ScalarResolver.Resolve(s) is null:
                return [];
            default:
                Error($"Invalid value for 'conditions': expected a list of conditions, got {Describe(node)}", node.Position, path);
                return [];
        }
    }

    private ConditionDefinition? ReadCondition(YNode node, string path)
    {
        if (ExpectMap(node, path, "condition") is not { } map)
        {
            return null;
        }

        var (type, resolved, properties) = ReadPlugin(map, path, ConditionKinds, "condition");
        return new ConditionDefinition
        {
            Type = type,
            CanonicalType = resolved?.Descriptor.Name ?? type,
            Properties = properties,
            Position = map.Position,
        };
    }

    /// <summary>Reads a typed plugin object whose properties are all described by its descriptor.</summary>
    private (string Type, ResolvedType? Resolved, OrderedDictionary<string, object?> Properties) ReadPlugin(YMap map, string path, TaskKind[] kinds, string what)
    {
        var (type, resolved) = ReadType(map, path, kinds, what);
        var properties = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        var positions = new Dictionary<string, SourcePosition>(StringComparer.Ordinal);
        foreach (var (key, value) in map.Entries)
        {
            var k = key.Text;
            if (k == "type")
            {
                continue;
            }

            var p = Join(path, k);
            if (resolved is null)
            {
                properties[k] = ToValue(value);
            }
            else if (resolved.Properties.TryGetValue(k, out var descriptor))
            {
                properties[k] = ReadProperty(descriptor, value, p, positions, k);
            }
            else if (resolved.Descriptor.AllowUnknownProperties || !_options.RejectUnknownProperties)
            {
                properties[k] = ToValue(value);
            }
            else
            {
                Error(resolved.UnrecognizedField(k), key.Position, p);
            }
        }

        if (resolved is not null)
        {
            CheckRequired(resolved.Required, map, path, properties);
        }

        return (type, resolved, properties);
    }
}

using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Cronos;
using Windhover.Flows.Model;
using Windhover.Flows.TaskTypes;

namespace Windhover.Flows.Validation;

/// <summary>
/// Semantic checks of a flow model (Kestra's bean validation): ids and namespaces, duplicate task/input ids,
/// empty task lists, Dag dependencies, Switch and WorkingDirectory content, cron expressions, input definitions.
/// Every problem is reported, each at the position recorded in the model.
/// </summary>
public sealed partial class FlowValidator
{
    public const string FlowIdPattern = "^[a-zA-Z0-9][a-zA-Z0-9._-]*";
    public const string NamespacePattern = "^[a-z0-9][a-z0-9._-]*";
    public const string TaskIdPattern = "^[a-zA-Z0-9][a-zA-Z0-9_-]*";
    public const string InputIdPattern = "^[a-zA-Z0-9][.a-zA-Z0-9_-]*";

    [GeneratedRegex(FlowIdPattern + "$", RegexOptions.CultureInvariant)]
    private static partial Regex FlowIdRegex();

    [GeneratedRegex(NamespacePattern + "$", RegexOptions.CultureInvariant)]
    private static partial Regex NamespaceRegex();

    [GeneratedRegex(TaskIdPattern + "$", RegexOptions.CultureInvariant)]
    private static partial Regex TaskIdRegex();

    [GeneratedRegex(InputIdPattern + "$", RegexOptions.CultureInvariant)]
    private static partial Regex InputIdRegex();

    [GeneratedRegex(@"^[^@\s]+@[^@\s]+$", RegexOptions.CultureInvariant)]
    private static partial Regex EmailRegex();

    private const string Core = "io.kestra.plugin.core.";

    private static readonly ConcurrentDictionary<string, Regex?> RegexCache = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<(string, bool), string?> CronCache = new();

    private readonly TaskTypeRegistry _registry;
    private readonly FlowValidationOptions _options;

    public FlowValidator(TaskTypeRegistry registry, FlowValidationOptions? options = null)
    {
        _registry = registry;
        _options = options ?? FlowValidationOptions.Default;
    }

    /// <summary>Validates <paramref name="flow"/>; <paramref name="path"/> is copied into each problem.</summary>
    public ImmutableArray<FlowProblem> Validate(Flow flow, string path = "")
    {
        var problems = new List<FlowProblem>();
        Validate(flow, path, problems);
        return [.. problems];
    }

    internal void Validate(Flow flow, string path, List<FlowProblem> problems)
    {
        var ctx = new Context(path, problems);
        var pos = flow.PropertyPositions;
        SourcePosition At(string key) => pos.TryGetValue(key, out var p) ? p : flow.Position;

        if (!pos.ContainsKey("id"))
        {
            ctx.Error("must not be null", flow.Position, "id");
        }
        else
        {
            CheckId(ctx, flow.Id, FlowIdRegex(), FlowIdPattern, 100, At("id"), "id");
        }

        if (!pos.ContainsKey("namespace"))
        {
            ctx.Error("must not be null", flow.Position, "namespace");
        }
        else
        {
            CheckId(ctx, flow.Namespace, NamespaceRegex(), NamespacePattern, 150, At("namespace"), "namespace");
        }

        if (flow.Tasks.IsDefaultOrEmpty)
        {
            ctx.Error("must not be empty", At("tasks"), "tasks");
        }

        // listeners: tasks must not be empty
        for (int i = 0; i < flow.Listeners.Length; i++)
        {
            var listener = flow.Listeners[i];
            if (listener.Tasks.IsDefaultOrEmpty)
            {
                ctx.Error("must not be empty", listener.PropertyPositions.TryGetValue("tasks", out var lp) ? lp : listener.Position, $"listeners[{i}].tasks");
            }
        }

        // every task of the tree: ids and per-type checks
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var reported = new HashSet<string>(StringComparer.Ordinal);
        void Visit(ImmutableArray<TaskDefinition> tasks, string listPath)
        {
            for (int i = 0; i < tasks.Length; i++)
            {
                VisitTask(tasks[i], $"{listPath}[{i}]");
            }
        }

        void VisitTask(TaskDefinition task, string taskPath)
        {
            if (task.Id.Length > 0)
            {
                if (!TaskIdRegex().IsMatch(task.Id))
                {
                    ctx.Error($"must match \"{TaskIdPattern}\"", task.PropertyPositions.GetValueOrDefault("id", task.Position), taskPath + ".id");
                }

                if (seen.TryGetValue(task.Id, out _) && reported.Add(task.Id))
                {
                    ctx.Error($"Duplicate task id with name [{task.Id}]", task.PropertyPositions.GetValueOrDefault("id", task.Position), taskPath + ".id");
                }

                seen[task.Id] = seen.GetValueOrDefault(task.Id) + 1;
            }

            CheckTask(ctx, task, taskPath);
            foreach (var (name, value) in task.Properties)
            {
                switch (value)
                {
                    case ImmutableArray<TaskDefinition> list:
                        Visit(list, taskPath + "." + name);
                        break;
                    case ImmutableArray<DagTaskDefinition> dag:
                        for (int i = 0; i < dag.Length; i++)
                        {
                            VisitTask(dag[i].Task, $"{taskPath}.{name}[{i}].task");
                        }

                        break;
                    case IReadOnlyDictionary<string, ImmutableArray<TaskDefinition>> cases:
                        foreach (var (caseKey, caseTasks) in cases)
                        {
                            Visit(caseTasks, $"{taskPath}.{name}.{caseKey}");
                        }

                        break;
                }
            }

            Visit(task.Errors, taskPath + ".errors");
            Visit(task.Finally, taskPath + ".finally");
        }

        Visit(flow.Tasks, "tasks");
        Visit(flow.Errors, "errors");
        Visit(flow.Finally, "finally");
        Visit(flow.AfterExecution, "afterExecution");
        for (int i = 0; i < flow.Listeners.Length; i++)
        {
            Visit(flow.Listeners[i].Tasks, $"listeners[{i}].tasks");
        }

        // triggers
        var triggerIds = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < flow.Triggers.Length; i++)
        {
            var trigger = flow.Triggers[i];
            var tp = $"triggers[{i}]";
            var idPos = trigger.PropertyPositions.GetValueOrDefault("id", trigger.Position);
            if (trigger.Id.Length > 0)
            {
                if (!TaskIdRegex().IsMatch(trigger.Id))
                {
                    ctx.Error($"must match \"{TaskIdPattern}\"", idPos, tp + ".id");
                }

                if (!triggerIds.Add(trigger.Id))
                {
                    ctx.Error($"Duplicate trigger id with name [{trigger.Id}]", idPos, tp + ".id");
                }
            }

            CheckTrigger(ctx, trigger, tp);
        }

        ValidateInputs(ctx, flow);

        var outputIds = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < flow.Outputs.Length; i++)
        {
            var output = flow.Outputs[i];
            if (output.Id.Length > 0 && !outputIds.Add(output.Id))
            {
                ctx.Error($"Duplicate output with name [{output.Id}]", output.Position, $"outputs[{i}].id");
            }
        }
    }

    private static void CheckId(Context ctx, string value, Regex regex, string pattern, int maxLength, SourcePosition position, string propertyPath)
    {
        if (value.Length == 0 || value.Length > maxLength)
        {
            ctx.Error($"size must be between 1 and {maxLength}", position, propertyPath);
        }

        if (!regex.IsMatch(value))
        {
            ctx.Error($"must match \"{pattern}\"", position, propertyPath);
        }
    }

    // ------------------------------------------------------------------ per task type

    private void CheckTask(Context ctx, TaskDefinition task, string taskPath)
    {
        switch (task.CanonicalType)
        {
            case Core + "flow.Dag":
                CheckDag(ctx, task, taskPath);
                break;
            case Core + "flow.Switch":
                var cases = task.Properties.GetValueOrDefault("cases") as IReadOnlyDictionary<string, ImmutableArray<TaskDefinition>>;
                var anyCase = cases is not null && cases.Values.Any(c => !c.IsDefaultOrEmpty);
                if (!anyCase && task.TaskList("defaults").IsDefaultOrEmpty)
                {
                    ctx.Error($"{task.Id}: No task defined, neither cases or default have any tasks", task.Position, taskPath);
                }

                break;
            case Core + "flow.WorkingDirectory":
                var tasks = task.TaskList("tasks");
                if (tasks.IsDefaultOrEmpty)
                {
                    ctx.Error($"{task.Id}: The 'tasks' property cannot be empty", task.Position, taskPath + ".tasks");
                }
                else
                {
                    foreach (var child in tasks)
                    {
                        if (_registry.Resolve(child.CanonicalType) is { Kind: not TaskKind.Runnable })
                        {
                            ctx.Error($"{task.Id}: Only runnable tasks are allowed as children of a WorkingDirectory task", child.Position, taskPath + ".tasks");
                        }
                    }
                }

                break;
        }
    }

    private static void CheckDag(Context ctx, TaskDefinition task, string taskPath)
    {
        if (task.Properties.GetValueOrDefault("tasks") is not ImmutableArray<DagTaskDefinition> dag || dag.IsDefaultOrEmpty)
        {
            return;
        }

        var ids = new HashSet<string>(dag.Select(d => d.Task.Id), StringComparer.Ordinal);
        var missing = new List<string>();
        SourcePosition? firstMissing = null;
        for (int i = 0; i < dag.Length; i++)
        {
            for (int j = 0; j < dag[i].DependsOn.Length; j++)
            {
                var dep = dag[i].DependsOn[j];
                if (!ids.Contains(dep))
                {
                    if (!missing.Contains(dep))
                    {
                        missing.Add(dep);
                    }

                    firstMissing ??= task.PropertyPositions.TryGetValue($"tasks[{i}].dependsOn[{j}]", out var p) ? p : dag[i].Task.Position;
                }
            }
        }

        if (missing.Count > 0)
        {
            ctx.Error($"{task.Id}: Not existing task id in dependency: {string.Join(", ", missing)}", firstMissing ?? task.Position, taskPath + ".tasks");
        }

        // tasks on a dependency cycle (Tarjan's strongly connected components)
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var low = new Dictionary<string, int>(StringComparer.Ordinal);
        var onStack = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>();
        var deps = new Dictionary<string, ImmutableArray<string>>(StringComparer.Ordinal);
        foreach (var d in dag)
        {
            deps.TryAdd(d.Task.Id, d.DependsOn);
        }

        var cyclic = new HashSet<string>(StringComparer.Ordinal);
        int counter = 0;
        void Strong(string v)
        {
            index[v] = low[v] = counter++;
            stack.Push(v);
            onStack.Add(v);
            foreach (var w in deps[v])
            {
                if (!deps.ContainsKey(w))
                {
                    continue;
                }

                if (!index.ContainsKey(w))
                {
                    Strong(w);
                    low[v] = Math.Min(low[v], low[w]);
                }
                else if (onStack.Contains(w))
                {
                    low[v] = Math.Min(low[v], index[w]);
                }
            }

            if (low[v] == index[v])
            {
                var component = new List<string>();
                string w;
                do
                {
                    w = stack.Pop();
                    onStack.Remove(w);
                    component.Add(w);
                }
                while (w != v);

                if (component.Count > 1 || deps[v].Contains(v))
                {
                    cyclic.UnionWith(component);
                }
            }
        }

        foreach (var id in deps.Keys)
        {
            if (!index.ContainsKey(id))
            {
                Strong(id);
            }
        }

        if (cyclic.Count > 0)
        {
            var ordered = dag.Select(d => d.Task.Id).Where(cyclic.Contains).Distinct();
            var first = dag.First(d => cyclic.Contains(d.Task.Id));
            ctx.Error($"{task.Id}: Cyclic dependency detected: {string.Join(", ", ordered)}", first.Task.Position, taskPath + ".tasks");
        }
    }

    private static void CheckTrigger(Context ctx, TriggerDefinition trigger, string triggerPath)
    {
        if (trigger.CanonicalType != Core + "trigger.Schedule" || trigger.Properties.GetValueOrDefault("cron") is not string cron)
        {
            return;
        }

        var withSeconds = trigger.Properties.GetValueOrDefault("withSeconds") is true or "true";
        if (CronError(cron, withSeconds) is { } error)
        {
            ctx.Error(error, trigger.PropertyPositions.GetValueOrDefault("cron", trigger.Position), triggerPath + ".cron");
        }
    }

    /// <summary>Null when <paramref name="cron"/> is a valid cron expression (5 fields, or 6 with seconds), else the problem.</summary>
    public static string? CronError(string cron, bool withSeconds) =>
        CronCache.GetOrAdd((cron, withSeconds), static key =>
        {
            var (expression, seconds) = key;
            try
            {
                CronExpression.Parse(expression, seconds ? CronFormat.IncludeSeconds : CronFormat.Standard);
                return null;
            }
            catch (CronFormatException ex)
            {
                var fields = seconds ? "6 fields (withSeconds: true)" : "5 fields";
                return $"Invalid cron expression '{expression}': {ex.Message.TrimEnd('.')} (expected {fields})";
            }
        });

    // ------------------------------------------------------------------ inputs

    private static void ValidateInputs(Context ctx, Flow flow)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < flow.Inputs.Length; i++)
        {
            var input = flow.Inputs[i];
            var ip = $"inputs[{i}]";
            SourcePosition At(string key) => input.PropertyPositions.TryGetValue(key, out var p) ? p : input.Position;
            var idKey = input.PropertyPositions.ContainsKey("id") ? "id" : "name";
            if (input.Id.Length > 0)
            {
                if (!InputIdRegex().IsMatch(input.Id))
                {
                    ctx.Error($"must match \"{InputIdPattern}\"", At(idKey), ip + ".id");
                }

                if (!ids.Add(input.Id))
                {
                    ctx.Error($"Duplicate input with name [{input.Id}]", At(idKey), ip + ".id");
                }
            }

            if (input.Properties.GetValueOrDefault("type") is not string typeName || !Yaml.FlowReader.TryInputType(typeName, out _))
            {
                continue; // a missing or unknown type is reported by the parser
            }

            if (input.Validator is { } validator && CompileRegex(validator) is null)
            {
                ctx.Error($"{input.Id}: invalid pattern [{validator}]", At("validator"), ip + ".validator");
            }

            switch (input.Type)
            {
                case InputType.Array when input.ItemType is null && !input.Properties.ContainsKey("itemType"):
                    ctx.Error($"{input.Id}: `itemType` must not be null", input.Position, ip + ".itemType");
                    break;
                case InputType.Array when input.ItemType == InputType.Array:
                    ctx.Error($"{input.Id}: `itemType` cannot be `ARRAY`", At("itemType"), ip + ".itemType");
                    break;
                case InputType.Enum when input.Values.IsDefaultOrEmpty:
                    ctx.Error($"{input.Id}: `values` must not be empty", input.Position, ip + ".values");
                    break;
                case InputType.Select or InputType.Multiselect when input.Values.IsDefaultOrEmpty && !input.Properties.ContainsKey("expression"):
                    ctx.Error($"{input.Id}: one of `values` or `expression` is required", input.Position, ip + ".values");
                    break;
            }

            if (!input.HasDefaults || input.Defaults is null)
            {
                continue;
            }

            if (input.Type == InputType.File)
            {
                ctx.Error($"{input.Id}: no `defaults` can be set for inputs of type 'FILE'", At("defaults"), ip + ".defaults");
                continue;
            }

            if (DefaultsProblem(input, input.Type, input.Defaults) is { } problem)
            {
                ctx.Error($"{input.Id}: `defaults` {problem}", At("defaults"), ip + ".defaults");
            }
        }
    }

    private static bool IsExpression(object? value) =>
        value is string s && (s.Contains("{{", StringComparison.Ordinal) || s.Contains("{%", StringComparison.Ordinal));

    /// <summary>Why <paramref name="value"/> does not fit an input of type <paramref name="type"/>, or null when it fits.</summary>
    private static string? DefaultsProblem(InputDefinition input, InputType type, object? value)
    {
        if (IsExpression(value))
        {
            return null;
        }

        var text = value as string;
        switch (type)
        {
            case InputType.String or InputType.Secret:
                if (value is IReadOnlyList<object?> or IReadOnlyDictionary<string, object?>)
                {
                    return "must be a string";
                }

                if (input.Validator is { } v && CompileRegex(v) is { } regex && !regex.IsMatch(Convert.ToString(value, CultureInfo.InvariantCulture) ?? ""))
                {
                    return $"does not match the validator [{v}]";
                }

                return null;
            case InputType.Int:
                return value is long || (text is not null && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
                    ? null : "must be an integer";
            case InputType.Float:
                return value is long or double || (text is not null && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
                    ? null : "must be a number";
            case InputType.Boolean or InputType.Bool:
                return value is bool || (text is not null && bool.TryParse(text, out _)) ? null : "must be a boolean";
            case InputType.DateTime:
                return text is not null && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _)
                    ? null : "must be an ISO-8601 date-time";
            case InputType.Date:
                return text is not null && DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _)
                    ? null : "must be an ISO-8601 date (yyyy-MM-dd)";
            case InputType.Time:
                return text is not null && TimeOnly.TryParseExact(text, ["HH:mm", "HH:mm:ss", "HH:mm:ss.FFFFFFF"], CultureInfo.InvariantCulture, DateTimeStyles.None, out _)
                    ? null : "must be an ISO-8601 time (HH:mm:ss)";
            case InputType.Duration:
                return text is not null && IsoDuration.TryParse(text, out _) ? null : "must be an ISO-8601 duration";
            case InputType.Uri:
                return text is not null && Uri.TryCreate(text, UriKind.Absolute, out _) ? null : "must be an absolute URI";
            case InputType.Email:
                return text is not null && EmailRegex().IsMatch(text) ? null : "must be an email address";
            case InputType.Json:
                if (text is not null)
                {
                    try
                    {
                        using var _ = JsonDocument.Parse(text);
                        return null;
                    }
                    catch (JsonException)
                    {
                        return "must be valid JSON";
                    }
                }

                return null;
            case InputType.Enum or InputType.Select:
                return input.Values.IsDefaultOrEmpty || input.AllowCustomValue || (text is not null && input.Values.Contains(text)) || (value is not null && input.Values.Contains(Convert.ToString(value, CultureInfo.InvariantCulture)!))
                    ? null : $"must be one of {string.Join(", ", input.Values)}";
            case InputType.Multiselect:
                if (value is IReadOnlyList<object?> chosen)
                {
                    if (input.Values.IsDefaultOrEmpty || input.AllowCustomValue)
                    {
                        return null;
                    }

                    foreach (var c in chosen)
                    {
                        if (!input.Values.Contains(Convert.ToString(c, CultureInfo.InvariantCulture) ?? ""))
                        {
                            return $"must only hold values among {string.Join(", ", input.Values)}";
                        }
                    }

                    return null;
                }

                return text is not null ? null : "must be a list";
            case InputType.Array:
                if (value is IReadOnlyList<object?> items)
                {
                    if (input.ItemType is { } itemType and not InputType.Array)
                    {
                        foreach (var item in items)
                        {
                            if (DefaultsProblem(input with { Validator = null }, itemType, item) is { } p)
                            {
                                return "item " + p;
                            }
                        }
                    }

                    return null;
                }

                return text is not null && text.TrimStart().StartsWith('[') ? null : "must be a list";
            default:
                return null;
        }
    }

    private static Regex? CompileRegex(string pattern) =>
        RegexCache.Count > 1024 && !RegexCache.ContainsKey(pattern)
            ? TryCompile(pattern)
            : RegexCache.GetOrAdd(pattern, TryCompile);

    private static Regex? TryCompile(string pattern)
    {
        try
        {
            return new Regex("^(?:" + pattern + ")$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private sealed class Context(string path, List<FlowProblem> problems)
    {
        public void Error(string message, SourcePosition position, string? propertyPath) =>
            problems.Add(new FlowProblem(path, message, position, propertyPath));
    }
}

using Windhover.Engine.Executions;
using Windhover.Flows.Model;

namespace Windhover.Engine.Executor;

/// <summary>
/// The variables a task sees, as Kestra's RunVariables builds them: <c>flow</c>, <c>execution</c>, <c>task</c>,
/// <c>taskrun</c>, <c>parent</c>/<c>parents</c>, <c>inputs</c>, <c>outputs</c>, <c>labels</c>, <c>vars</c>,
/// <c>trigger</c>, <c>envs</c>, <c>globals</c>. The executor and the worker both use this so a task sees the same
/// values wherever it is rendered. Keys whose value would be null are left out (strict undefined in Pebble).
/// </summary>
public static class RunVariables
{
    /// <summary>
    /// Variables for <paramref name="task"/> running as <paramref name="taskRun"/> in <paramref name="execution"/>.
    /// <paramref name="inheritedValue"/> is the loop value of an enclosing WorkingDirectory run: its children run with
    /// the WorkingDirectory's context in Kestra, so <c>taskrun.value</c> is that value although their own is null.
    /// </summary>
    public static IReadOnlyDictionary<string, object?> For(
        Flow flow,
        Execution execution,
        TaskRun? taskRun,
        TaskDefinition? task,
        IReadOnlyDictionary<string, object?>? envs = null,
        IReadOnlyDictionary<string, object?>? globals = null,
        string? inheritedValue = null)
    {
        var variables = ForExecution(flow, execution, envs, globals);
        if (task is not null)
        {
            variables["task"] = new Dictionary<string, object?> { ["id"] = task.Id, ["type"] = task.Type };
        }

        if (taskRun is not null)
        {
            var map = new Dictionary<string, object?>
            {
                ["id"] = taskRun.Id,
                ["startDate"] = taskRun.State.StartDate,
                ["attemptsCount"] = (long)taskRun.AttemptCount,
            };
            if (taskRun.ParentTaskRunId is not null)
            {
                map["parentId"] = taskRun.ParentTaskRunId;
            }

            if ((taskRun.Value ?? inheritedValue) is { } value)
            {
                map["value"] = value;
            }

            if (taskRun.Iteration is not null)
            {
                map["iteration"] = (long)taskRun.Iteration.Value;
            }

            if (taskRun.Items is not null)
            {
                map["items"] = taskRun.Items;
            }

            variables["taskrun"] = map;

            if (taskRun.ParentTaskRunId is not null)
            {
                var parents = Parents(execution, taskRun);
                variables["parents"] = parents;
                if (parents.Count > 0)
                {
                    variables["parent"] = parents[0];
                }
            }
        }

        return variables;
    }

    /// <summary>The execution-level variables (no task): what flow outputs and a parent's Subflow <c>outputs</c> see.</summary>
    public static Dictionary<string, object?> ForExecution(
        Flow flow,
        Execution execution,
        IReadOnlyDictionary<string, object?>? envs = null,
        IReadOnlyDictionary<string, object?>? globals = null)
    {
        var flowMap = new Dictionary<string, object?> { ["id"] = flow.Id, ["namespace"] = flow.Namespace, ["revision"] = (long)(flow.Revision ?? execution.FlowRevision) };
        if (execution.TenantId is not null)
        {
            flowMap["tenantId"] = execution.TenantId;
        }

        var executionMap = new Dictionary<string, object?>
        {
            ["id"] = execution.Id,
            ["startDate"] = execution.State.StartDate,
            ["originalId"] = execution.OriginalId ?? execution.Id,
            ["state"] = execution.State.Current.ToKestraName(),
        };
        if (execution.ParentId is not null)
        {
            executionMap["parentId"] = execution.ParentId;
        }

        var variables = new Dictionary<string, object?>
        {
            ["flow"] = flowMap,
            ["execution"] = executionMap,
            // Computed on first read: most templates never look at `outputs`, and building it walks every task run.
            ["outputs"] = new LazyOutputs(execution),
            ["labels"] = Labels(execution),
            ["envs"] = envs ?? new Dictionary<string, object?>(),
            ["globals"] = globals ?? new Dictionary<string, object?>(),
        };
        // Kestra only exposes `inputs` when the execution has some: a flow without inputs renders
        // `{{ inputs.x }}` as "Unable to find `inputs`".
        if (execution.Inputs is { Count: > 0 } || flow.Inputs.Length > 0)
        {
            variables["inputs"] = execution.Inputs ?? new Dictionary<string, object?>();
        }

        if (flow.Variables.Count > 0)
        {
            variables["vars"] = flow.Variables;
        }

        if (execution.Trigger?.Variables is { } trigger)
        {
            variables["trigger"] = trigger;
        }

        if (execution.Variables is { Count: > 0 } extra)
        {
            foreach (var (key, value) in extra)
            {
                variables.TryAdd(key, value);
            }
        }

        return variables;
    }

    public static Dictionary<string, object?> Labels(Execution execution)
    {
        // Kestra nests dotted keys (Label.toNestedMap) so `labels.system.correlationId` resolves.
        var labels = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var label in execution.Labels)
        {
            var parts = label.Key.Split('.');
            var node = labels;
            var nested = true;
            for (var i = 0; i < parts.Length - 1 && nested; i++)
            {
                if (!node.TryGetValue(parts[i], out var child))
                {
                    child = new Dictionary<string, object?>(StringComparer.Ordinal);
                    node[parts[i]] = child;
                }

                if (child is Dictionary<string, object?> map)
                {
                    node = map;
                }
                else
                {
                    nested = false;
                }
            }

            if (nested && node.TryGetValue(parts[^1], out var existing) && existing is Dictionary<string, object?>)
            {
                nested = false;
            }

            if (nested)
            {
                node[parts[^1]] = label.Value;
            }
            else
            {
                labels[label.Key] = label.Value;
            }
        }

        return labels;
    }

    /// <summary>
    /// Task outputs keyed by task id. A task run with a value (inside a loop), or whose parents have values, is nested
    /// under those values, outermost first: <c>outputs['inner']['s1']['a a'].value</c>, as Kestra's Execution.outputs().
    /// </summary>
    public static Dictionary<string, object?> Outputs(Execution execution)
    {
        ArgumentNullException.ThrowIfNull(execution);
        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        // Maps created here may be merged into in place; the task runs' own output maps are never mutated. This keeps
        // the whole build linear in the size of the outputs (a loop of n values used to copy its map n times).
        var owned = new HashSet<object>(ReferenceEqualityComparer.Instance);
        Dictionary<string, TaskRun>? byId = null;
        List<string>? values = null;
        foreach (var taskRun in execution.TaskRunList)
        {
            if (taskRun.Outputs is null)
            {
                continue;
            }

            values?.Clear();
            if (taskRun.ParentTaskRunId is not null)
            {
                byId ??= execution.TaskRunList.ToDictionary(t => t.Id, StringComparer.Ordinal);
                var parentId = taskRun.ParentTaskRunId;
                while (parentId is not null && byId.TryGetValue(parentId, out var parent))
                {
                    if (parent.Value is not null)
                    {
                        (values ??= []).Add(parent.Value);
                    }

                    parentId = parent.ParentTaskRunId;
                }

                values?.Reverse();
            }

            if (taskRun.Value is not null)
            {
                (values ??= []).Add(taskRun.Value);
            }

            // Kestra nests the outputs of a task run with values under those values, outermost first, and deep-merges
            // them with what the same task id already has.
            var node = result;
            var key = taskRun.TaskId;
            if (values is not null)
            {
                foreach (var value in values)
                {
                    node = OwnedMap(node, key, owned);
                    key = value;
                }
            }

            node[key] = node.TryGetValue(key, out var existing) && existing is IReadOnlyDictionary<string, object?> left
                ? MergeInto(left, taskRun.Outputs, owned)
                : taskRun.Outputs;
        }

        return result;
    }

    /// <summary><paramref name="node"/>[<paramref name="key"/>] as a map this build owns: an existing map is copied once, anything else replaced.</summary>
    private static Dictionary<string, object?> OwnedMap(Dictionary<string, object?> node, string key, HashSet<object> owned)
    {
        if (node.TryGetValue(key, out var existing) && existing is Dictionary<string, object?> mine && owned.Contains(mine))
        {
            return mine;
        }

        var map = existing is IReadOnlyDictionary<string, object?> theirs
            ? new Dictionary<string, object?>(theirs, StringComparer.Ordinal)
            : new Dictionary<string, object?>(StringComparer.Ordinal);
        owned.Add(map);
        node[key] = map;
        return map;
    }

    /// <summary>Deep merge of <paramref name="incoming"/> over <paramref name="target"/> (same result as <see cref="FlowIndex.Merge"/>).</summary>
    private static Dictionary<string, object?> MergeInto(IReadOnlyDictionary<string, object?> target, IReadOnlyDictionary<string, object?> incoming, HashSet<object> owned)
    {
        if (target is not Dictionary<string, object?> result || !owned.Contains(result))
        {
            result = new Dictionary<string, object?>(StringComparer.Ordinal);
            foreach (var (key, value) in target)
            {
                result[key] = value;
            }

            owned.Add(result);
        }

        foreach (var (key, value) in incoming)
        {
            result[key] = result.TryGetValue(key, out var existing)
                && existing is IReadOnlyDictionary<string, object?> left
                && value is IReadOnlyDictionary<string, object?> right
                ? MergeInto(left, right, owned)
                : value;
        }

        return result;
    }

    /// <summary>The enclosing task runs that have a value or outputs, nearest first: <c>{taskrun: {value}, outputs}</c>.</summary>
    public static List<object?> Parents(Execution execution, TaskRun taskRun)
    {
        var result = new List<object?>();
        foreach (var parent in execution.FindParents(taskRun))
        {
            var current = new Dictionary<string, object?>(StringComparer.Ordinal);
            if (parent.Value is not null)
            {
                current["taskrun"] = new Dictionary<string, object?> { ["value"] = parent.Value };
            }

            if (parent.Outputs is not null)
            {
                current["outputs"] = parent.Outputs;
            }

            if (current.Count > 0)
            {
                result.Add(current);
            }
        }

        return result;
    }

    /// <summary>
    /// The <c>outputs</c> variable of an (immutable) execution, built on first read. Thread-safe: a race builds it twice
    /// and keeps one.
    /// </summary>
    private sealed class LazyOutputs(Execution execution) : IReadOnlyDictionary<string, object?>
    {
        private Dictionary<string, object?>? _value;

        private Dictionary<string, object?> Value
        {
            get
            {
                var value = Volatile.Read(ref _value);
                if (value is null)
                {
                    value = Outputs(execution);
                    value = Interlocked.CompareExchange(ref _value, value, null) ?? value;
                }

                return value;
            }
        }

        public object? this[string key] => Value[key];
        public IEnumerable<string> Keys => Value.Keys;
        public IEnumerable<object?> Values => Value.Values;
        public int Count => Value.Count;
        public bool ContainsKey(string key) => Value.ContainsKey(key);
        public bool TryGetValue(string key, out object? value) => Value.TryGetValue(key, out value);
        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => Value.GetEnumerator();
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}

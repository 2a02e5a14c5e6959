using System.Collections;
using System.Collections.Immutable;
using Microsoft.Extensions.Primitives;
using Windhover.Flows.Model;

namespace Windhover.Ui;

/// <summary>Form values to raw inputs, and input definitions that are not flow inputs (a Pause task's <c>onResume</c>).</summary>
internal static class Forms
{
    /// <summary>The raw value of one posted input: a JSON array for MULTISELECT, absent for an empty non-string.</summary>
    public static object? Read(InputDefinition input, StringValues values)
    {
        if (values.Count == 0)
        {
            return null;
        }

        if (input.Type == InputType.Multiselect)
        {
            return System.Text.Json.JsonSerializer.Serialize(values.ToArray(), UiJsonContext.Default.StringArray);
        }

        var value = values[^1];
        return string.IsNullOrEmpty(value) && input.Type is not InputType.String ? null : value;
    }

    /// <summary>The task with <paramref name="taskId"/> anywhere in the flow (nested tasks, errors, finally, cases, Dag).</summary>
    public static TaskDefinition? FindTask(Flow flow, string taskId) =>
        Find(flow.Tasks.Concat(flow.Errors).Concat(flow.Finally).Concat(flow.AfterExecution), taskId, 0);

    private static TaskDefinition? Find(object? node, string taskId, int depth)
    {
        if (depth > 64)
        {
            return null;
        }

        switch (node)
        {
            case TaskDefinition task:
                return task.Id == taskId ? task : Find(task.Errors.Concat(task.Finally), taskId, depth + 1) ?? Find(task.Properties.Values, taskId, depth + 1);
            case DagTaskDefinition dag:
                return Find(dag.Task, taskId, depth + 1);
            case string:
                return null;
            case IDictionary dictionary:
                return Find(dictionary.Values, taskId, depth + 1);
            case IEnumerable items:
                foreach (var item in items)
                {
                    if (item is TaskDefinition or DagTaskDefinition or IEnumerable and not string && Find(item, taskId, depth + 1) is { } found)
                    {
                        return found;
                    }
                }

                return null;
            default:
                return null;
        }
    }

    /// <summary>A Pause task's <c>onResume</c> inputs as definitions (id, type, description, defaults, values, required).</summary>
    public static IReadOnlyList<InputDefinition> OnResumeInputs(TaskDefinition? pause)
    {
        if (pause is null || !pause.Properties.TryGetValue("onResume", out var raw) || raw is not IEnumerable list || raw is string)
        {
            return [];
        }

        var result = new List<InputDefinition>();
        foreach (var item in list)
        {
            if (item is not IReadOnlyDictionary<string, object?> map || map.GetValueOrDefault("id") is not string id)
            {
                continue;
            }

            var type = map.GetValueOrDefault("type") is string t && Enum.TryParse<InputType>(t, ignoreCase: true, out var parsed) ? parsed : InputType.String;
            var values = map.GetValueOrDefault("values") is IEnumerable v and not string ? v.Cast<object?>().Select(o => Format.Text(o) ?? "").ToImmutableArray() : [];
            result.Add(new InputDefinition
            {
                Id = id,
                Type = type,
                Description = map.GetValueOrDefault("description") as string,
                DisplayName = map.GetValueOrDefault("displayName") as string,
                Required = map.GetValueOrDefault("required") is not false,
                Defaults = map.GetValueOrDefault("defaults"),
                HasDefaults = map.ContainsKey("defaults"),
                Values = values,
                Properties = map,
            });
        }

        return result;
    }
}

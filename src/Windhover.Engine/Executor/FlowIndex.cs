using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using Windhover.Flows.Model;

namespace Windhover.Engine.Executor;

/// <summary>
/// Every task of a flow by id (task ids are unique in a flow), with plugin defaults merged in, the enclosing task of
/// each and the tasks that are error or finally handlers. Cached per <see cref="Flow"/> instance.
/// </summary>
internal sealed class FlowIndex
{
    private static readonly ConditionalWeakTable<Flow, FlowIndex> Cache = new();

    private readonly Dictionary<string, TaskDefinition> _tasks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _parents = new(StringComparer.Ordinal);
    private readonly HashSet<string> _handlers = new(StringComparer.Ordinal);

    private FlowIndex(Flow flow)
    {
        Flow = flow;
        AddAll(flow.Tasks, null, false);
        AddAll(flow.Errors, null, true);
        AddAll(flow.Finally, null, true);
        AddAll(flow.AfterExecution, null, true);
    }

    public Flow Flow { get; }

    public static FlowIndex Of(Flow flow) => Cache.GetValue(flow, f => new FlowIndex(f));

    public TaskDefinition? Find(string taskId) => _tasks.GetValueOrDefault(taskId);

    public TaskDefinition Get(string taskId) =>
        _tasks.TryGetValue(taskId, out var task) ? task : throw new InvalidOperationException($"Task '{taskId}' not found in flow '{Flow.Id}'");

    /// <summary>The task (with plugin defaults) that replaces <paramref name="task"/>.</summary>
    public TaskDefinition Resolve(TaskDefinition task) => _tasks.GetValueOrDefault(task.Id) ?? task;

    public TaskDefinition? Parent(string taskId) => _parents.TryGetValue(taskId, out var parent) ? _tasks[parent] : null;

    /// <summary>True for tasks of an <c>errors</c>, <c>finally</c> or <c>afterExecution</c> list (at any level).</summary>
    public bool IsHandler(string taskId) => _handlers.Contains(taskId);

    private void AddAll(ImmutableArray<TaskDefinition> tasks, string? parent, bool handler)
    {
        foreach (var task in tasks)
        {
            Add(task, parent, handler);
        }
    }

    private void Add(TaskDefinition raw, string? parent, bool handler)
    {
        var task = ApplyPluginDefaults(raw);
        _tasks[task.Id] = task;
        if (parent is not null)
        {
            _parents[task.Id] = parent;
        }

        if (handler)
        {
            _handlers.Add(task.Id);
        }

        foreach (var (_, value) in task.Properties)
        {
            switch (value)
            {
                case ImmutableArray<TaskDefinition> children:
                    AddAll(children, task.Id, false);
                    break;
                case ImmutableArray<DagTaskDefinition> dag:
                    foreach (var entry in dag)
                    {
                        Add(entry.Task, task.Id, false);
                    }

                    break;
                case IReadOnlyDictionary<string, ImmutableArray<TaskDefinition>> cases:
                    foreach (var (_, children) in cases)
                    {
                        AddAll(children, task.Id, false);
                    }

                    break;
                case IReadOnlyDictionary<string, object?> map:
                    foreach (var (_, item) in map)
                    {
                        if (item is ImmutableArray<TaskDefinition> caseTasks)
                        {
                            AddAll(caseTasks, task.Id, false);
                        }
                    }

                    break;
            }
        }

        AddAll(task.Errors, task.Id, true);
        AddAll(task.Finally, task.Id, true);

        if (TaskKinds.Of(task.CanonicalType) == TaskKind.ForEachItem)
        {
            foreach (var child in ForEachItemChildren(task))
            {
                _tasks[child.Id] = child;
                _parents[child.Id] = task.Id;
            }
        }
    }

    /// <summary>
    /// ForEachItem runs as three children, like Kestra: <c>{id}_split</c> (a worker splits <c>items</c> into batches and
    /// returns their URIs as output <c>splits</c>), <c>{id}_items</c> (one child execution per batch) and, when
    /// <c>wait</c> is true, <c>{id}_merge</c> (a worker merges the children's outputs). They carry the parent's properties.
    /// </summary>
    public static ImmutableArray<TaskDefinition> ForEachItemChildren(TaskDefinition task)
    {
        var wait = task.Properties.GetValueOrDefault("wait") is not false;
        var split = task with { Id = task.Id + "_split", Type = TaskKinds.ForEachItemSplit, CanonicalType = TaskKinds.ForEachItemSplit, Errors = [], Finally = [], Retry = null, RunIf = null, AllowFailure = false, AllowWarning = false };
        var items = split with { Id = task.Id + "_items", Type = TaskKinds.ForEachItemExecutable, CanonicalType = TaskKinds.ForEachItemExecutable, Retry = task.Retry, AllowFailure = task.AllowFailure, AllowWarning = task.AllowWarning };
        var merge = split with { Id = task.Id + "_merge", Type = TaskKinds.ForEachItemMergeOutputs, CanonicalType = TaskKinds.ForEachItemMergeOutputs };
        return wait ? [split, items, merge] : [split, items];
    }

    /// <summary>
    /// Kestra's plugin defaults: every default whose <c>type</c> is the task's type (or a prefix of it) is merged into the
    /// task properties; the task's own values win unless the default is <c>forced</c>. Maps merge deeply.
    /// </summary>
    private TaskDefinition ApplyPluginDefaults(TaskDefinition task)
    {
        if (Flow.PluginDefaults.IsDefaultOrEmpty)
        {
            return task;
        }

        var properties = task.Properties;
        foreach (var pluginDefault in Flow.PluginDefaults)
        {
            if (!Matches(pluginDefault.Type, task))
            {
                continue;
            }

            properties = pluginDefault.Forced
                ? Merge(properties, pluginDefault.Values)
                : Merge(pluginDefault.Values, properties);
        }

        return ReferenceEquals(properties, task.Properties) ? task : task with { Properties = properties };
    }

    private static bool Matches(string type, TaskDefinition task) =>
        task.CanonicalType.StartsWith(type, StringComparison.Ordinal) || task.Type.StartsWith(type, StringComparison.Ordinal);

    /// <summary>Deep merge: values of <paramref name="overrides"/> win; nested maps merge.</summary>
    internal static IReadOnlyDictionary<string, object?> Merge(IReadOnlyDictionary<string, object?> @base, IReadOnlyDictionary<string, object?> overrides)
    {
        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (key, value) in @base)
        {
            result[key] = value;
        }

        foreach (var (key, value) in overrides)
        {
            result[key] = result.TryGetValue(key, out var existing)
                && existing is IReadOnlyDictionary<string, object?> left
                && value is IReadOnlyDictionary<string, object?> right
                ? Merge(left, right)
                : value;
        }

        return result;
    }
}

using System.Collections.Immutable;

namespace Windhover.Flows.TaskTypes;

/// <summary>What a plugin type is used for.</summary>
public enum TaskKind
{
    /// <summary>A task run by a worker (Log, Return, Http Request...).</summary>
    Runnable,
    /// <summary>A task that holds other tasks and is executed by the executor (Parallel, Switch...).</summary>
    Flowable,
    /// <summary>A task that starts another execution (Subflow).</summary>
    Executable,
    Trigger,
    Condition,
    TaskRunner,
    Other,
}

/// <summary>The kind of value a property accepts. Flags may be combined for unions (e.g. <c>String | List</c>).</summary>
[Flags]
public enum PropertyKind
{
    None = 0,
    String = 1,
    Integer = 1 << 1,
    Number = 1 << 2,
    Boolean = 1 << 3,
    /// <summary>ISO-8601 duration (PT5S).</summary>
    Duration = 1 << 4,
    /// <summary>Cron expression (5 fields, 6 with <c>withSeconds</c>).</summary>
    Cron = 1 << 5,
    List = 1 << 6,
    Map = 1 << 7,
    /// <summary>A list of tasks.</summary>
    Tasks = 1 << 8,
    /// <summary>A map of string to task list (Switch <c>cases</c>).</summary>
    TaskMap = 1 << 9,
    /// <summary>Dag's list of <c>{task, dependsOn}</c>.</summary>
    DagTasks = 1 << 10,
    /// <summary>A list (or, for MultipleCondition, a map) of typed conditions.</summary>
    Conditions = 1 << 11,
    /// <summary>A map with known properties, described by <see cref="PropertyDescriptor.Properties"/>.</summary>
    Object = 1 << 12,
    /// <summary>A single typed plugin object (e.g. a task runner).</summary>
    Plugin = 1 << 13,
    Any = 1 << 14,
}

/// <summary>One property of a plugin type.</summary>
public sealed record PropertyDescriptor(string Name, PropertyKind Kind, bool Required = false)
{
    /// <summary>Allowed values (for enumerations); empty when any value of <see cref="Kind"/> is accepted.</summary>
    public ImmutableArray<string> AllowedValues { get; init; } = [];

    /// <summary>Nested properties when <see cref="Kind"/> includes <see cref="PropertyKind.Object"/>.</summary>
    public ImmutableArray<PropertyDescriptor> Properties { get; init; } = [];

    /// <summary>Whether the property holds tasks (parsed into TaskDefinition).</summary>
    public bool HoldsTasks => (Kind & (PropertyKind.Tasks | PropertyKind.TaskMap | PropertyKind.DagTasks)) != 0;

    public static PropertyDescriptor Enum(string name, bool required, params string[] values) =>
        new(name, PropertyKind.String, required) { AllowedValues = [.. values] };

    public static PropertyDescriptor Obj(string name, params PropertyDescriptor[] properties) =>
        new(name, PropertyKind.Object) { Properties = [.. properties] };
}

/// <summary>A plugin type (task, trigger, condition, task runner) and its properties.</summary>
public sealed record TaskTypeDescriptor
{
    public required string Name { get; init; }
    public ImmutableArray<string> Aliases { get; init; } = [];
    public required TaskKind Kind { get; init; }
    /// <summary>Type-specific properties; the common properties of the kind are added by the registry.</summary>
    public ImmutableArray<PropertyDescriptor> Properties { get; init; } = [];

    /// <summary>When true, properties not listed are accepted (for loosely described plugins).</summary>
    public bool AllowUnknownProperties { get; init; }

    public string SimpleName => Name[(Name.LastIndexOf('.') + 1)..];
}

namespace Windhover.Engine.Executor;

/// <summary>The core flowable and executable task types the executor implements, by canonical name (aliases resolved by Flows).</summary>
public enum TaskKind
{
    Runnable,
    Sequential,
    Parallel,
    Switch,
    If,
    ForEach,
    EachSequential,
    EachParallel,
    Dag,
    AllowFailure,
    Pause,
    WaitFor,
    WorkingDirectory,
    Subflow,
    ForEachItem,
    /// <summary>The synthetic <c>{id}_items</c> child of ForEachItem: one child execution per batch.</summary>
    ForEachItemExecutable,
    /// <summary><c>io.kestra.plugin.core.execution.Labels</c>: updates the execution's labels, run by the executor.</summary>
    Labels,
}

public static class TaskKinds
{
    private static readonly string[] FlowPackages = ["io.kestra.plugin.core.flow.", "io.kestra.core.tasks.flows."];

    public static TaskKind Of(string canonicalType)
    {
        if (canonicalType is "io.kestra.plugin.core.execution.Labels" or "io.kestra.core.tasks.executions.Labels")
        {
            return TaskKind.Labels;
        }

        foreach (var prefix in FlowPackages)
        {
            if (!canonicalType.StartsWith(prefix, StringComparison.Ordinal))
            {
                continue;
            }

            return canonicalType[prefix.Length..] switch
            {
                "Sequential" => TaskKind.Sequential,
                "Parallel" => TaskKind.Parallel,
                "Switch" => TaskKind.Switch,
                "If" => TaskKind.If,
                "ForEach" => TaskKind.ForEach,
                "EachSequential" => TaskKind.EachSequential,
                "EachParallel" => TaskKind.EachParallel,
                "Dag" => TaskKind.Dag,
                "AllowFailure" => TaskKind.AllowFailure,
                "Pause" => TaskKind.Pause,
                "WaitFor" or "LoopUntil" => TaskKind.WaitFor,
                "WorkingDirectory" => TaskKind.WorkingDirectory,
                "Subflow" or "Flow" => TaskKind.Subflow,
                "ForEachItem" => TaskKind.ForEachItem,
                "ForEachItem$ForEachItemExecutable" => TaskKind.ForEachItemExecutable,
                _ => TaskKind.Runnable,
            };
        }

        return TaskKind.Runnable;
    }

    /// <summary>Flowable tasks are executor logic: they have child task runs and no attempts.</summary>
    public static bool IsFlowable(this TaskKind kind) => kind is not (TaskKind.Runnable or TaskKind.Subflow or TaskKind.ForEachItemExecutable or TaskKind.Labels);

    public const string ForEachItemSplit = "io.kestra.plugin.core.flow.ForEachItem$ForEachItemSplit";
    public const string ForEachItemExecutable = "io.kestra.plugin.core.flow.ForEachItem$ForEachItemExecutable";
    public const string ForEachItemMergeOutputs = "io.kestra.plugin.core.flow.ForEachItem$ForEachItemMergeOutputs";
}

using System.Collections.Immutable;

namespace Windhover.Engine.Executions;

/// <summary>A key/value label of an execution (a list in Kestra's JSON).</summary>
public sealed record ExecutionLabel(string Key, string Value);

/// <summary>What started an execution: a trigger id and type, plus the variables it exposes as <c>trigger.*</c>.</summary>
public sealed record ExecutionTrigger
{
    public required string Id { get; init; }
    public required string Type { get; init; }
    public IReadOnlyDictionary<string, object?>? Variables { get; init; }
}

public sealed record ExecutionMetadata
{
    public int AttemptNumber { get; init; } = 1;
    public DateTimeOffset? OriginalCreatedDate { get; init; }

    /// <summary>
    /// The state an Exit task asked for while the execution is being killed (other task runs still stopping): the
    /// execution ends in it. Stored with the execution so a restart keeps it; cleared when the execution ends.
    /// </summary>
    public State? ExitState { get; init; }
}

/// <summary>
/// One run of a flow. Immutable: the executor returns a new value for every step. Values in <see cref="Inputs"/>,
/// <see cref="Outputs"/> and <see cref="Variables"/> use the expression value model (null, bool, long, double, string,
/// DateTimeOffset, lists and string-keyed maps).
/// </summary>
public sealed record Execution
{
    public required string Id { get; init; }
    public required string Namespace { get; init; }
    public required string FlowId { get; init; }
    public int FlowRevision { get; init; } = 1;
    public string? TenantId { get; init; }
    public IReadOnlyDictionary<string, object?>? Inputs { get; init; }
    public IReadOnlyDictionary<string, object?>? Outputs { get; init; }
    public ImmutableArray<ExecutionLabel> Labels { get; init; } = [];
    public IReadOnlyDictionary<string, object?>? Variables { get; init; }
    public required StateInfo State { get; init; }
    public ImmutableArray<TaskRun> TaskRunList { get; init; } = [];
    public ExecutionTrigger? Trigger { get; init; }
    public string? ParentId { get; init; }
    public string? OriginalId { get; init; }
    public ExecutionMetadata? Metadata { get; init; }
    public bool Deleted { get; init; }
    public DateTimeOffset? ScheduleDate { get; init; }

    /// <summary>A new execution in state CREATED.</summary>
    public static Execution Create(
        string id,
        string @namespace,
        string flowId,
        int flowRevision,
        DateTimeOffset now,
        IReadOnlyDictionary<string, object?>? inputs = null,
        IEnumerable<ExecutionLabel>? labels = null,
        ExecutionTrigger? trigger = null) => new()
        {
            Id = id,
            Namespace = @namespace,
            FlowId = flowId,
            FlowRevision = flowRevision,
            Inputs = inputs,
            Labels = labels is null ? [] : [.. labels],
            Trigger = trigger,
            State = StateInfo.Of(Executions.State.Created, now),
            OriginalId = id,
            Metadata = new ExecutionMetadata { AttemptNumber = 1, OriginalCreatedDate = now },
        };

    public TaskRun? FindTaskRun(string taskRunId)
    {
        foreach (var taskRun in TaskRunList)
        {
            if (taskRun.Id == taskRunId)
            {
                return taskRun;
            }
        }

        return null;
    }

    public TaskRun? FindTaskRunByTaskId(string taskId) => TaskRunList.FirstOrDefault(t => t.TaskId == taskId);

    public Execution WithState(State state, DateTimeOffset now) => this with { State = State.With(state, now) };

    /// <summary>Replaces the task run with the same id, or appends it.</summary>
    public Execution WithTaskRun(TaskRun taskRun)
    {
        for (var i = 0; i < TaskRunList.Length; i++)
        {
            if (TaskRunList[i].Id == taskRun.Id)
            {
                return this with { TaskRunList = TaskRunList.SetItem(i, taskRun) };
            }
        }

        return this with { TaskRunList = TaskRunList.Add(taskRun) };
    }

    /// <summary>The chain of parent task runs of <paramref name="taskRun"/>, nearest first.</summary>
    public IReadOnlyList<TaskRun> FindParents(TaskRun taskRun)
    {
        var result = new List<TaskRun>();
        var current = taskRun;
        while (current.ParentTaskRunId is { } parentId && FindTaskRun(parentId) is { } parent)
        {
            result.Add(parent);
            current = parent;
        }

        return result;
    }
}

using System.Collections.Immutable;
using System.Threading.Channels;
using Windhover.Engine.Executions;
using Windhover.Engine.Executor;
using Windhover.Engine.Tasks;
using Windhover.Flows.Expressions;

namespace Windhover.Engine.Runtime;

public sealed record RuntimeOptions
{
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
    public ExecutorOptions Executor { get; init; } = new();
    public TaskRegistry? Tasks { get; init; }
    public ExpressionEngine? Expressions { get; init; }
    public ISecretProvider? Secrets { get; init; }

    /// <summary>Concurrent task runs (worker loops). Tasks are async, so a loop waiting on I/O costs no thread.</summary>
    public int Workers { get; init; } = 32;

    public string WorkingDirectoryRoot { get; init; } = Path.Combine(Path.GetTempPath(), "windhover-work");

    /// <summary>Resume unfinished executions from the store on start.</summary>
    public bool Recover { get; init; } = true;

    /// <summary>
    /// Key encrypting SECRET inputs at rest (Kestra's <c>kestra.encryption.secret-key</c>: 32 characters for AES-256).
    /// Without it a flow with a SECRET input cannot be executed (a clear input error), as in Kestra.
    /// </summary>
    public string? EncryptionKey { get; init; }

    /// <summary>
    /// Largest serialized execution (bytes), as Kestra's JDBC queue message protection (<c>1048576</c> in its tests): a step
    /// that would store a larger execution fails the execution instead. Null: no limit (measuring costs a serialization).
    /// </summary>
    public long? MaxExecutionSize { get; init; }

    /// <summary>Called for every committed step (after it is durable). Must not block.</summary>
    public Action<Execution>? OnStep { get; init; }

    /// <summary>Run as one node of a cluster over a shared store (see <see cref="IRuntimeCluster"/>); null: a single process.</summary>
    public IRuntimeCluster? Cluster { get; init; }
}

/// <summary>What to start. <see cref="Inputs"/> are raw (strings, JSON values or <see cref="Inputs.InputFile"/>), validated by the runtime.</summary>
public sealed record ExecutionRequest
{
    public required string Namespace { get; init; }
    public required string FlowId { get; init; }
    public int? Revision { get; init; }
    public IReadOnlyDictionary<string, object?>? Inputs { get; init; }
    public ImmutableArray<ExecutionLabel> Labels { get; init; } = [];
    public ExecutionTrigger? Trigger { get; init; }

    /// <summary>A chosen id (idempotent create); a fresh one when null.</summary>
    public string? ExecutionId { get; init; }

    public string? ParentId { get; init; }
    public DateTimeOffset? ScheduleDate { get; init; }

    /// <summary>
    /// Return the execution as created (CREATED, as Kestra's API answers a creation) instead of after its first step.
    /// </summary>
    public bool ReturnCreated { get; init; }

    /// <summary>Missing required inputs are null rather than refused (Flow trigger executions, as in Kestra).</summary>
    public bool MissingRequiredInputsAllowed { get; init; }

    /// <summary>Store the execution (CREATED, or as the concurrency limit decides) without starting it: the caller posts the start.</summary>
    internal bool DeferStart { get; init; }
}

public sealed class FlowNotFoundException(string @namespace, string flowId, int? revision)
    : Exception(revision is null ? $"Unable to find flow '{@namespace}.{flowId}'" : $"Unable to find flow '{@namespace}.{flowId}' revision {revision}");

public sealed class TaskRunNotFoundException(string executionId, string taskRunId) : Exception($"Task run '{taskRunId}' not found in execution '{executionId}'");

public sealed class ExecutionNotFoundException(string executionId) : Exception($"Execution '{executionId}' not found")
{
    public string ExecutionId { get; } = executionId;
}

/// <summary>A live view of one execution (or all): every committed step. Dispose to stop.</summary>
public sealed class ExecutionSubscription : IDisposable
{
    private readonly Action<ExecutionSubscription> _unsubscribe;
    private readonly Channel<Execution> _channel = Channel.CreateBounded<Execution>(new BoundedChannelOptions(1024) { FullMode = BoundedChannelFullMode.DropOldest });

    internal ExecutionSubscription(string? executionId, Action<ExecutionSubscription> unsubscribe)
    {
        ExecutionId = executionId;
        _unsubscribe = unsubscribe;
    }

    /// <summary>The execution followed, or null for all executions.</summary>
    public string? ExecutionId { get; }

    /// <summary>Committed states; completes after the terminal state of a single-execution subscription.</summary>
    public ChannelReader<Execution> Reader => _channel.Reader;

    internal void Publish(Execution execution)
    {
        _channel.Writer.TryWrite(execution);
        if (ExecutionId is not null && execution.State.Current.IsTerminal())
        {
            _channel.Writer.TryComplete();
        }
    }

    public void Dispose()
    {
        _channel.Writer.TryComplete();
        _unsubscribe(this);
    }
}

using System.Collections.Immutable;
using Windhover.Engine.Executions;
using Windhover.Engine.Stores;

namespace Windhover.Server.Backend;

// The server's view of the runtime: small, request-shaped ports. The hosting layer binds them to the local runtime
// (SQLite or in-memory stores); tests can bind them to fakes. Everything here is async and cancellation-aware.

/// <summary>An uploaded file of a multipart request (an input of type FILE).</summary>
public sealed record UploadedFile(string InputId, string FileName, string? ContentType, ReadOnlyMemory<byte> Content);

public sealed record CreateExecutionRequest
{
    public required FlowRecord Flow { get; init; }
    /// <summary>Raw inputs: strings from forms, or JSON values (value model) from the JSON body form.</summary>
    public IReadOnlyDictionary<string, object?> Inputs { get; init; } = ImmutableDictionary<string, object?>.Empty;
    public IReadOnlyList<UploadedFile> Files { get; init; } = [];
    public ImmutableArray<ExecutionLabel> Labels { get; init; } = [];
    public ExecutionTrigger? Trigger { get; init; }
    public DateTimeOffset? ScheduleDate { get; init; }
}

public interface IExecutionService
{
    /// <summary>Validates inputs (throws <see cref="InputValidationException"/>), stores and starts the execution.</summary>
    Task<Execution> CreateAsync(CreateExecutionRequest request, CancellationToken cancellationToken = default);

    Task<Execution> KillAsync(string id, CancellationToken cancellationToken = default);

    Task<Execution> RestartAsync(string id, int? revision, CancellationToken cancellationToken = default);

    Task<Execution> ReplayAsync(string id, string? taskRunId, int? revision, CancellationToken cancellationToken = default);

    Task<Execution> ResumeAsync(string id, IReadOnlyDictionary<string, object?> inputs, IReadOnlyList<UploadedFile> files, CancellationToken cancellationToken = default);

    Task<Execution> PauseAsync(string id, CancellationToken cancellationToken = default);

    Task<Execution> SetLabelsAsync(string id, ImmutableArray<ExecutionLabel> labels, CancellationToken cancellationToken = default);

    Task<Execution> ChangeTaskRunStateAsync(string id, string taskRunId, State state, CancellationToken cancellationToken = default);

    /// <summary>Changes a terminated execution's state to another terminal state (throws <see cref="ConflictException"/> when it is not terminated).</summary>
    Task<Execution> ChangeStatusAsync(string id, State state, CancellationToken cancellationToken = default);

    /// <summary>Renders an expression with the variables of a task run; a rendering error is a result, not an exception.</summary>
    Task<EvalResult> EvaluateAsync(string id, string taskRunId, string expression, CancellationToken cancellationToken = default);

    /// <summary>Completes with the execution once it is terminal (or with the last seen one when cancelled).</summary>
    Task<Execution> WaitForTerminalAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Every change of the execution, starting with its current value; ends after a terminal state.</summary>
    IAsyncEnumerable<Execution> WatchAsync(string id, CancellationToken cancellationToken = default);
}

public sealed record TriggerInfo
{
    public required string Namespace { get; init; }
    public required string FlowId { get; init; }
    public required string TriggerId { get; init; }
    public required string Type { get; init; }
    public DateTimeOffset? NextExecutionDate { get; init; }
    public DateTimeOffset? Date { get; init; }
    public bool Disabled { get; init; }
    public string? ExecutionId { get; init; }
}

public interface ITriggerService
{
    Task<IReadOnlyList<TriggerInfo>> ListAsync(CancellationToken cancellationToken = default);
    Task<TriggerInfo?> SetDisabledAsync(string @namespace, string flowId, string triggerId, bool disabled, CancellationToken cancellationToken = default);
}

/// <summary>The answer of POST /executions/{id}/eval/{taskRunId}: the rendered text, or the error and its details.</summary>
public sealed record EvalResult(string? Result, string? Error, string? StackTrace);

/// <summary>A request that is well-formed but cannot be processed as asked (HTTP 422), e.g. pausing a terminated execution.</summary>
public sealed class UnprocessableException(string message) : Exception(message);

/// <summary>Invalid execution inputs (HTTP 422); the message names the input.</summary>
public sealed class InputValidationException(string message) : Exception(message);

/// <summary>An operation that the execution's state does not allow (HTTP 409).</summary>
public sealed class ConflictException(string message) : Exception(message);

/// <summary>An unknown execution, flow, task run or key (HTTP 404).</summary>
public sealed class NotFoundException(string message) : Exception(message);

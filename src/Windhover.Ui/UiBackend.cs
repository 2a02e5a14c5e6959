using Windhover.Engine.Executions;
using Windhover.Engine.Stores;

namespace Windhover.Ui;

/// <summary>
/// What the UI needs from the server beyond the stores: saving flows through the server's flow service and starting or
/// killing executions through its execution service. The server binds it (the UI does not reference the server).
/// </summary>
public interface IUiBackend
{
    /// <summary>Creates (when <paramref name="namespace"/> is null) or updates a flow; throws <see cref="UiException"/> with the server's message.</summary>
    Task<FlowRecord> SaveFlowAsync(string? @namespace, string? id, string source, CancellationToken cancellationToken);

    /// <summary>Starts an execution with raw (form string) inputs and uploaded FILE inputs; throws <see cref="UiException"/> for invalid inputs.</summary>
    Task<Execution> ExecuteAsync(FlowRecord flow, IReadOnlyDictionary<string, object?> inputs, IReadOnlyList<UiFile> files, CancellationToken cancellationToken);

    Task<Execution> KillAsync(string executionId, CancellationToken cancellationToken);

    /// <summary>Restarts a FAILED (or KILLED, WARNING) execution from its failed task runs; the same execution.</summary>
    Task<Execution> RestartAsync(string executionId, CancellationToken cancellationToken);

    /// <summary>A new execution replaying this one, from <paramref name="taskRunId"/> when given; returns the new execution.</summary>
    Task<Execution> ReplayAsync(string executionId, string? taskRunId, CancellationToken cancellationToken);

    /// <summary>Resumes a PAUSED execution with raw (form string) <c>onResume</c> inputs and uploaded FILE ones.</summary>
    Task<Execution> ResumeAsync(string executionId, IReadOnlyDictionary<string, object?> inputs, IReadOnlyList<UiFile> files, CancellationToken cancellationToken);

    /// <summary>Replaces the execution's labels (system labels kept).</summary>
    Task<Execution> SetLabelsAsync(string executionId, IReadOnlyList<ExecutionLabel> labels, CancellationToken cancellationToken);

    /// <summary>Every trigger the flows declare, with its persisted state.</summary>
    Task<IReadOnlyList<UiTrigger>> TriggersAsync(CancellationToken cancellationToken);

    /// <summary>Whether the server has authentication configured (then the UI has a sign-in page).</summary>
    bool SignInRequired { get; }

    /// <summary>The user of the request's UI session cookie, if it carries a valid one.</summary>
    string? SignedInUser(Microsoft.AspNetCore.Http.HttpContext context);

    /// <summary>Checks the credentials and, when right, sets the session cookie on the response.</summary>
    bool SignIn(Microsoft.AspNetCore.Http.HttpContext context, string? user, string? password);

    /// <summary>Clears the session cookie.</summary>
    void SignOut(Microsoft.AspNetCore.Http.HttpContext context);

    /// <summary>Enables or disables a trigger; throws <see cref="UiException"/> when the flow or trigger does not exist.</summary>
    Task SetTriggerDisabledAsync(string @namespace, string flowId, string triggerId, bool disabled, CancellationToken cancellationToken);
}

/// <summary>A file uploaded for a FILE input of the execute form.</summary>
public sealed record UiFile(string InputId, string FileName, string? ContentType, ReadOnlyMemory<byte> Content);

/// <summary>A trigger as the triggers page shows it.</summary>
public sealed record UiTrigger(string Namespace, string FlowId, string TriggerId, string Type, DateTimeOffset? NextFire, DateTimeOffset? LastFire, bool Disabled, string? LastExecutionId);

/// <summary>An operation the user can correct (invalid flow, invalid input, conflict): shown on the page.</summary>
public sealed class UiException(string message, Exception? inner = null) : Exception(message, inner);

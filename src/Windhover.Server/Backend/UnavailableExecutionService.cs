using System.Collections.Immutable;
using Windhover.Engine.Executions;

namespace Windhover.Server.Backend;

/// <summary>Used when the host registered no runtime: every execution operation answers 409 with an explanation.</summary>
internal sealed class UnavailableExecutionService : IExecutionService
{
    private static ConflictException Unavailable() => new("No execution runtime is configured on this server");

    public Task<Execution> CreateAsync(CreateExecutionRequest request, CancellationToken cancellationToken = default) => throw Unavailable();
    public Task<Execution> KillAsync(string id, CancellationToken cancellationToken = default) => throw Unavailable();
    public Task<Execution> RestartAsync(string id, int? revision, CancellationToken cancellationToken = default) => throw Unavailable();
    public Task<Execution> ReplayAsync(string id, string? taskRunId, int? revision, CancellationToken cancellationToken = default) => throw Unavailable();
    public Task<Execution> ResumeAsync(string id, IReadOnlyDictionary<string, object?> inputs, IReadOnlyList<UploadedFile> files, CancellationToken cancellationToken = default) => throw Unavailable();
    public Task<Execution> PauseAsync(string id, CancellationToken cancellationToken = default) => throw Unavailable();
    public Task<Execution> SetLabelsAsync(string id, ImmutableArray<ExecutionLabel> labels, CancellationToken cancellationToken = default) => throw Unavailable();
    public Task<Execution> ChangeTaskRunStateAsync(string id, string taskRunId, State state, CancellationToken cancellationToken = default) => throw Unavailable();
    public Task<Execution> WaitForTerminalAsync(string id, CancellationToken cancellationToken = default) => throw Unavailable();

    public async IAsyncEnumerable<Execution> WatchAsync(string id, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.CompletedTask;
        throw Unavailable();
#pragma warning disable CS0162
        yield break;
#pragma warning restore CS0162
    }
}

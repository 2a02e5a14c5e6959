using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Windhover.Client;
using Windhover.Engine.Executions;
using Windhover.Engine.Stores;
using Windhover.Server.Backend;
using Windhover.Server.Hosting;

namespace Windhover.Server.Tests;

/// <summary>The real server on Kestrel, 127.0.0.1 and a free port, with in-memory stores.</summary>
public sealed class ServerHarness : IAsyncDisposable
{
    private ServerHarness(WebApplication app, Uri address)
    {
        App = app;
        Address = address;
        Http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
        Client = new WindhoverClient(Http);
    }

    public WebApplication App { get; }
    public Uri Address { get; }
    public HttpClient Http { get; }
    public WindhoverClient Client { get; }

    public T Get<T>() where T : notnull => App.Services.GetRequiredService<T>();

    /// <param name="realRuntime">Run executions on the engine's LocalRuntime instead of <see cref="FakeExecutionService"/>.</param>
    public static async Task<ServerHarness> StartAsync(ServerOptions? options = null, Action<IServiceCollection>? configure = null, bool realRuntime = false)
    {
        options = (options ?? new ServerOptions()) with { Port = 0, DataPath = Path.Combine(Path.GetTempPath(), "windhover-tests-" + Guid.NewGuid().ToString("N")), FlowPath = options?.FlowPath is { } p && p != "./flows" ? p : null };
        var app = WindhoverServer.Build(options, services =>
        {
            configure?.Invoke(services);
            if (!realRuntime)
            {
                services.AddSingleton<FakeExecutionService>(sp => new FakeExecutionService(sp.GetRequiredService<IExecutionStore>(), TimeProvider.System));
                services.AddSingleton<IExecutionService>(sp => sp.GetRequiredService<FakeExecutionService>());
            }
        }, _ => { });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new ServerHarness(app, new Uri(address.EndsWith('/') ? address : address + "/"));
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}

/// <summary>
/// Plays the runtime for API tests: stores executions and applies state operations directly, without running tasks.
/// An input named <c>invalid</c> is refused as the input validation would.
/// </summary>
internal sealed class FakeExecutionService(IExecutionStore store, TimeProvider time) : IExecutionService
{
    public List<CreateExecutionRequest> Created { get; } = [];

    public async Task<Execution> CreateAsync(CreateExecutionRequest request, CancellationToken cancellationToken = default)
    {
        if (request.Inputs.ContainsKey("invalid"))
        {
            throw new InputValidationException("Invalid entity: inputs.invalid: this input is refused");
        }

        Created.Add(request);
        var inputs = new Dictionary<string, object?>(request.Inputs, StringComparer.Ordinal);
        foreach (var file in request.Files)
        {
            inputs[file.InputId] = $"kestra:///{request.Flow.Namespace.Replace('.', '/')}/{request.Flow.Id}/executions/x/inputs/{file.InputId}/{file.FileName}";
        }

        var execution = Execution.Create(IdGenerator.Create(), request.Flow.Namespace, request.Flow.Id, request.Flow.Revision, time.GetUtcNow(), inputs,
            request.Labels, request.Trigger);
        var taskRun = new TaskRun
        {
            Id = IdGenerator.Create(),
            ExecutionId = execution.Id,
            Namespace = execution.Namespace,
            FlowId = execution.FlowId,
            TaskId = request.Flow.Flow.Tasks.IsDefaultOrEmpty ? "none" : request.Flow.Flow.Tasks[0].Id,
            State = StateInfo.Of(State.Created, time.GetUtcNow()),
        };
        execution = execution.WithTaskRun(taskRun).WithState(State.Running, time.GetUtcNow());
        await store.SaveAsync(execution, ExecutionChanges.Between(null, execution), cancellationToken);
        return execution;
    }

    private async Task<Execution> UpdateAsync(string id, Func<Execution, Execution> change, CancellationToken cancellationToken)
    {
        var before = await store.GetAsync(id, cancellationToken) ?? throw new NotFoundException(id);
        var after = change(before);
        await store.SaveAsync(after, ExecutionChanges.Between(before, after), cancellationToken);
        return after;
    }

    public Task<Execution> KillAsync(string id, CancellationToken cancellationToken = default) =>
        UpdateAsync(id, e => e.WithState(State.Killed, time.GetUtcNow()), cancellationToken);

    public Task<Execution> RestartAsync(string id, int? revision, CancellationToken cancellationToken = default) =>
        UpdateAsync(id, e => e.WithState(State.Restarted, time.GetUtcNow()), cancellationToken);

    public async Task<Execution> ReplayAsync(string id, string? taskRunId, int? revision, CancellationToken cancellationToken = default)
    {
        var original = await store.GetAsync(id, cancellationToken) ?? throw new NotFoundException(id);
        var replay = original with { Id = IdGenerator.Create(), OriginalId = original.Id, State = StateInfo.Of(State.Restarted, time.GetUtcNow()) };
        await store.SaveAsync(replay, ExecutionChanges.Between(null, replay), cancellationToken);
        return replay;
    }

    public Task<Execution> ResumeAsync(string id, IReadOnlyDictionary<string, object?> inputs, IReadOnlyList<UploadedFile> files, CancellationToken cancellationToken = default) =>
        UpdateAsync(id, e => e.WithState(State.Running, time.GetUtcNow()), cancellationToken);

    public Task<Execution> PauseAsync(string id, CancellationToken cancellationToken = default) =>
        UpdateAsync(id, e => e.WithState(State.Paused, time.GetUtcNow()), cancellationToken);

    public Task<Execution> SetLabelsAsync(string id, ImmutableArray<ExecutionLabel> labels, CancellationToken cancellationToken = default) =>
        UpdateAsync(id, e => e with { Labels = labels }, cancellationToken);

    public Task<Execution> ChangeTaskRunStateAsync(string id, string taskRunId, State state, CancellationToken cancellationToken = default) =>
        UpdateAsync(id, e => e.WithTaskRun(e.FindTaskRun(taskRunId)!.WithState(state, time.GetUtcNow())), cancellationToken);

    public Task<Execution> ChangeStatusAsync(string id, State state, CancellationToken cancellationToken = default) =>
        UpdateAsync(id, e => e.WithState(state, time.GetUtcNow()), cancellationToken);

    public Task<EvalResult> EvaluateAsync(string id, string taskRunId, string expression, CancellationToken cancellationToken = default) =>
        Task.FromResult(new EvalResult(expression, null, null));

    public async Task<Execution> WaitForTerminalAsync(string id, CancellationToken cancellationToken = default) =>
        await UpdateAsync(id, e => e.State.Current.IsTerminal() ? e : e.WithState(State.Success, time.GetUtcNow()), cancellationToken);

    public async IAsyncEnumerable<Execution> WatchAsync(string id, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (await store.GetAsync(id, cancellationToken) is { } e)
        {
            yield return e;
        }
    }
}

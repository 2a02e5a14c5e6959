using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Hosting;
using Windhover.Engine.Executions;
using Windhover.Engine.Inputs;
using Windhover.Engine.Runtime;

namespace Windhover.Server.Backend;

/// <summary>The API's execution operations on the engine's <see cref="LocalRuntime"/>; runtime exceptions become HTTP statuses.</summary>
public sealed class RuntimeExecutionService(LocalRuntime runtime) : IExecutionService
{
    public Task<Execution> CreateAsync(CreateExecutionRequest request, CancellationToken cancellationToken = default) => MapAsync(() =>
    {
        var inputs = new Dictionary<string, object?>(request.Inputs, StringComparer.Ordinal);
        foreach (var file in request.Files)
        {
            var content = file.Content;
            inputs[file.InputId] = new InputFile(file.FileName, () => new MemoryStream(content.ToArray(), writable: false));
        }

        return runtime.CreateExecutionAsync(new ExecutionRequest
        {
            Namespace = request.Flow.Namespace,
            FlowId = request.Flow.Id,
            Revision = request.Flow.Revision,
            Inputs = inputs,
            Labels = request.Labels,
            Trigger = request.Trigger,
            ScheduleDate = request.ScheduleDate,
            ReturnCreated = true,
        }, cancellationToken);
    });

    public Task<Execution> KillAsync(string id, CancellationToken cancellationToken = default) => MapAsync(() => runtime.KillAsync(id, cancellationToken));

    public Task<Execution> RestartAsync(string id, int? revision, CancellationToken cancellationToken = default) => MapAsync(() => runtime.RestartAsync(id, cancellationToken));

    public Task<Execution> ReplayAsync(string id, string? taskRunId, int? revision, CancellationToken cancellationToken = default) =>
        MapAsync(() => runtime.ReplayAsync(id, taskRunId, cancellationToken));

    public Task<Execution> ResumeAsync(string id, IReadOnlyDictionary<string, object?> inputs, IReadOnlyList<UploadedFile> files, CancellationToken cancellationToken = default) =>
        MapAsync(() =>
        {
            var all = new Dictionary<string, object?>(inputs, StringComparer.Ordinal);
            foreach (var file in files)
            {
                var content = file.Content;
                all[file.InputId] = new InputFile(file.FileName, () => new MemoryStream(content.ToArray(), writable: false));
            }

            return runtime.ResumeAsync(id, all, cancellationToken);
        });

    public Task<Execution> PauseAsync(string id, CancellationToken cancellationToken = default) =>
        MapAsync(() => runtime.PauseAsync(id, cancellationToken));

    public Task<Execution> ChangeStatusAsync(string id, State state, CancellationToken cancellationToken = default) =>
        MapAsync(() => runtime.ChangeStatusAsync(id, state, cancellationToken));

    public async Task<EvalResult> EvaluateAsync(string id, string taskRunId, string expression, CancellationToken cancellationToken = default)
    {
        try
        {
            return new EvalResult(await runtime.EvaluateAsync(id, taskRunId, expression, cancellationToken), null, null);
        }
        catch (ExecutionNotFoundException e)
        {
            throw new NotFoundException(e.Message);
        }
        catch (TaskRunNotFoundException e)
        {
            throw new NotFoundException(e.Message);
        }
        catch (FlowNotFoundException e)
        {
            throw new NotFoundException(e.Message);
        }
        catch (Windhover.Flows.Expressions.ExpressionException e)
        {
            return new EvalResult(null, e.Message, e.ToString());
        }
    }

    public Task<Execution> SetLabelsAsync(string id, ImmutableArray<ExecutionLabel> labels, CancellationToken cancellationToken = default) =>
        MapAsync(() => runtime.SetLabelsAsync(id, labels, cancellationToken));

    public Task<Execution> ChangeTaskRunStateAsync(string id, string taskRunId, State state, CancellationToken cancellationToken = default) =>
        MapAsync(() => runtime.ForceTaskRunStateAsync(id, taskRunId, state, cancellationToken));

    public Task<Execution> WaitForTerminalAsync(string id, CancellationToken cancellationToken = default) =>
        MapAsync(() => runtime.WaitForTerminalAsync(id, cancellationToken));

    public async IAsyncEnumerable<Execution> WatchAsync(string id, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var subscription = runtime.Subscribe(id);
        if (await runtime.Stores.Executions.GetAsync(id, cancellationToken) is not { } current)
        {
            yield break;
        }

        yield return current;
        if (current.State.Current.IsTerminal())
        {
            yield break;
        }

        await foreach (var execution in subscription.Reader.ReadAllAsync(cancellationToken))
        {
            yield return execution;
        }
    }

    private static async Task<Execution> MapAsync(Func<Task<Execution>> action)
    {
        try
        {
            return await action();
        }
        catch (FlowNotFoundException e)
        {
            throw new NotFoundException(e.Message);
        }
        catch (ExecutionNotFoundException e)
        {
            throw new NotFoundException(e.Message);
        }
        catch (Windhover.Engine.Inputs.InputValidationException e)
        {
            throw new InputValidationException("Invalid entity: " + e.Message);
        }
        catch (InvalidOperationException e)
        {
            throw new ConflictException(e.Message);
        }
    }
}

/// <summary>Starts the runtime with the host (recovering unfinished executions).</summary>
internal sealed class RuntimeHostedService(LocalRuntime runtime) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => runtime.StartAsync(cancellationToken);

    // The container disposes the runtime (once) after the host stopped.
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

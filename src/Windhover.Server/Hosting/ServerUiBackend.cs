using Windhover.Engine.Executions;
using Windhover.Engine.Stores;
using Windhover.Server.Backend;
using Windhover.Ui;

namespace Windhover.Server.Hosting;

/// <summary>Binds the web UI's port to the same services the REST API uses.</summary>
internal sealed class ServerUiBackend(FlowService flows, IExecutionService executions) : IUiBackend
{
    public async Task<FlowRecord> SaveFlowAsync(string? @namespace, string? id, string source, CancellationToken cancellationToken)
    {
        try
        {
            return @namespace is null || id is null
                ? await flows.CreateAsync(source, cancellationToken)
                : await flows.UpdateAsync(@namespace, id, source, cancellationToken);
        }
        catch (Exception e) when (e is InvalidFlowException or NotFoundException)
        {
            throw new UiException(e.Message, e);
        }
    }

    public async Task<Execution> ExecuteAsync(FlowRecord flow, IReadOnlyDictionary<string, object?> inputs, CancellationToken cancellationToken)
    {
        try
        {
            return await executions.CreateAsync(new CreateExecutionRequest { Flow = flow, Inputs = inputs }, cancellationToken);
        }
        catch (Exception e) when (e is InputValidationException or ConflictException or NotFoundException)
        {
            throw new UiException(e.Message, e);
        }
    }

    public async Task<Execution> KillAsync(string executionId, CancellationToken cancellationToken)
    {
        try
        {
            return await executions.KillAsync(executionId, cancellationToken);
        }
        catch (Exception e) when (e is ConflictException or NotFoundException)
        {
            throw new UiException(e.Message, e);
        }
    }
}

using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Windhover.Engine.Scheduling;
using Windhover.Engine.Triggers;

namespace Windhover.Server.Backend;

/// <summary>Runs the Schedule trigger loop and the Flow trigger listener (after the runtime started, before it stops).</summary>
internal sealed class TriggerHostedService(TriggerScheduler scheduler, FlowTriggerListener listener, FlowService flows, ILogger<TriggerHostedService> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        scheduler.Error += e => logger.LogWarning(e, "Schedule trigger: {Message}", e.Message);
        listener.Error += e => logger.LogWarning(e, "Flow trigger: {Message}", e.Message);
        flows.Saved += _ => scheduler.Wake();
        listener.Start();
        scheduler.Start();
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await scheduler.StopAsync();
        await listener.StopAsync();
    }
}

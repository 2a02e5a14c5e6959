using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Windhover.Engine.Runtime;
using Windhover.Engine.Scheduling;
using Windhover.Engine.Triggers;
using Windhover.Storage.Postgres;

namespace Windhover.Cli.Hosting;

/// <summary>
/// Triggers of a cluster node: the Schedule trigger loop runs only while this node is the elected leader (one per
/// cluster: never one timer per node), woken when any node saves a flow; Flow triggers are evaluated by the node that
/// committed the ending step of an execution.
/// </summary>
internal sealed class ClusterTriggerHostedService(
    LocalRuntime runtime,
    TriggerScheduler scheduler,
    FlowTriggerListener listener,
    PostgresLeaderElection? election,
    bool listenFlowTriggers,
    ILogger<ClusterTriggerHostedService> logger) : IHostedService
{
    private readonly CancellationTokenSource _stopping = new();
    private Task? _campaign;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        runtime.BackgroundError += e => logger.LogWarning("Runtime: {Type}: {Message}", e.GetType().Name, e.Message);
        runtime.ClusterTaskRunReclaimed += (c, found) => logger.LogWarning(
            "Task run {TaskRun} of execution {Execution} claimed again (claim {Claims}, found {Found}): the lease of its previous worker lapsed",
            c.TaskRunId, c.ExecutionId, c.Claims, found);
        scheduler.Error += e => logger.LogWarning(e, "Schedule trigger: {Message}", e.Message);
        listener.Error += e => logger.LogWarning(e, "Flow trigger: {Message}", e.Message);
        if (listenFlowTriggers)
        {
            listener.Start();
        }

        if (election is not null)
        {
            runtime.ClusterFlowSaved += (_, _) => scheduler.Wake();
            election.LeadershipChanged += leader => logger.LogInformation("Node {Node} {Change} the Schedule trigger leader", runtime.NodeId, leader ? "is now" : "is no longer");
            _campaign = election.RunAsync(async token =>
            {
                scheduler.Start();
                try
                {
                    await Task.Delay(Timeout.Infinite, token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
                finally
                {
                    await scheduler.StopAsync().ConfigureAwait(false);
                }
            }, _stopping.Token);
        }

        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_campaign is not null)
        {
            await _campaign;
        }

        await listener.StopAsync();
        _stopping.Dispose();
    }
}

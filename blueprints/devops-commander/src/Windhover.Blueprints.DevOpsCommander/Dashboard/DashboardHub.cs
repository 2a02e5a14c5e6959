using System.Collections.Concurrent;
using System.Threading.Channels;
using Windhover.Blueprints.DevOpsCommander.Storage;

namespace Windhover.Blueprints.DevOpsCommander.Dashboard;

/// <summary>Fans dashboard events out to the open SSE streams (each subscriber has its own bounded channel).</summary>
public sealed class DashboardHub
{
    private readonly ConcurrentDictionary<Guid, Channel<DashboardEvent>> _subscribers = new();

    public int SubscriberCount => _subscribers.Count;

    public (Guid Id, ChannelReader<DashboardEvent> Reader) Subscribe()
    {
        var channel = Channel.CreateBounded<DashboardEvent>(new BoundedChannelOptions(256) { FullMode = BoundedChannelFullMode.DropOldest });
        var id = Guid.NewGuid();
        _subscribers[id] = channel;
        return (id, channel.Reader);
    }

    public void Unsubscribe(Guid id)
    {
        if (_subscribers.TryRemove(id, out var channel))
        {
            channel.Writer.TryComplete();
        }
    }

    public void Publish(DashboardEvent e)
    {
        foreach (var channel in _subscribers.Values)
        {
            channel.Writer.TryWrite(e);
        }
    }
}

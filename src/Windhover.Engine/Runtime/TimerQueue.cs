using Windhover.Engine.Stores;

namespace Windhover.Engine.Runtime;

/// <summary>
/// Due-time ordered timers driven by ONE <see cref="ITimer"/> of the injected <see cref="TimeProvider"/> (armed for the
/// earliest timer), never one OS timer per execution. Timers are durable in the store; this is only the wake-up.
/// </summary>
internal sealed class TimerQueue : IDisposable
{
    private readonly TimeProvider _time;
    private readonly Action<StoredTimer> _due;
    private readonly SortedSet<(DateTimeOffset DueAt, string Id)> _order = [];
    private readonly Dictionary<string, StoredTimer> _timers = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private ITimer? _timer;
    private DateTimeOffset? _armedFor;
    private bool _disposed;

    public TimerQueue(TimeProvider time, Action<StoredTimer> due)
    {
        _time = time;
        _due = due;
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _timers.Count;
            }
        }
    }

    public void Add(StoredTimer timer)
    {
        lock (_lock)
        {
            if (_disposed || !_timers.TryAdd(timer.Id, timer))
            {
                return;
            }

            _order.Add((timer.DueAt, timer.Id));
        }

        Fire();
    }

    private void Fire()
    {
        List<StoredTimer>? due = null;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            var now = _time.GetUtcNow();
            while (_order.Count > 0 && _order.Min.DueAt <= now)
            {
                var (_, id) = _order.Min;
                _order.Remove(_order.Min);
                if (_timers.Remove(id, out var timer))
                {
                    (due ??= []).Add(timer);
                }
            }

            if (_order.Count > 0)
            {
                var next = _order.Min.DueAt;
                if (_armedFor != next)
                {
                    _armedFor = next;
                    var delay = next - now;
                    if (_timer is null)
                    {
                        _timer = _time.CreateTimer(static s => ((TimerQueue)s!).OnTick(), this, delay, Timeout.InfiniteTimeSpan);
                    }
                    else
                    {
                        _timer.Change(delay, Timeout.InfiniteTimeSpan);
                    }
                }
            }
            else
            {
                _armedFor = null;
            }
        }

        if (due is not null)
        {
            foreach (var timer in due)
            {
                _due(timer);
            }
        }
    }

    private void OnTick()
    {
        lock (_lock)
        {
            _armedFor = null;
        }

        Fire();
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _timer?.Dispose();
        }
    }
}

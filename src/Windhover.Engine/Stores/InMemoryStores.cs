using System.Collections.Immutable;
using Windhover.Engine.Executions;
using Windhover.Engine.Executor;
using Windhover.Flows.Model;

namespace Windhover.Engine.Stores;

/// <summary>In-memory implementations of every store (unit tests, <c>--in-memory</c> runs). Thread-safe; one lock per store.</summary>
public static class InMemoryStores
{
    public static StoreSet Create(TimeProvider? timeProvider = null)
    {
        var time = timeProvider ?? TimeProvider.System;
        var executions = new InMemoryExecutionStore();
        return new StoreSet(new InMemoryFlowStore(time), executions, new InMemoryLogStore(), new InMemoryKvStore(time), new InMemoryFileStorage(), executions);
    }
}

public sealed class InMemoryFlowStore(TimeProvider timeProvider) : IFlowStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Ns, string Id), List<FlowRecord>> _flows = [];
    private readonly HashSet<(string Ns, string Id)> _deleted = [];

    public Task<FlowRecord> SaveAsync(Flow flow, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var key = (flow.Namespace, flow.Id);
            if (!_flows.TryGetValue(key, out var revisions))
            {
                _flows[key] = revisions = [];
            }

            var wasDeleted = _deleted.Remove(key);
            if (revisions.Count > 0 && !wasDeleted && revisions[^1].Source == flow.Source)
            {
                return Task.FromResult(revisions[^1]);
            }

            var revision = revisions.Count == 0 ? 1 : revisions[^1].Revision + 1;
            var record = new FlowRecord(flow.Namespace, flow.Id, revision, flow.Source, flow with { Revision = revision }, timeProvider.GetUtcNow());
            revisions.Add(record);
            return Task.FromResult(record);
        }
    }

    public Task<FlowRecord?> GetAsync(string @namespace, string id, int? revision = null, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            if (!_flows.TryGetValue((@namespace, id), out var revisions) || revisions.Count == 0)
            {
                return Task.FromResult<FlowRecord?>(null);
            }

            if (revision is { } wanted)
            {
                return Task.FromResult(revisions.FirstOrDefault(r => r.Revision == wanted));
            }

            return Task.FromResult(_deleted.Contains((@namespace, id)) ? null : revisions[^1]);
        }
    }

    public Task<IReadOnlyList<int>> RevisionsAsync(string @namespace, string id, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<int>>(_flows.TryGetValue((@namespace, id), out var revisions) ? [.. revisions.Select(r => r.Revision)] : []);
        }
    }

    public Task<PagedResult<FlowRecord>> SearchAsync(FlowQuery query, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var all = Live()
                .Where(r => query.Namespace is null || NamespaceMatches(r.Namespace, query.Namespace))
                .Where(r => string.IsNullOrEmpty(query.Query)
                    || r.Id.Contains(query.Query, StringComparison.OrdinalIgnoreCase)
                    || r.Namespace.Contains(query.Query, StringComparison.OrdinalIgnoreCase))
                .OrderBy(r => r.Namespace, StringComparer.Ordinal).ThenBy(r => r.Id, StringComparer.Ordinal)
                .ToList();
            var page = all.Skip((Math.Max(query.Page, 1) - 1) * query.Size).Take(query.Size).ToList();
            return Task.FromResult(new PagedResult<FlowRecord>(page, all.Count));
        }
    }

    public Task<IReadOnlyList<string>> NamespacesAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<string>>([.. Live().Select(r => r.Namespace).Distinct().Order(StringComparer.Ordinal)]);
        }
    }

    public Task<bool> DeleteAsync(string @namespace, string id, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var key = (@namespace, id);
            return Task.FromResult(_flows.TryGetValue(key, out var revisions) && revisions.Count > 0 && _deleted.Add(key));
        }
    }

    private IEnumerable<FlowRecord> Live() => _flows.Where(f => f.Value.Count > 0 && !_deleted.Contains(f.Key)).Select(f => f.Value[^1]);

    internal static bool NamespaceMatches(string @namespace, string prefix) =>
        @namespace == prefix || @namespace.StartsWith(prefix + ".", StringComparison.Ordinal);
}

/// <summary>Executions and timers in memory (both live here so a step's timers change with it, as in one transaction).</summary>
public sealed class InMemoryExecutionStore : IExecutionStore, ITimerStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Execution> _executions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StoredTimer> _timers = new(StringComparer.Ordinal);

    /// <summary>Number of task run rows written (to check that steps write deltas).</summary>
    public long TaskRunWrites { get; private set; }

    public Task<Execution?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return Task.FromResult(_executions.GetValueOrDefault(id));
        }
    }

    public Task SaveAsync(Execution execution, ExecutionChanges changes, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            TaskRunWrites += changes.ReplaceAllTaskRuns ? execution.TaskRunList.Length : changes.TaskRuns.Length;
            _executions[execution.Id] = execution;
            foreach (var id in changes.RemoveTimers)
            {
                _timers.Remove(id);
            }

            foreach (var timer in changes.AddTimers)
            {
                _timers[timer.Id] = timer;
            }
        }

        return Task.CompletedTask;
    }

    public Task<PagedResult<ExecutionSummary>> SearchAsync(ExecutionQuery query, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var matches = Filter(query).ToList();
            var page = matches.Skip((Math.Max(query.Page, 1) - 1) * query.Size).Take(query.Size).Select(ExecutionSummary.Of).ToList();
            return Task.FromResult(new PagedResult<ExecutionSummary>(page, matches.Count));
        }
    }

    public Task<long> CountAsync(ExecutionQuery query, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return Task.FromResult((long)Filter(query).Count());
        }
    }

    private IEnumerable<Execution> Filter(ExecutionQuery query)
    {
        var result = _executions.Values.Where(e => !e.Deleted
            && (query.Namespace is null || InMemoryFlowStore.NamespaceMatches(e.Namespace, query.Namespace))
            && (query.FlowId is null || e.FlowId == query.FlowId)
            && (query.States.IsDefaultOrEmpty || query.States.Contains(e.State.Current))
            && (query.ParentId is null || e.ParentId == query.ParentId)
            && (query.StartDate is null || e.State.StartDate >= query.StartDate)
            && (query.EndDate is null || (e.State.EndDate is { } end && end <= query.EndDate))
            && (query.Labels.IsDefaultOrEmpty || query.Labels.All(l => e.Labels.Contains(l))));
        return query.Ascending
            ? result.OrderBy(e => e.State.StartDate).ThenBy(e => e.Id, StringComparer.Ordinal)
            : result.OrderByDescending(e => e.State.StartDate).ThenByDescending(e => e.Id, StringComparer.Ordinal);
    }

    public Task<IReadOnlyList<ExecutionSummary>> ChildrenAsync(string parentId, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<ExecutionSummary>>([.. _executions.Values.Where(e => e.ParentId == parentId)
                .OrderBy(e => e.State.StartDate).Select(ExecutionSummary.Of)]);
        }
    }

    public Task<IReadOnlyList<string>> UnfinishedAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<string>>([.. _executions.Values.Where(e => !e.State.Current.IsTerminal())
                .OrderBy(e => e.State.StartDate).Select(e => e.Id)]);
        }
    }

    public Task<bool> DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            foreach (var timer in _timers.Values.Where(t => t.ExecutionId == id).ToList())
            {
                _timers.Remove(timer.Id);
            }

            return Task.FromResult(_executions.Remove(id));
        }
    }

    public Task<IReadOnlyList<StoredTimer>> ListAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<StoredTimer>>([.. _timers.Values.OrderBy(t => t.DueAt)]);
        }
    }

    public Task AddAsync(StoredTimer timer, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            _timers[timer.Id] = timer;
        }

        return Task.CompletedTask;
    }

    Task<bool> ITimerStore.DeleteAsync(string id, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(_timers.Remove(id));
        }
    }
}

public sealed class InMemoryLogStore : ILogStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, List<LogEntry>> _logs = new(StringComparer.Ordinal);

    public Task AppendAsync(IReadOnlyList<LogEntry> entries, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            foreach (var entry in entries)
            {
                if (!_logs.TryGetValue(entry.ExecutionId, out var list))
                {
                    _logs[entry.ExecutionId] = list = [];
                }

                list.Add(entry);
            }
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<LogEntry>> FindAsync(string executionId, ExecutorLogLevel? minLevel = null, string? taskRunId = null, string? taskId = null,
        CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            if (!_logs.TryGetValue(executionId, out var list))
            {
                return Task.FromResult<IReadOnlyList<LogEntry>>([]);
            }

            return Task.FromResult<IReadOnlyList<LogEntry>>([.. list.Where(l => (minLevel is null || l.Level >= minLevel)
                && (taskRunId is null || l.TaskRunId == taskRunId) && (taskId is null || l.TaskId == taskId))]);
        }
    }

    public Task<int> DeleteAsync(string executionId, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return Task.FromResult(_logs.Remove(executionId, out var list) ? list.Count : 0);
        }
    }
}

public sealed class InMemoryKvStore(TimeProvider timeProvider) : IKvStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Ns, string Key), KvEntry> _entries = [];

    public Task<bool> SetAsync(string @namespace, string key, object? value, TimeSpan? ttl = null, bool overwrite = true, CancellationToken cancellationToken = default)
    {
        var now = timeProvider.GetUtcNow();
        lock (_lock)
        {
            if (!overwrite && Live(@namespace, key, now) is not null)
            {
                return Task.FromResult(false);
            }

            _entries[(@namespace, key)] = new KvEntry(@namespace, key, value, now, ttl is { } t ? now + t : null);
            return Task.FromResult(true);
        }
    }

    public Task<KvEntry?> GetAsync(string @namespace, string key, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return Task.FromResult(Live(@namespace, key, timeProvider.GetUtcNow()));
        }
    }

    public Task<bool> DeleteAsync(string @namespace, string key, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var live = Live(@namespace, key, timeProvider.GetUtcNow()) is not null;
            _entries.Remove((@namespace, key));
            return Task.FromResult(live);
        }
    }

    public Task<IReadOnlyList<KvEntry>> ListAsync(string @namespace, CancellationToken cancellationToken = default)
    {
        var now = timeProvider.GetUtcNow();
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<KvEntry>>([.. _entries.Values
                .Where(e => e.Namespace == @namespace && (e.ExpiresAt is null || e.ExpiresAt > now))
                .OrderBy(e => e.Key, StringComparer.Ordinal)]);
        }
    }

    private KvEntry? Live(string @namespace, string key, DateTimeOffset now) =>
        _entries.TryGetValue((@namespace, key), out var entry) && (entry.ExpiresAt is null || entry.ExpiresAt > now) ? entry : null;
}

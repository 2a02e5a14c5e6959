using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Windhover.Server.Backend;

namespace Windhover.Server.Hosting;

/// <summary>
/// Loads the flows of <see cref="ServerOptions.FlowPath"/> (*.yml, *.yaml, recursively) after start, then follows the
/// folder: a changed file is saved again (a new revision only when its content changed), a removed file deletes its
/// flows. Invalid files are logged and skipped. Loading runs in the background so the server starts at once.
/// </summary>
internal sealed class FlowFolderWatcher(ServerOptions options, FlowService flows, ILogger<FlowFolderWatcher> logger) : IHostedService, IDisposable
{
    private readonly ConcurrentDictionary<string, List<(string Namespace, string Id)>> _byFile = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Timer> _pending = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private FileSystemWatcher? _watcher;
    private Task _initial = Task.CompletedTask;

    /// <summary>Completes once the initial load is done (tests).</summary>
    public Task Initial => _initial;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.FlowPath is not { } path || !Directory.Exists(path))
        {
            return Task.CompletedTask;
        }

        var root = Path.GetFullPath(path);
        _initial = Task.Run(async () =>
        {
            foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Where(IsFlowFile).Order(StringComparer.Ordinal))
            {
                await LoadAsync(file);
            }
        }, CancellationToken.None);

        _watcher = new FileSystemWatcher(root) { IncludeSubdirectories = true, NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size };
        _watcher.Changed += (_, e) => Schedule(e.FullPath);
        _watcher.Created += (_, e) => Schedule(e.FullPath);
        _watcher.Deleted += (_, e) => Schedule(e.FullPath);
        _watcher.Renamed += (_, e) =>
        {
            Schedule(e.OldFullPath);
            Schedule(e.FullPath);
        };
        _watcher.EnableRaisingEvents = true;
        return Task.CompletedTask;
    }

    private static bool IsFlowFile(string file) =>
        file.EndsWith(".yml", StringComparison.OrdinalIgnoreCase) || file.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase);

    /// <summary>Debounces bursts of events (editors write files in several steps).</summary>
    private void Schedule(string file)
    {
        if (!IsFlowFile(file))
        {
            return;
        }

        var timer = _pending.GetOrAdd(file, f => new Timer(_ => _ = LoadAsync(f), null, Timeout.Infinite, Timeout.Infinite));
        timer.Change(200, Timeout.Infinite);
    }

    private async Task LoadAsync(string file)
    {
        await _gate.WaitAsync();
        try
        {
            var previous = _byFile.TryGetValue(file, out var known) ? known : [];
            var current = new List<(string, string)>();
            if (File.Exists(file))
            {
                var text = await File.ReadAllTextAsync(file);
                foreach (var result in flows.ParseAll(text))
                {
                    if (result.Flow is { } flow)
                    {
                        await flows.UpsertAsync(flow, CancellationToken.None);
                        current.Add((flow.Namespace, flow.Id));
                    }
                    else
                    {
                        logger.LogWarning("Invalid flow in {File}: {Problems}", file, FlowService.Constraints(result.Problems));
                        if (result.Draft is { } draft)
                        {
                            current.Add((draft.Namespace, draft.Id));   // keep the last valid revision
                        }
                    }
                }
            }

            foreach (var (ns, id) in previous.Except(current))
            {
                await flows.Store.DeleteAsync(ns, id);
            }

            _byFile[file] = current;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning(e, "Cannot read flow file {File}", file);
        }
        finally
        {
            _gate.Release();
        }
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        if (_watcher is not null)
        {
            _watcher.EnableRaisingEvents = false;
        }

        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _watcher?.Dispose();
        foreach (var timer in _pending.Values)
        {
            timer.Dispose();
        }

        _gate.Dispose();
    }
}

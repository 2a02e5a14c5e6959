using Windhover.Engine.Executions;
using Windhover.Engine.Executor;
using Windhover.Engine.Runtime;
using Windhover.Engine.Stores;
using Windhover.Flows.Expressions;
using Windhover.Flows.Model;

namespace Windhover.Engine.Tasks;

/// <summary>The services a task run may use. One instance per runtime.</summary>
public sealed record RunContextServices
{
    public required ExpressionEngine Expressions { get; init; }
    public required IKvStore Kv { get; init; }
    public required IFileStorage Files { get; init; }
    public required ILogStore Logs { get; init; }
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
    public ISecretProvider? Secrets { get; init; }

    /// <summary>Where task metrics go (counters, timers).</summary>
    public IMetricStore Metrics { get; init; } = new InMemoryMetricStore();

    /// <summary>Operations on other executions (the Resume task); null outside a runtime.</summary>
    public IExecutionControl? Executions { get; init; }

    /// <summary>Where task working directories are created.</summary>
    public string WorkingDirectoryRoot { get; init; } = Path.Combine(Path.GetTempPath(), "windhover-work");
}

/// <summary>What tasks may do to executions (Kestra's ExecutionService as the Resume task uses it).</summary>
public interface IExecutionControl
{
    /// <summary>Resumes a PAUSED execution with <c>onResume</c> inputs (validated against the Pause task's declarations).</summary>
    Task<Execution> ResumeAsync(string executionId, IReadOnlyDictionary<string, object?>? inputs = null, CancellationToken cancellationToken = default);

    /// <summary>An execution as stored, or null when unknown.</summary>
    Task<Execution?> GetExecutionAsync(string executionId, CancellationToken cancellationToken = default);
}

/// <summary>
/// Everything a runnable task sees while it runs: its definition, typed access to its rendered properties, the run
/// variables, a logger (secret values masked), KV, internal storage, the clock and a working directory.
/// </summary>
public sealed class RunContext
{
    private readonly HashSet<string> _secrets = new(StringComparer.Ordinal);
    private readonly RuntimeExpressionHost _host;
    private string? _workingDirectory;

    public RunContext(RunTask work, RunContextServices services, IEnumerable<string>? secretValues = null, string? workerId = null)
    {
        ArgumentNullException.ThrowIfNull(work);
        ArgumentNullException.ThrowIfNull(services);
        Work = work;
        Services = services;
        WorkerId = workerId;
        foreach (var secret in secretValues ?? [])
        {
            AddSecret(secret);
        }

        _host = new RuntimeExpressionHost(work.TaskRun.Namespace, services.Kv, services.Files, services.Secrets, AddSecret, services.Logs, work.TaskRun.ExecutionId);
        Logger = new TaskLogger(this);
    }

    public RunTask Work { get; }
    public RunContextServices Services { get; }
    public string? WorkerId { get; }
    public TaskDefinition Task => Work.Task;
    public TaskRun TaskRun => Work.TaskRun;
    public IReadOnlyDictionary<string, object?> Variables => Work.Variables;
    public string Namespace => TaskRun.Namespace;
    public string FlowId => TaskRun.FlowId;
    public string ExecutionId => TaskRun.ExecutionId;
    public TaskLogger Logger { get; }
    public IKvStore Kv => Services.Kv;
    public IFileStorage Storage => Services.Files;
    public ILogStore Logs => Services.Logs;
    public TimeProvider TimeProvider => Services.TimeProvider;

    /// <summary>Records a metric of this task run (<paramref name="type"/> <c>counter</c> or <c>timer</c>, timers in seconds).</summary>
    public void Metric(string type, string name, double value, IReadOnlyDictionary<string, string>? tags = null) =>
        Services.Metrics.Add(new MetricEntry
        {
            Namespace = Namespace,
            FlowId = FlowId,
            ExecutionId = ExecutionId,
            TaskId = TaskRun.TaskId,
            TaskRunId = TaskRun.Id,
            Type = type,
            Name = name,
            Value = value,
            Timestamp = TimeProvider.GetUtcNow(),
            Tags = tags ?? new Dictionary<string, string>(),
        });

    /// <summary>The attempt number (1-based) of this run.</summary>
    public int AttemptNumber => Math.Max(TaskRun.AttemptCount, 1);

    /// <summary>Strings masked in logs (secret() results, SECRET inputs).</summary>
    public IReadOnlyCollection<string> SecretValues => _secrets;

    /// <summary>
    /// The task's working directory, created on first use. Tasks inside a WorkingDirectory share the directory of that
    /// task run; others get their own, deleted after the run.
    /// </summary>
    public string WorkingDirectory
    {
        get
        {
            if (_workingDirectory is null)
            {
                var path = Path.Combine(Services.WorkingDirectoryRoot, Work.WorkingDirectoryTaskRunId ?? TaskRun.Id);
                var created = !Directory.Exists(path);
                Directory.CreateDirectory(path);
                _workingDirectory = path;
                if (created && Work.WorkingDirectory is { } owner)
                {
                    if (Core.WorkingDirectoryCache.Settings(RenderValue(owner.Properties.GetValueOrDefault("cache"))) is { } cache)
                    {
                        Core.WorkingDirectoryCache.RestoreAsync(Storage, Core.WorkingDirectoryCache.UriFor(TaskRun.Namespace, TaskRun.FlowId, owner.Id), path,
                            cache.Ttl, TimeProvider.GetUtcNow()).GetAwaiter().GetResult();
                    }

                    WriteInputFiles(owner, path);
                }
            }

            return _workingDirectory;
        }
    }

    /// <summary>A WorkingDirectory's <c>inputFiles</c> (file name → content or kestra:/// URI), written when its directory is created.</summary>
    private void WriteInputFiles(TaskDefinition owner, string root)
    {
        if (RenderValue(owner.Properties.GetValueOrDefault("inputFiles")) is not IReadOnlyDictionary<string, object?> files)
        {
            return;
        }

        var fullRoot = Path.GetFullPath(root);
        foreach (var (name, value) in files)
        {
            var path = Path.GetFullPath(Path.Combine(fullRoot, name));
            if (!path.StartsWith(fullRoot, StringComparison.Ordinal))
            {
                throw new TaskPropertyException($"Invalid input file name '{name}'");
            }

            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var text = ExpressionValues.ToText(value);
            if (StorageUri.IsInternal(text))
            {
                using var source = Storage.OpenReadAsync(text).GetAwaiter().GetResult() ?? throw new FileNotFoundException($"Unable to find the file '{text}'");
                using var target = File.Create(path);
                source.CopyTo(target);
            }
            else
            {
                File.WriteAllText(path, text);
            }
        }
    }

    internal bool HasOwnWorkingDirectory => _workingDirectory is not null && Work.WorkingDirectoryTaskRunId is null;

    public bool HasProperty(string name) => Task.Properties.TryGetValue(name, out var value) && value is not null;

    /// <summary>The raw (unrendered) property value.</summary>
    public object? RawProperty(string name) => Task.Properties.GetValueOrDefault(name);

    /// <summary>Renders property <paramref name="name"/> and converts it; default when absent or null.</summary>
    public T? Render<T>(string name) => HasProperty(name) ? ValueConverter.Convert<T>(RenderValue(RawProperty(name)), name) : default;

    /// <summary>Renders property <paramref name="name"/>, or returns <paramref name="defaultValue"/> when absent or null.</summary>
    public T Render<T>(string name, T defaultValue)
    {
        if (!HasProperty(name))
        {
            return defaultValue;
        }

        var rendered = RenderValue(RawProperty(name));
        return rendered is null ? defaultValue : ValueConverter.Convert<T>(rendered, name);
    }

    /// <summary>Renders a required property; a missing one fails with a message naming it.</summary>
    public T RenderRequired<T>(string name)
    {
        if (!HasProperty(name))
        {
            throw new TaskPropertyException($"Missing required property '{name}' on task '{Task.Id}'");
        }

        var rendered = RenderValue(RawProperty(name));
        return rendered is null
            ? throw new TaskPropertyException($"Property '{name}' of task '{Task.Id}' rendered to null")
            : ValueConverter.Convert<T>(rendered, name);
    }

    /// <summary>Renders any value: a string that is one expression keeps its native type; maps and lists are rendered deeply.</summary>
    public object? RenderValue(object? raw, IReadOnlyDictionary<string, object?>? extraVariables = null)
    {
        var variables = Vars(extraVariables);
        return raw switch
        {
            string s => Services.Expressions.RenderTyped(s, variables, _host),
            IReadOnlyDictionary<string, object?> or IReadOnlyList<object?> => Services.Expressions.RenderObject(raw, variables, _host),
            _ => raw,
        };
    }

    /// <summary>Renders a template to a string against the run variables.</summary>
    public string RenderString(string template, IReadOnlyDictionary<string, object?>? extraVariables = null) =>
        Services.Expressions.Render(template, Vars(extraVariables), _host);

    private IReadOnlyDictionary<string, object?> Vars(IReadOnlyDictionary<string, object?>? extra)
    {
        if (extra is null || extra.Count == 0)
        {
            return Variables;
        }

        var merged = new Dictionary<string, object?>(Variables, StringComparer.Ordinal);
        foreach (var (key, value) in extra)
        {
            merged[key] = value;
        }

        return merged;
    }

    /// <summary>Stores a file of this task run in internal storage and returns its <c>kestra:///</c> URI.</summary>
    public async Task<string> PutFileAsync(string fileName, Stream content, CancellationToken cancellationToken = default)
    {
        var uri = StorageUri.ForTaskRun(Namespace, FlowId, ExecutionId, Task.Id, TaskRun.Id, $"{Guid.NewGuid():N}"[..8] + "-" + fileName);
        await Storage.PutAsync(uri, content, cancellationToken).ConfigureAwait(false);
        return uri;
    }

    /// <summary>Opens an internal storage file; fails with a clear message when it does not exist.</summary>
    public async Task<Stream> OpenFileAsync(string uri, CancellationToken cancellationToken = default) =>
        await Storage.OpenReadAsync(uri, cancellationToken).ConfigureAwait(false) ?? throw new FileNotFoundException($"Unable to find the file '{uri}'");

    /// <summary>Masks <paramref name="secret"/> in every log line of this run.</summary>
    public void AddSecret(string? secret)
    {
        if (!string.IsNullOrEmpty(secret))
        {
            lock (_secrets)
            {
                _secrets.Add(secret);
            }
        }
    }

    internal string Mask(string message)
    {
        lock (_secrets)
        {
            foreach (var secret in _secrets)
            {
                message = message.Replace(secret, "******", StringComparison.Ordinal);
            }
        }

        return message;
    }

    internal void CleanUp()
    {
        if (HasOwnWorkingDirectory)
        {
            try
            {
                Directory.Delete(_workingDirectory!, recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }
}

/// <summary>Task-run logs. Lines below the task's <c>logLevel</c> are dropped; secret values are masked.</summary>
public sealed class TaskLogger
{
    private readonly RunContext _context;
    private readonly List<LogEntry> _buffer = [];
    private readonly ExecutorLogLevel _minLevel;

    internal TaskLogger(RunContext context)
    {
        _context = context;
        _minLevel = ParseLevel(context.Task.LogLevel) ?? ExecutorLogLevel.Trace;
    }

    /// <summary>Every line logged so far (after filtering and masking).</summary>
    public List<LogEntry> Entries { get; } = [];

    public void Log(ExecutorLogLevel level, string message)
    {
        if (level < _minLevel)
        {
            return;
        }

        var entry = new LogEntry
        {
            Namespace = _context.Namespace,
            FlowId = _context.FlowId,
            ExecutionId = _context.ExecutionId,
            TaskRunId = _context.TaskRun.Id,
            TaskId = _context.Task.Id,
            AttemptNumber = _context.AttemptNumber - 1,
            Timestamp = _context.TimeProvider.GetUtcNow(),
            Level = level,
            Message = _context.Mask(message),
            Thread = _context.WorkerId,
        };
        lock (_buffer)
        {
            _buffer.Add(entry);
            lock (Entries)
            {
                Entries.Add(entry);
            }
        }
    }

    public void Trace(string message) => Log(ExecutorLogLevel.Trace, message);
    public void Debug(string message) => Log(ExecutorLogLevel.Debug, message);
    public void Info(string message) => Log(ExecutorLogLevel.Info, message);
    public void Warn(string message) => Log(ExecutorLogLevel.Warn, message);
    public void Error(string message) => Log(ExecutorLogLevel.Error, message);

    /// <summary>Writes buffered lines to the log store.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        LogEntry[] pending;
        lock (_buffer)
        {
            if (_buffer.Count == 0)
            {
                return;
            }

            pending = [.. _buffer];
            _buffer.Clear();
        }

        if (_context.Task.LogToFile)
        {
            return; // written to the attempt's log file instead (Kestra's logToFile)
        }

        await _context.Logs.AppendAsync(pending, cancellationToken).ConfigureAwait(false);
    }

    public static ExecutorLogLevel? ParseLevel(string? level) => level?.Trim().ToUpperInvariant() switch
    {
        "TRACE" => ExecutorLogLevel.Trace,
        "DEBUG" => ExecutorLogLevel.Debug,
        "INFO" => ExecutorLogLevel.Info,
        "WARN" or "WARNING" => ExecutorLogLevel.Warn,
        "ERROR" => ExecutorLogLevel.Error,
        _ => null,
    };
}

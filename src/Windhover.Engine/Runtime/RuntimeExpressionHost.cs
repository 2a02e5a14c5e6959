using Windhover.Engine.Stores;
using Windhover.Flows.Expressions;

namespace Windhover.Engine.Runtime;

/// <summary>
/// The expression host of a run: <c>secret()</c>, <c>kv()</c>, <c>read()</c>, <c>fileExists()</c>, <c>fileSize()</c>.
/// Secret values handed out are reported to <paramref name="onSecret"/> so loggers can mask them. Store calls are
/// synchronous here because expressions are; the embedded stores answer synchronously anyway.
/// </summary>
public sealed class RuntimeExpressionHost(
    string @namespace,
    IKvStore? kv,
    IFileStorage? files,
    ISecretProvider? secrets,
    Action<string>? onSecret = null,
    ILogStore? logs = null,
    string? executionId = null) : IExpressionHost
{
    /// <summary>Kestra's <c>errorLogs()</c>: the ERROR logs of the current execution, as log maps.</summary>
    public IReadOnlyList<object?> ErrorLogs()
    {
        if (logs is null || executionId is null)
        {
            throw new ExpressionException("The 'errorLogs' function is not available here");
        }

        var entries = logs.FindAsync(executionId, Executor.ExecutorLogLevel.Error).GetAwaiter().GetResult();
        return [.. entries.Where(e => e.Level == Executor.ExecutorLogLevel.Error).Select(e => (object?)new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["namespace"] = e.Namespace,
            ["flowId"] = e.FlowId,
            ["taskId"] = e.TaskId,
            ["executionId"] = e.ExecutionId,
            ["taskRunId"] = e.TaskRunId,
            ["attemptNumber"] = e.AttemptNumber is { } n ? (long)n : null,
            ["triggerId"] = e.TriggerId,
            ["timestamp"] = e.Timestamp,
            ["level"] = "ERROR",
            ["thread"] = e.Thread,
            ["message"] = e.Message,
        })];
    }

    public object? Secret(string key, string? ns)
    {
        var value = secrets?.Get(ns ?? @namespace, key) ?? throw new ExpressionException($"Cannot find secret for key '{key}'.");
        onSecret?.Invoke(value);
        return value;
    }

    public object? Kv(string? ns, string key, bool errorOnMissing)
    {
        if (kv is null)
        {
            throw new ExpressionException("The 'kv' function is not available here");
        }

        var entry = kv.GetAsync(ns ?? @namespace, key).GetAwaiter().GetResult();
        if (entry is null && errorOnMissing)
        {
            throw new ExpressionException($"The key '{key}' does not exist in the namespace '{ns ?? @namespace}'.");
        }

        return entry?.Value;
    }

    public string Read(string path)
    {
        using var stream = Open(path);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    public bool FileExists(string path) => files is not null && StorageUri.IsInternal(path) && files.ExistsAsync(path).GetAwaiter().GetResult();

    public long FileSize(string path) =>
        (files ?? throw new ExpressionException("The 'fileSize' function is not available here")).SizeAsync(path).GetAwaiter().GetResult()
        ?? throw new ExpressionException($"Unable to find the file '{path}'");

    private Stream Open(string path)
    {
        if (files is null || !StorageUri.IsInternal(path))
        {
            throw new ExpressionException($"Unable to read the file '{path}': only internal storage URIs (kestra:///) are supported");
        }

        return files.OpenReadAsync(path).GetAwaiter().GetResult() ?? throw new ExpressionException($"Unable to find the file '{path}'");
    }

    /// <summary>The execution id in run variables (<c>execution.id</c>).</summary>
    public static string? ExecutionIdOf(IReadOnlyDictionary<string, object?> variables) =>
        variables.TryGetValue("execution", out var execution) && execution is IReadOnlyDictionary<string, object?> map && map.TryGetValue("id", out var id) ? id as string : null;

    /// <summary>The flow namespace in run variables (<c>flow.namespace</c>).</summary>
    public static string? NamespaceOf(IReadOnlyDictionary<string, object?> variables) =>
        variables.TryGetValue("flow", out var flow) && flow is IReadOnlyDictionary<string, object?> map && map.TryGetValue("namespace", out var ns) ? ns as string : null;
}

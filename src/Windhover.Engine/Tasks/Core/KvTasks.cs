using Windhover.Flows.Expressions;

namespace Windhover.Engine.Tasks.Core;

/// <summary><c>io.kestra.plugin.core.kv.Set</c>: <c>key</c>, <c>value</c>, <c>namespace</c>, <c>overwrite</c> (true), <c>ttl</c>, <c>kvType</c>.</summary>
public sealed class KvSetTask : IRunnableTask
{
    public async Task<TaskOutcome> RunAsync(RunContext context, CancellationToken cancellationToken)
    {
        var key = context.RenderRequired<string>("key");
        var ns = context.Render("namespace", context.Namespace);
        var value = context.RenderValue(context.RawProperty("value"));
        value = (context.Render<string>("kvType")?.ToUpperInvariant()) switch
        {
            "NUMBER" when value is string s => ExpressionValues.FromJson(s),
            "BOOLEAN" when value is string s => bool.Parse(s),
            "JSON" when value is string s => ExpressionValues.FromJson(s),
            "STRING" when value is not string and not null => ExpressionValues.ToText(value),
            _ => value,
        };
        var overwrite = context.Render("overwrite", true);
        var ttl = context.Render<TimeSpan?>("ttl");
        if (!await context.Kv.SetAsync(ns, key, value, ttl, overwrite, cancellationToken).ConfigureAwait(false))
        {
            throw new TaskFailedException($"Cannot set value for key '{key}'. Key already exists and `overwrite` is set to `false`.");
        }

        return TaskOutcome.Success();
    }
}

/// <summary><c>io.kestra.plugin.core.kv.Get</c>: output <c>value</c>; fails on a missing key when <c>errorOnMissing</c>.</summary>
public sealed class KvGetTask : IRunnableTask
{
    public async Task<TaskOutcome> RunAsync(RunContext context, CancellationToken cancellationToken)
    {
        var key = context.RenderRequired<string>("key");
        var ns = context.Render("namespace", context.Namespace);
        var entry = await context.Kv.GetAsync(ns, key, cancellationToken).ConfigureAwait(false);
        if (entry is null && context.Render("errorOnMissing", false))
        {
            throw new TaskFailedException($"Key '{key}' does not exist in the namespace '{ns}'.");
        }

        return TaskOutcome.Success(new Dictionary<string, object?> { ["value"] = entry?.Value });
    }
}

/// <summary><c>io.kestra.plugin.core.kv.Delete</c>: output <c>deleted</c>; fails on a missing key when <c>errorOnMissing</c>.</summary>
public sealed class KvDeleteTask : IRunnableTask
{
    public async Task<TaskOutcome> RunAsync(RunContext context, CancellationToken cancellationToken)
    {
        var key = context.RenderRequired<string>("key");
        var ns = context.Render("namespace", context.Namespace);
        var deleted = await context.Kv.DeleteAsync(ns, key, cancellationToken).ConfigureAwait(false);
        if (!deleted && context.Render("errorOnMissing", false))
        {
            throw new TaskFailedException($"Key '{key}' does not exist in the namespace '{ns}'.");
        }

        return TaskOutcome.Success(new Dictionary<string, object?> { ["deleted"] = deleted });
    }
}

/// <summary><c>io.kestra.plugin.core.kv.GetKeys</c>: output <c>keys</c> of the namespace, optionally by <c>prefix</c>.</summary>
public sealed class KvGetKeysTask : IRunnableTask
{
    public async Task<TaskOutcome> RunAsync(RunContext context, CancellationToken cancellationToken)
    {
        var ns = context.Render("namespace", context.Namespace);
        var prefix = context.Render<string>("prefix");
        var entries = await context.Kv.ListAsync(ns, cancellationToken).ConfigureAwait(false);
        var keys = entries.Select(e => e.Key).Where(k => prefix is null || k.StartsWith(prefix, StringComparison.Ordinal)).Cast<object?>().ToList();
        return TaskOutcome.Success(new Dictionary<string, object?> { ["keys"] = keys });
    }
}

/// <summary>
/// Legacy state store tasks, kept in the KV store under <c>__state__.{flowId}.{name}</c> (flow-scoped like Kestra's).
/// With <c>taskrunValue</c> (default true) inside a loop, each iteration value has its own state, as Kestra's.
/// </summary>
internal static class StateKey
{
    public static string Of(RunContext context)
    {
        var key = "__state__." + (context.Render("namespace", false) ? "" : context.FlowId + ".") + context.Render("name", "default");
        return context.Render("taskrunValue", true) && context.TaskRun.Value is { } value ? key + "/" + value : key;
    }
}

/// <summary>Legacy <c>state.Set</c>: merges <c>data</c> into the named state; outputs <c>count</c>.</summary>
public sealed class StateSetTask : IRunnableTask
{
    public async Task<TaskOutcome> RunAsync(RunContext context, CancellationToken cancellationToken)
    {
        var key = StateKey.Of(context);
        var existing = (await context.Kv.GetAsync(context.Namespace, key, cancellationToken).ConfigureAwait(false))?.Value as IReadOnlyDictionary<string, object?>;
        var merged = new OrderedDictionary<string, object?>();
        foreach (var (k, v) in existing ?? new Dictionary<string, object?>())
        {
            merged[k] = v;
        }

        foreach (var (k, v) in context.Render<IReadOnlyDictionary<string, object?>>("data") ?? new Dictionary<string, object?>())
        {
            merged[k] = v;
        }

        await context.Kv.SetAsync(context.Namespace, key, merged, cancellationToken: cancellationToken).ConfigureAwait(false);
        return TaskOutcome.Success(new Dictionary<string, object?> { ["count"] = (long)merged.Count });
    }
}

/// <summary>Legacy <c>state.Get</c>: outputs <c>data</c> and <c>count</c>; <c>errorOnMissing</c> (false).</summary>
public sealed class StateGetTask : IRunnableTask
{
    public async Task<TaskOutcome> RunAsync(RunContext context, CancellationToken cancellationToken)
    {
        var key = StateKey.Of(context);
        var data = (await context.Kv.GetAsync(context.Namespace, key, cancellationToken).ConfigureAwait(false))?.Value as IReadOnlyDictionary<string, object?>;
        if (data is null && context.Render("errorOnMissing", false))
        {
            throw new TaskFailedException($"Unable to find the state file '{context.Render("name", "default")}'");
        }

        data ??= new Dictionary<string, object?>();
        return TaskOutcome.Success(new Dictionary<string, object?> { ["data"] = data, ["count"] = (long)data.Count });
    }
}

/// <summary>Legacy <c>state.Delete</c>: output <c>deleted</c>.</summary>
public sealed class StateDeleteTask : IRunnableTask
{
    public async Task<TaskOutcome> RunAsync(RunContext context, CancellationToken cancellationToken)
    {
        var deleted = await context.Kv.DeleteAsync(context.Namespace, StateKey.Of(context), cancellationToken).ConfigureAwait(false);
        if (!deleted && context.Render("errorOnMissing", false))
        {
            throw new TaskFailedException($"Unable to find the state file '{context.Render("name", "default")}'");
        }

        return TaskOutcome.Success(new Dictionary<string, object?> { ["deleted"] = deleted });
    }
}

using System.Globalization;
using System.Text;
using Windhover.Engine.Executor;
using Windhover.Flows.Expressions;

namespace Windhover.Engine.Tasks.Core;

/// <summary>
/// <c>ForEachItem$ForEachItemSplit</c> (<c>{id}_split</c>): reads the <c>items</c> file line by line and writes its
/// batches (<c>batch.rows</c> lines each, default 1, or <c>batch.partitions</c> batches) as files of the task run;
/// output <c>splits</c> (their URIs, in order).
/// </summary>
public sealed class ForEachItemSplitTask : IRunnableTask
{
    public async Task<TaskOutcome> RunAsync(RunContext context, CancellationToken cancellationToken)
    {
        var items = context.RenderRequired<string>("items");
        var batch = context.RenderValue(context.RawProperty("batch")) as IReadOnlyDictionary<string, object?>;
        var lines = new List<string>();
        await using (var stream = await context.OpenFileAsync(items, cancellationToken).ConfigureAwait(false))
        using (var reader = new StreamReader(stream, Encoding.UTF8))
        {
            while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
            {
                lines.Add(line);
            }
        }

        var partitions = Positive(batch?.GetValueOrDefault("partitions"), "batch.partitions");
        var rows = Positive(batch?.GetValueOrDefault("rows"), "batch.rows");
        if (batch?.GetValueOrDefault("bytes") is not null && rows is null && partitions is null)
        {
            throw new TaskPropertyException("batch.bytes is not supported: use batch.rows or batch.partitions");
        }

        var size = partitions is { } p ? (int)Math.Max(1, Math.Ceiling(lines.Count / (double)p)) : (int)(rows ?? 1);
        var splits = new List<object?>();
        for (var start = 0; start < lines.Count; start += size)
        {
            var content = string.Join('\n', lines.Skip(start).Take(size)) + "\n";
            using var part = new MemoryStream(Encoding.UTF8.GetBytes(content));
            splits.Add(await context.PutFileAsync(splits.Count.ToString(CultureInfo.InvariantCulture) + ".txt", part, cancellationToken).ConfigureAwait(false));
        }

        return TaskOutcome.Success(new Dictionary<string, object?> { ["splits"] = splits });
    }

    private static long? Positive(object? value, string name) => value switch
    {
        null => null,
        long l when l > 0 => l,
        string s when long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) && l > 0 => l,
        _ => throw new TaskPropertyException($"Invalid value for '{name}': {ExpressionValues.ToText(value)} (expected a positive integer)"),
    };
}

/// <summary>
/// <c>ForEachItem$ForEachItemMergeOutputs</c> (<c>{id}_merge</c>, when <c>wait</c>): one line per batch, in batch order,
/// holding the JSON outputs of its child execution; output <c>subflowOutputs</c> (the file's URI).
/// </summary>
public sealed class ForEachItemMergeOutputsTask : IRunnableTask
{
    public async Task<TaskOutcome> RunAsync(RunContext context, CancellationToken cancellationToken)
    {
        var control = context.Services.Executions ?? throw new TaskFailedException("Merging subflow outputs needs a runtime");
        var itemsTaskId = context.Task.Id.EndsWith("_merge", StringComparison.Ordinal) ? context.Task.Id[..^"_merge".Length] + "_items" : context.Task.Id;
        var outputs = context.Variables.GetValueOrDefault("outputs") as IReadOnlyDictionary<string, object?>;
        var executions = (outputs?.GetValueOrDefault(itemsTaskId) as IReadOnlyDictionary<string, object?>)?.GetValueOrDefault("executions") as IReadOnlyDictionary<string, object?>
            ?? throw new TaskFailedException($"No executions of '{itemsTaskId}' to merge");
        var text = new StringBuilder();
        foreach (var executionId in executions.Keys)
        {
            var child = await control.GetExecutionAsync(executionId, cancellationToken).ConfigureAwait(false);
            text.Append(ExpressionValues.ToJson(child?.Outputs ?? new Dictionary<string, object?>())).Append('\n');
        }

        using var content = new MemoryStream(Encoding.UTF8.GetBytes(text.ToString()));
        var uri = await context.PutFileAsync("outputs.ion", content, cancellationToken).ConfigureAwait(false);
        return TaskOutcome.Success(new Dictionary<string, object?> { ["subflowOutputs"] = uri });
    }
}

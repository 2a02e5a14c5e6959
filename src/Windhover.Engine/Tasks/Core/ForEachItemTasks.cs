using System.Globalization;
using System.Text;
using Windhover.Engine.Executor;
using Windhover.Flows.Expressions;

namespace Windhover.Engine.Tasks.Core;

/// <summary>
/// <c>ForEachItem$ForEachItemSplit</c> (<c>{id}_split</c>): reads the <c>items</c> file line by line and writes its
/// batches (<c>batch.rows</c> lines each, default 1; <c>batch.partitions</c> batches; or <c>batch.bytes</c>, as many whole
/// lines as fit in that size, e.g. <c>10MB</c>, at least one) as files of the task run; output <c>splits</c> (their
/// URIs, in order).
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
        var bytes = batch?.GetValueOrDefault("bytes") is { } b && rows is null && partitions is null ? DataSize(b, "batch.bytes") : (long?)null;
        var splits = new List<object?>();
        foreach (var (start, count) in Batches(lines, partitions, rows, bytes))
        {
            var content = string.Join('\n', lines.Skip(start).Take(count)) + "\n";
            using var part = new MemoryStream(Encoding.UTF8.GetBytes(content));
            splits.Add(await context.PutFileAsync(splits.Count.ToString(CultureInfo.InvariantCulture) + ".txt", part, cancellationToken).ConfigureAwait(false));
        }

        return TaskOutcome.Success(new Dictionary<string, object?> { ["splits"] = splits });
    }

    /// <summary>The batches as (first line, line count): by partitions, by rows, or by a size in bytes (each line with its newline).</summary>
    internal static IEnumerable<(int Start, int Count)> Batches(IReadOnlyList<string> lines, long? partitions, long? rows, long? bytes)
    {
        if (bytes is { } limit)
        {
            var start = 0;
            long size = 0;
            for (var i = 0; i < lines.Count; i++)
            {
                var line = Encoding.UTF8.GetByteCount(lines[i]) + 1;
                if (i > start && size + line > limit)
                {
                    yield return (start, i - start);
                    (start, size) = (i, 0);
                }

                size += line;
            }

            if (start < lines.Count)
            {
                yield return (start, lines.Count - start);
            }

            yield break;
        }

        var count = partitions is { } p ? (int)Math.Max(1, Math.Ceiling(lines.Count / (double)p)) : (int)(rows ?? 1);
        for (var start = 0; start < lines.Count; start += count)
        {
            yield return (start, Math.Min(count, lines.Count - start));
        }
    }

    /// <summary>A size as Kestra writes it: a number of bytes, or a number with B, KB, MB or GB (powers of 1024).</summary>
    internal static long DataSize(object value, string name)
    {
        var text = ExpressionValues.ToText(value).Trim();
        var unit = text.TrimStart("0123456789".ToCharArray());
        var digits = text[..^unit.Length];
        long factor = unit.Trim().ToUpperInvariant() switch
        {
            "" or "B" => 1,
            "KB" => 1024,
            "MB" => 1024 * 1024,
            "GB" => 1024L * 1024 * 1024,
            _ => 0,
        };
        return factor > 0 && long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
            ? checked(n * factor)
            : throw new TaskPropertyException($"Invalid value for '{name}': {text} (expected a size such as 512KB or 10MB)");
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

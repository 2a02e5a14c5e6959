using System.Text;
using System.Text.RegularExpressions;
using Windhover.Engine.Executor;
using Windhover.Engine.Serialization;
using Windhover.Engine.Stores;
using Windhover.Flows.Expressions;

namespace Windhover.Engine.Tasks.Core;

/// <summary>
/// <c>io.kestra.plugin.core.storage.LocalFiles</c>: writes <c>inputs</c> (file name → content or kestra:/// URI) into the
/// working directory and stores the files matching <c>outputs</c> (globs); output <c>uris</c> (name → URI).
/// </summary>
public sealed class LocalFilesTask : IRunnableTask
{
    public async Task<TaskOutcome> RunAsync(RunContext context, CancellationToken cancellationToken)
    {
        var root = context.WorkingDirectory;
        foreach (var (name, value) in context.Render<IReadOnlyDictionary<string, object?>>("inputs") ?? new Dictionary<string, object?>())
        {
            var path = Path.GetFullPath(Path.Combine(root, name));
            if (!path.StartsWith(Path.GetFullPath(root), StringComparison.Ordinal))
            {
                throw new TaskPropertyException($"Invalid input file name '{name}'");
            }

            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var text = ExpressionValues.ToText(value);
            if (StorageUri.IsInternal(text))
            {
                await using var source = await context.OpenFileAsync(text, cancellationToken).ConfigureAwait(false);
                await using var target = File.Create(path);
                await source.CopyToAsync(target, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await File.WriteAllTextAsync(path, text, cancellationToken).ConfigureAwait(false);
            }
        }

        var uris = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (relative, file) in Match(root, context.Render<IReadOnlyList<string>>("outputs") ?? []))
        {
            await using var stream = File.OpenRead(file);
            uris[relative] = await context.PutFileAsync(Path.GetFileName(file), stream, cancellationToken).ConfigureAwait(false);
        }

        return TaskOutcome.Success(new Dictionary<string, object?> { ["uris"] = uris });
    }

    /// <summary>The files under <paramref name="root"/> matching any glob (<c>*</c>, <c>?</c>, <c>**/</c>): relative path → full path.</summary>
    public static IReadOnlyList<(string Relative, string Path)> Match(string root, IEnumerable<string> patterns)
    {
        var found = new List<(string, string)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var pattern in patterns)
        {
            var regex = new Regex("^" + Regex.Escape(pattern.Replace('\\', '/')).Replace(@"\*\*/", "(.*/)?", StringComparison.Ordinal)
                .Replace(@"\*", "[^/]*", StringComparison.Ordinal).Replace(@"\?", "[^/]", StringComparison.Ordinal) + "$");
            foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
            {
                var relative = Path.GetRelativePath(root, file).Replace('\\', '/');
                if (regex.IsMatch(relative) && seen.Add(relative))
                {
                    found.Add((relative, file));
                }
            }
        }

        return found;
    }
}

/// <summary>
/// <c>io.kestra.plugin.core.log.Fetch</c>: writes the logs of an execution (<c>executionId</c>, default the current one;
/// <c>level</c> minimum, <c>tasksId</c>) to a file of JSON lines; outputs <c>uri</c> and <c>size</c> (line count).
/// </summary>
public sealed class LogFetchTask : IRunnableTask
{
    public async Task<TaskOutcome> RunAsync(RunContext context, CancellationToken cancellationToken)
    {
        var executionId = context.Render("executionId", context.ExecutionId);
        var level = TaskLogger.ParseLevel(context.Render<string>("level")) ?? ExecutorLogLevel.Info;
        var taskIds = context.Render<IReadOnlyList<string>>("tasksId");
        var logs = await context.Logs.FindAsync(executionId, level, cancellationToken: cancellationToken).ConfigureAwait(false);
        var builder = new StringBuilder();
        long count = 0;
        foreach (var log in logs)
        {
            if (taskIds is { Count: > 0 } && (log.TaskId is null || !taskIds.Contains(log.TaskId)))
            {
                continue;
            }

            var line = new Dictionary<string, object?>
            {
                ["namespace"] = log.Namespace,
                ["flowId"] = log.FlowId,
                ["executionId"] = log.ExecutionId,
                ["taskId"] = log.TaskId,
                ["taskRunId"] = log.TaskRunId,
                ["timestamp"] = KestraJson.FormatDate(log.Timestamp),
                ["level"] = log.Level.ToString().ToUpperInvariant(),
                ["message"] = log.Message,
            };
            builder.Append(ExpressionValues.ToJson(line)).Append('\n');
            count++;
        }

        await using var stream = new MemoryStream(Encoding.UTF8.GetBytes(builder.ToString()));
        var uri = await context.PutFileAsync(executionId + ".jsonl", stream, cancellationToken).ConfigureAwait(false);
        return TaskOutcome.Success(new Dictionary<string, object?> { ["uri"] = uri, ["size"] = count });
    }
}

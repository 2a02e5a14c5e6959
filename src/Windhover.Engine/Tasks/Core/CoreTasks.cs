using System.Collections.Immutable;
using System.Globalization;
using Windhover.Engine.Executions;
using Windhover.Engine.Executor;
using Windhover.Flows.Expressions;
using Windhover.Engine.Runtime;

namespace Windhover.Engine.Tasks.Core;

/// <summary>Registration of the core runnable tasks under their canonical names (aliases are resolved by Windhover.Flows).</summary>
public static class CoreTasks
{
    private const string P = "io.kestra.plugin.core.";

    public static TaskRegistry RegisterAll(TaskRegistry registry) => registry
        .Register(P + "log.Log", new LogTask())
        .Register(P + "debug.Return", new ReturnTask())
        .Register(P + "debug.Echo", new EchoTask())
        .Register(P + "output.OutputValues", new OutputValuesTask())
        .Register(P + "execution.Fail", new FailTask())
        .Register(P + "execution.Exit", new ExitTask())
        .Register(P + "execution.Labels", new LabelsTask())
        .Register(P + "execution.Resume", new ResumeTask())
        .Register(TaskKinds.ForEachItemSplit, new ForEachItemSplitTask())
        .Register(TaskKinds.ForEachItemMergeOutputs, new ForEachItemMergeOutputsTask())
        .Register(P + "flow.Sleep", new SleepTask())
        .Register(P + "kv.Set", new KvSetTask())
        .Register(P + "kv.Get", new KvGetTask())
        .Register(P + "kv.Delete", new KvDeleteTask())
        .Register(P + "kv.GetKeys", new KvGetKeysTask())
        .Register(P + "state.Set", new StateSetTask())
        .Register(P + "state.Get", new StateGetTask())
        .Register(P + "state.Delete", new StateDeleteTask())
        .Register(P + "http.Request", new HttpRequestTask())
        .Register(P + "http.Download", new HttpDownloadTask())
        .Register(P + "storage.LocalFiles", new LocalFilesTask())
        .Register(P + "log.Fetch", new LogFetchTask());
}

/// <summary><c>io.kestra.plugin.core.log.Log</c>: <c>message</c> (string or list), <c>level</c> (INFO).</summary>
public sealed class LogTask : IRunnableTask
{
    public Task<TaskOutcome> RunAsync(RunContext context, CancellationToken cancellationToken)
    {
        var level = TaskLogger.ParseLevel(context.Render<string>("level")) ?? ExecutorLogLevel.Info;
        var raw = context.RawProperty("message") ?? throw new TaskPropertyException($"Missing required property 'message' on task '{context.Task.Id}'");
        if (raw is IReadOnlyList<object?> list)
        {
            foreach (var item in list)
            {
                context.Logger.Log(level, ExpressionValues.ToText(context.RenderValue(item)));
            }
        }
        else
        {
            context.Logger.Log(level, context.RenderRequired<string>("message"));
        }

        return Task.FromResult(TaskOutcome.Success());
    }
}

/// <summary><c>io.kestra.plugin.core.debug.Return</c>: renders <c>format</c> into output <c>value</c>.</summary>
public sealed class ReturnTask : IRunnableTask
{
    public Task<TaskOutcome> RunAsync(RunContext context, CancellationToken cancellationToken)
    {
        var started = context.TimeProvider.GetTimestamp();
        var value = context.HasProperty("format") ? context.RenderString(ExpressionValues.ToText(context.RawProperty("format"))) : null;

        // As Kestra's Return: a `length` counter and a `duration` timer, tagged with the format.
        var tags = new Dictionary<string, string>(StringComparer.Ordinal) { ["format"] = ExpressionValues.ToText(context.RawProperty("format")) };
        context.Metric("counter", "length", value?.Length ?? 0, tags);
        context.Metric("timer", "duration", context.TimeProvider.GetElapsedTime(started).TotalSeconds, tags);
        return Task.FromResult(TaskOutcome.Success(new Dictionary<string, object?> { ["value"] = value }));
    }
}

/// <summary>Legacy <c>Echo</c>: logs <c>format</c> at <c>level</c>.</summary>
public sealed class EchoTask : IRunnableTask
{
    public Task<TaskOutcome> RunAsync(RunContext context, CancellationToken cancellationToken)
    {
        var level = TaskLogger.ParseLevel(context.Render<string>("level")) ?? ExecutorLogLevel.Info;
        context.Logger.Log(level, context.Render<string>("format") ?? "");
        return Task.FromResult(TaskOutcome.Success());
    }
}

/// <summary><c>io.kestra.plugin.core.output.OutputValues</c>: output <c>values</c> (rendered map).</summary>
public sealed class OutputValuesTask : IRunnableTask
{
    public Task<TaskOutcome> RunAsync(RunContext context, CancellationToken cancellationToken)
    {
        var values = context.Render<IReadOnlyDictionary<string, object?>>("values") ?? new Dictionary<string, object?>();
        return Task.FromResult(TaskOutcome.Success(new Dictionary<string, object?> { ["values"] = values }));
    }
}

/// <summary><c>io.kestra.plugin.core.execution.Fail</c>: fails with <c>errorMessage</c> when <c>condition</c> is absent or true.</summary>
public sealed class FailTask : IRunnableTask
{
    public Task<TaskOutcome> RunAsync(RunContext context, CancellationToken cancellationToken)
    {
        if (context.HasProperty("condition"))
        {
            var condition = context.RenderValue(context.RawProperty("condition"));
            if (!ExpressionValues.IsTruthy(condition is string s ? s.Trim() is "false" or "0" or "-0" or "" ? null : s : condition))
            {
                return Task.FromResult(TaskOutcome.Success());
            }
        }

        throw new TaskFailedException(context.Render("errorMessage", "Task failure"));
    }
}

/// <summary>Thrown by a task to fail with a plain message (logged at ERROR without a stack trace).</summary>
public sealed class TaskFailedException(string message) : Exception(message);

/// <summary><c>io.kestra.plugin.core.execution.Exit</c>: ends the execution in <c>state</c> (SUCCESS, WARNING, KILLED, FAILED, CANCELED).</summary>
public sealed class ExitTask : IRunnableTask
{
    public Task<TaskOutcome> RunAsync(RunContext context, CancellationToken cancellationToken)
    {
        var text = context.Render("state", "SUCCESS").Trim().ToUpperInvariant();
        var state = text switch
        {
            "SUCCESS" => State.Success,
            "WARNING" => State.Warning,
            "KILLED" => State.Killed,
            "FAILED" => State.Failed,
            "CANCELED" or "CANCELLED" => State.Cancelled,
            _ => throw new TaskPropertyException($"Invalid value for property 'state': '{text}' (expected SUCCESS, WARNING, KILLED, FAILED or CANCELED)"),
        };
        return Task.FromResult(new TaskOutcome { State = state is State.Warning ? State.Warning : State.Success, ExitExecution = state });
    }
}

/// <summary>
/// <c>io.kestra.plugin.core.execution.Resume</c>: resumes the PAUSED execution <c>executionId</c> (default: the current
/// one) with <c>inputs</c> as its <c>onResume</c> inputs. Fails when that execution is not paused.
/// </summary>
public sealed class ResumeTask : IRunnableTask
{
    public async Task<TaskOutcome> RunAsync(RunContext context, CancellationToken cancellationToken)
    {
        var control = context.Services.Executions ?? throw new TaskFailedException("Resuming an execution needs a runtime");
        var executionId = context.HasProperty("executionId") ? context.Render<string>("executionId") : context.TaskRun.ExecutionId;
        if (string.IsNullOrWhiteSpace(executionId))
        {
            throw new TaskPropertyException("Property 'executionId' must not be empty");
        }

        var inputs = context.HasProperty("inputs") ? context.RenderValue(context.RawProperty("inputs")) as IReadOnlyDictionary<string, object?> : null;
        try
        {
            await control.ResumeAsync(executionId, inputs, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidOperationException e)
        {
            throw new TaskFailedException(e.Message);
        }
        catch (ExecutionNotFoundException e)
        {
            throw new TaskFailedException(e.Message);
        }
        catch (Windhover.Engine.Inputs.InputValidationException e)
        {
            throw new TaskFailedException(e.Message);
        }

        context.Logger.Info($"Resumed execution {executionId}");
        return TaskOutcome.Success();
    }
}

/// <summary><c>io.kestra.plugin.core.execution.Labels</c>: merges <c>labels</c> (map or list of key/value) into the execution labels.</summary>
public sealed class LabelsTask : IRunnableTask
{
    public Task<TaskOutcome> RunAsync(RunContext context, CancellationToken cancellationToken)
    {
        var rendered = context.RenderValue(context.RawProperty("labels"));
        var labels = ImmutableArray.CreateBuilder<ExecutionLabel>();
        switch (rendered)
        {
            case IReadOnlyDictionary<string, object?> map:
                foreach (var (key, value) in map)
                {
                    labels.Add(new ExecutionLabel(key, ExpressionValues.ToText(value)));
                }

                break;
            case IReadOnlyList<object?> list:
                foreach (var item in list)
                {
                    if (item is IReadOnlyDictionary<string, object?> entry && entry.GetValueOrDefault("key") is { } key)
                    {
                        labels.Add(new ExecutionLabel(ExpressionValues.ToText(key), ExpressionValues.ToText(entry.GetValueOrDefault("value"))));
                    }
                }

                break;
            default:
                throw new TaskPropertyException("Property 'labels' must be a map or a list of key/value pairs");
        }

        foreach (var label in labels)
        {
            if (label.Key.StartsWith("system.", StringComparison.Ordinal))
            {
                throw new TaskPropertyException($"System labels can only be set by Kestra itself, offending label: {label.Key}={label.Value}");
            }
        }

        return Task.FromResult(new TaskOutcome { Labels = labels.ToImmutable() });
    }
}

/// <summary><c>io.kestra.plugin.core.flow.Sleep</c>: waits <c>duration</c> on the injected clock.</summary>
public sealed class SleepTask : IRunnableTask
{
    public async Task<TaskOutcome> RunAsync(RunContext context, CancellationToken cancellationToken)
    {
        var duration = context.RenderRequired<TimeSpan>("duration");
        context.Logger.Info("Waiting for " + Serialization.KestraJson.FormatDuration(duration));
        if (duration > TimeSpan.Zero)
        {
            await Task.Delay(duration, context.TimeProvider, cancellationToken).ConfigureAwait(false);
        }

        return TaskOutcome.Success();
    }
}

internal static class Text
{
    public static string Invariant(FormattableString value) => value.ToString(CultureInfo.InvariantCulture);
}

using System.Collections.Immutable;
using Windhover.Flows.Model;

namespace Windhover.Engine.Tests.Support;

/// <summary>Builds flow model records in code (the YAML parser lives elsewhere).</summary>
internal static class F
{
    public const string Return = "io.kestra.plugin.core.debug.Return";
    public const string Log = "io.kestra.plugin.core.log.Log";
    public const string Fail = "io.kestra.plugin.core.execution.Fail";
    public const string OutputValues = "io.kestra.plugin.core.output.OutputValues";
    public const string FlowNs = "io.kestra.plugin.core.flow.";

    public static Flow Of(params TaskDefinition[] tasks) => new() { Id = "test-flow", Namespace = "io.kestra.tests", Revision = 1, Tasks = [.. tasks] };

    public static TaskDefinition T(string id, string type, params (string Key, object? Value)[] properties) => new()
    {
        Id = id,
        Type = type,
        CanonicalType = type,
        Properties = properties.ToDictionary(p => p.Key, p => p.Value),
    };

    public static TaskDefinition Ret(string id, string format = "{{ task.id }}") => T(id, Return, ("format", format));

    public static TaskDefinition LogT(string id) => T(id, Log, ("message", "hello"));

    public static TaskDefinition FailT(string id) => T(id, Fail);

    public static TaskDefinition Flowable(string id, string kind, ImmutableArray<TaskDefinition> tasks, params (string Key, object? Value)[] properties) =>
        T(id, FlowNs + kind, [("tasks", tasks), .. properties]);

    public static TaskDefinition Seq(string id, params TaskDefinition[] tasks) => Flowable(id, "Sequential", [.. tasks]);

    public static TaskDefinition Par(string id, params TaskDefinition[] tasks) => Flowable(id, "Parallel", [.. tasks]);

    public static ImmutableArray<TaskDefinition> L(params TaskDefinition[] tasks) => [.. tasks];

    public static RetryDefinition Constant(TimeSpan interval, int? maxAttempt = null, TimeSpan? maxDuration = null, bool warningOnRetry = false,
        RetryBehavior behavior = RetryBehavior.RetryFailedTask) => new()
        {
            Kind = RetryKind.Constant,
            Interval = interval,
            MaxAttempt = maxAttempt,
            MaxDuration = maxDuration,
            WarningOnRetry = warningOnRetry,
            Behavior = behavior,
        };
}


namespace Windhover.Flows.TaskTypes;

/// <summary>Descriptors of Kestra's core plugin types (io.kestra.plugin.core.*) with their legacy aliases.</summary>
internal static class CoreTaskTypes
{
    private const PropertyKind Str = PropertyKind.String, Int = PropertyKind.Integer, Num = PropertyKind.Number,
        Bool = PropertyKind.Boolean, Dur = PropertyKind.Duration, Cron = PropertyKind.Cron, List = PropertyKind.List,
        Map = PropertyKind.Map, Tasks = PropertyKind.Tasks, TaskMap = PropertyKind.TaskMap, DagTasks = PropertyKind.DagTasks,
        Conditions = PropertyKind.Conditions, Plugin = PropertyKind.Plugin, Any = PropertyKind.Any;

    private const string Core = "io.kestra.plugin.core.";
    private const string Legacy = "io.kestra.core.tasks.";
    private const string LegacyTriggers = "io.kestra.core.models.triggers.types.";
    private const string LegacyConditions = "io.kestra.core.models.conditions.types.";

    private static readonly string[] LogLevels = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"];

    private static PropertyDescriptor P(string name, PropertyKind kind, bool required = false) => new(name, kind, required);
    private static PropertyDescriptor R(string name, PropertyKind kind) => new(name, kind, true);
    private static PropertyDescriptor E(string name, bool required, params string[] values) => PropertyDescriptor.Enum(name, required, values);
    private static PropertyDescriptor O(string name, params PropertyDescriptor[] properties) => PropertyDescriptor.Obj(name, properties);

    private static TaskTypeDescriptor T(string name, TaskKind kind, string[] aliases, params PropertyDescriptor[] properties) =>
        new() { Name = name, Kind = kind, Aliases = [.. aliases], Properties = [.. properties] };

    private static readonly PropertyDescriptor[] HttpProperties =
    [
        R("uri", Str),
        P("method", Str),
        P("body", Str | Map | List),
        P("formData", Map | Str),
        P("contentType", Str),
        P("headers", Map | Str),
        P("options", Map),
        P("sslOptions", Map),
        P("encryptBody", Bool),
        P("allowFailed", Bool),
        P("failOnEmptyResponse", Bool),
        P("allowedResponseCodes", List),
    ];

    private static readonly PropertyDescriptor[] SubflowCommon =
    [
        R("namespace", Str),
        R("flowId", Str),
        P("revision", Int),
        P("inputs", Map | Str),
        P("labels", Map | List | Str),
        P("wait", Bool),
        P("transmitFailed", Bool),
        P("inheritLabels", Bool),
        P("scheduleDate", Str),
        E("restartBehavior", false, "NEW_EXECUTION", "RETRY_FAILED"),
    ];

    private static readonly PropertyDescriptor DateProperty = P("date", Str);

    public static IEnumerable<TaskTypeDescriptor> All()
    {
        // ---- log / debug / output
        yield return T(Core + "log.Log", TaskKind.Runnable, [Legacy + "log.Log"],
            R("message", Str | List), E("level", false, LogLevels));
        yield return T(Core + "log.Fetch", TaskKind.Runnable, [Legacy + "log.Fetch"],
            P("namespace", Str), P("flowId", Str), P("executionId", Str), P("tasksId", List | Str), E("level", false, LogLevels));
        yield return T(Core + "log.PurgeLogs", TaskKind.Runnable, [],
            P("namespace", Str), P("flowId", Str), P("logLevels", List), P("startDate", Str), R("endDate", Str));
        yield return T(Core + "debug.Return", TaskKind.Runnable, [Legacy + "debug.Return"], P("format", Str));
        yield return T(Core + "debug.Echo", TaskKind.Runnable, [Legacy + "debug.Echo"], R("format", Str), E("level", false, LogLevels));
        yield return T(Core + "output.OutputValues", TaskKind.Runnable, [Legacy + "outputs.OutputValues"], P("values", Map | Str));
        yield return T(Core + "templating.TemplatedTask", TaskKind.Runnable, [Legacy + "templating.TemplatedTask"], R("spec", Str));

        // ---- flowable
        yield return T(Core + "flow.Switch", TaskKind.Flowable, [Legacy + "flows.Switch"],
            R("value", Str | Int | Num | Bool), P("cases", TaskMap), P("defaults", Tasks));
        yield return T(Core + "flow.If", TaskKind.Flowable, [Legacy + "flows.If"],
            R("condition", Str | Bool | Int | Num), R("then", Tasks), P("else", Tasks));
        yield return T(Core + "flow.Parallel", TaskKind.Flowable, [Legacy + "flows.Parallel"], R("tasks", Tasks), P("concurrent", Int));
        yield return T(Core + "flow.Sequential", TaskKind.Flowable, [Legacy + "flows.Sequential"], R("tasks", Tasks));
        yield return T(Core + "flow.ForEach", TaskKind.Flowable, [],
            R("values", Str | List | Map), P("concurrencyLimit", Int), R("tasks", Tasks));
        yield return T(Core + "flow.EachSequential", TaskKind.Flowable, [Legacy + "flows.EachSequential"],
            R("value", Str | List), R("tasks", Tasks));
        yield return T(Core + "flow.EachParallel", TaskKind.Flowable, [Legacy + "flows.EachParallel"],
            R("value", Str | List), R("tasks", Tasks), P("concurrent", Int));
        yield return T(Core + "flow.Dag", TaskKind.Flowable, [Legacy + "flows.Dag"], R("tasks", DagTasks), P("concurrent", Int));
        yield return T(Core + "flow.AllowFailure", TaskKind.Flowable, [Legacy + "flows.AllowFailure"], R("tasks", Tasks));
        yield return T(Core + "flow.Subflow", TaskKind.Executable, [Legacy + "flows.Subflow", Legacy + "flows.Flow", Core + "flow.Flow"],
            [.. SubflowCommon, P("outputs", Map)]);
        yield return T(Core + "flow.Pause", TaskKind.Flowable, [Legacy + "flows.Pause"],
            P("delay", Dur), P("pauseDuration", Dur), P("onResume", List), P("tasks", Tasks),
            E("behavior", false, "RESUME", "WARN", "FAIL", "CANCEL"));
        yield return T(Core + "flow.Sleep", TaskKind.Runnable, [Legacy + "flows.Sleep"], R("duration", Dur));
        yield return T(Core + "flow.WaitFor", TaskKind.Flowable, [],
            R("condition", Str | Bool),
            O("checkFrequency", P("maxIterations", Int), P("maxDuration", Dur), P("interval", Dur)),
            P("failOnMaxReached", Bool), R("tasks", Tasks));
        yield return T(Core + "flow.ForEachItem", TaskKind.Flowable, [Legacy + "flows.ForEachItem"],
            [
                R("items", Str),
                O("batch", P("rows", Int), P("bytes", Str), P("partitions", Int), P("separator", Str)),
                .. SubflowCommon,
            ]);
        yield return T(Core + "flow.WorkingDirectory", TaskKind.Flowable, [Legacy + "flows.WorkingDirectory", Legacy + "flows.Worker"],
            P("tasks", Tasks),
            O("cache", R("patterns", List), P("ttl", Dur)),
            P("inputFiles", Map | Str),
            P("namespaceFiles", Map),
            P("outputFiles", List));
        yield return T(Core + "flow.Template", TaskKind.Flowable, [Legacy + "flows.Template"],
            R("namespace", Str), R("templateId", Str), P("tenantId", Str), P("args", Map));

        // ---- execution
        yield return T(Core + "execution.Fail", TaskKind.Runnable, [Legacy + "executions.Fail"],
            P("condition", Str | Bool), P("errorMessage", Str));
        yield return T(Core + "execution.Exit", TaskKind.Runnable, [],
            E("state", false, "SUCCESS", "WARNING", "KILLED", "FAILED", "CANCELED"));
        yield return T(Core + "execution.Labels", TaskKind.Runnable, [Legacy + "executions.Labels"], R("labels", Map | List | Str));
        yield return T(Core + "execution.Resume", TaskKind.Runnable, [Legacy + "executions.Resume"],
            P("namespace", Str), P("flowId", Str), P("executionId", Str), P("inputs", Map | Str));
        yield return T(Core + "execution.Count", TaskKind.Runnable, [Legacy + "executions.Counts"],
            P("namespaces", List), P("flows", List), R("expression", Str), R("startDate", Str), P("endDate", Str), P("states", List));
        yield return T(Core + "execution.PurgeExecutions", TaskKind.Runnable, [Legacy + "storages.PurgeExecution"],
            P("namespace", Str), P("flowId", Str), P("startDate", Str), R("endDate", Str), P("states", List),
            P("purgeExecution", Bool), P("purgeLog", Bool), P("purgeMetric", Bool), P("purgeStorage", Bool));

        // ---- http
        yield return T(Core + "http.Request", TaskKind.Runnable, ["io.kestra.plugin.fs.http.Request"], HttpProperties);
        yield return T(Core + "http.Download", TaskKind.Runnable, ["io.kestra.plugin.fs.http.Download"], HttpProperties);

        // ---- key-value store
        yield return T(Core + "kv.Set", TaskKind.Runnable, [],
            P("namespace", Str), R("key", Str), R("value", Any), P("overwrite", Bool), P("ttl", Dur),
            E("kvType", false, "STRING", "NUMBER", "BOOLEAN", "DATETIME", "DATE", "DURATION", "JSON"));
        yield return T(Core + "kv.Get", TaskKind.Runnable, [], P("namespace", Str), R("key", Str), P("errorOnMissing", Bool));
        yield return T(Core + "kv.Delete", TaskKind.Runnable, [], P("namespace", Str), R("key", Str), P("errorOnMissing", Bool));
        yield return T(Core + "kv.GetKeys", TaskKind.Runnable, [], P("namespace", Str), P("prefix", Str));

        // ---- legacy state store
        PropertyDescriptor[] state = [P("name", Str), P("namespace", Bool), P("taskrunValue", Bool)];
        yield return T(Core + "state.Get", TaskKind.Runnable, [Legacy + "states.Get"], [.. state, P("errorOnMissing", Bool)]);
        yield return T(Core + "state.Set", TaskKind.Runnable, [Legacy + "states.Set"], [.. state, P("data", Map | Str)]);
        yield return T(Core + "state.Delete", TaskKind.Runnable, [Legacy + "states.Delete"], [.. state, P("errorOnMissing", Bool)]);

        // ---- storage
        yield return T(Core + "storage.LocalFiles", TaskKind.Runnable, [Legacy + "storages.LocalFiles", Legacy + "flows.LocalFiles"],
            P("inputs", Map | Str), P("outputs", List));
        yield return T(Core + "storage.Concat", TaskKind.Runnable, [Legacy + "storages.Concat"],
            R("files", List | Str), P("separator", Str), P("extension", Str));
        yield return T(Core + "storage.Delete", TaskKind.Runnable, [Legacy + "storages.Delete"], R("uri", Str), P("errorOnMissing", Bool));
        yield return T(Core + "storage.Size", TaskKind.Runnable, [Legacy + "storages.Size"], R("uri", Str));
        yield return T(Core + "storage.Split", TaskKind.Runnable, [Legacy + "storages.Split"],
            R("from", Str), P("bytes", Str), P("partitions", Int), P("rows", Int), P("separator", Str));
        yield return T(Core + "storage.Write", TaskKind.Runnable, [], R("content", Str), P("extension", Str));
        yield return T(Core + "storage.PurgeCurrentExecutionFiles", TaskKind.Runnable, [Legacy + "storages.PurgeCurrentExecutionFiles"]);
        yield return T(Core + "storage.DeduplicateItems", TaskKind.Runnable, [Legacy + "storages.DeduplicateItems"],
            R("from", Str), R("expr", Str));
        yield return T(Core + "storage.FilterItems", TaskKind.Runnable, [],
            R("from", Str), R("filterCondition", Str), E("filterType", false, "INCLUDE", "EXCLUDE"),
            E("errorOrNullBehavior", false, "FAIL", "INCLUDE", "EXCLUDE"));
        yield return T(Core + "storage.Reverse", TaskKind.Runnable, [Legacy + "storages.Reverse"], R("from", Str), P("separator", Str));

        // ---- namespace files
        yield return T(Core + "namespace.UploadFiles", TaskKind.Runnable, [],
            R("namespace", Str), R("files", List | Map | Str), P("destination", Str), E("conflict", false, "OVERWRITE", "ERROR", "SKIP"));
        yield return T(Core + "namespace.DownloadFiles", TaskKind.Runnable, [],
            R("namespace", Str), R("files", List | Str), P("destination", Str));
        yield return T(Core + "namespace.DeleteFiles", TaskKind.Runnable, [],
            R("namespace", Str), R("files", List | Str), P("deleteParentFolder", Bool));

        // ---- trigger toggling (a task)
        yield return T(Core + "trigger.Toggle", TaskKind.Runnable, [Legacy + "trigger.Toggle"],
            P("namespace", Str), P("flowId", Str), R("trigger", Str), P("enabled", Bool));

        // ---- task runners
        yield return T(Core + "runner.Process", TaskKind.TaskRunner, ["io.kestra.core.models.tasks.runners.types.ProcessTaskRunner"]);

        // ---- triggers
        yield return T(Core + "trigger.Schedule", TaskKind.Trigger, [LegacyTriggers + "Schedule"],
            R("cron", Cron), P("withSeconds", Bool), P("timezone", Str), P("inputs", Map),
            O("backfill", P("start", Str), P("end", Str), P("currentDate", Str), P("previousNextExecutionDate", Str), P("labels", Map | List)),
            E("recoverMissedSchedules", false, "LAST", "NONE", "ALL"),
            P("lateMaximumDelay", Dur), P("scheduleConditions", Conditions), P("labels", Map | List));
        yield return T(Core + "trigger.ScheduleOnDates", TaskKind.Trigger, [],
            R("dates", List | Str), P("timezone", Str), P("inputs", Map), E("recoverMissedSchedules", false, "LAST", "NONE", "ALL"),
            P("labels", Map | List));
        yield return T(Core + "trigger.Webhook", TaskKind.Trigger, [LegacyTriggers + "Webhook"],
            R("key", Str), P("wait", Bool), P("returnOutputs", Bool), P("inputs", Map), P("labels", Map | List));
        yield return T(Core + "trigger.Flow", TaskKind.Trigger, [LegacyTriggers + "Flow"],
            P("states", List), P("preconditions", Map), P("inputs", Map), P("labels", Map | List));

        // ---- conditions
        yield return T(Core + "condition.ExecutionStatus", TaskKind.Condition, [LegacyConditions + "ExecutionStatusCondition", Core + "condition.ExecutionStatusCondition"],
            P("in", List), P("notIn", List));
        yield return T(Core + "condition.ExecutionFlow", TaskKind.Condition, [LegacyConditions + "ExecutionFlowCondition", Core + "condition.ExecutionFlowCondition"],
            R("namespace", Str), R("flowId", Str));
        yield return T(Core + "condition.ExecutionNamespace", TaskKind.Condition, [LegacyConditions + "ExecutionNamespaceCondition", Core + "condition.ExecutionNamespaceCondition"],
            R("namespace", Str), E("comparison", false, "EQUALS", "PREFIX", "SUFFIX"), P("prefix", Bool));
        yield return T(Core + "condition.ExecutionLabels", TaskKind.Condition, [LegacyConditions + "ExecutionLabelsCondition", Core + "condition.ExecutionLabelsCondition"],
            R("labels", Map | List));
        yield return T(Core + "condition.ExecutionOutputs", TaskKind.Condition, [LegacyConditions + "ExecutionOutputsCondition", Core + "condition.ExecutionOutputsCondition"],
            R("expression", Str));
        yield return T(Core + "condition.Expression", TaskKind.Condition, [LegacyConditions + "VariableCondition", Core + "condition.ExpressionCondition"],
            R("expression", Str));
        yield return T(Core + "condition.MultipleCondition", TaskKind.Condition, [LegacyConditions + "MultipleCondition"],
            P("id", Str), P("window", Dur), P("windowAdvance", Dur), R("conditions", Conditions), P("resetOnSuccess", Bool),
            O("timeWindow", E("type", false, "DURATION_WINDOW", "SLIDING_WINDOW", "DAILY_TIME_DEADLINE", "DAILY_TIME_WINDOW"),
                P("window", Dur), P("windowAdvance", Dur), P("startTime", Str), P("endTime", Str), P("deadline", Str)));
        yield return T(Core + "condition.DayWeek", TaskKind.Condition, [LegacyConditions + "DayWeekCondition", Core + "condition.DayWeekCondition"],
            DateProperty, E("dayOfWeek", true, "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"));
        yield return T(Core + "condition.DayWeekInMonth", TaskKind.Condition, [LegacyConditions + "DayWeekInMonthCondition", Core + "condition.DayWeekInMonthCondition"],
            DateProperty, E("dayOfWeek", true, "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"),
            E("dayInMonth", true, "FIRST", "LAST", "SECOND", "THIRD", "FOURTH"));
        yield return T(Core + "condition.DateTimeBetween", TaskKind.Condition, [LegacyConditions + "DateTimeBetweenCondition", Core + "condition.DateTimeBetweenCondition"],
            DateProperty, P("after", Str), P("before", Str));
        yield return T(Core + "condition.TimeBetween", TaskKind.Condition, [LegacyConditions + "TimeBetweenCondition", Core + "condition.TimeBetweenCondition"],
            DateProperty, P("after", Str), P("before", Str));
        yield return T(Core + "condition.Weekend", TaskKind.Condition, [LegacyConditions + "WeekendCondition", Core + "condition.WeekendCondition"], DateProperty);
        yield return T(Core + "condition.PublicHoliday", TaskKind.Condition, [LegacyConditions + "PublicHolidayCondition", Core + "condition.PublicHolidayCondition"],
            DateProperty, P("country", Str), P("subDivision", Str));
        yield return T(Core + "condition.Not", TaskKind.Condition, [LegacyConditions + "NotCondition", Core + "condition.NotCondition"], R("conditions", Conditions));
        yield return T(Core + "condition.Or", TaskKind.Condition, [LegacyConditions + "OrCondition", Core + "condition.OrCondition"], R("conditions", Conditions));
        yield return T(Core + "condition.FlowCondition", TaskKind.Condition, [LegacyConditions + "FlowCondition"], R("namespace", Str), R("flowId", Str));
        yield return T(Core + "condition.FlowNamespaceCondition", TaskKind.Condition, [LegacyConditions + "FlowNamespaceCondition"],
            R("namespace", Str), P("prefix", Bool));
        yield return T(Core + "condition.HasRetryAttempt", TaskKind.Condition, [LegacyConditions + "HasRetryAttemptCondition", Core + "condition.HasRetryAttemptCondition"],
            P("in", List), P("notIn", List));
        yield return T(Core + "condition.ExecutionsWindow", TaskKind.Condition, [],
            P("window", Dur), P("windowAdvance", Dur), R("conditions", Conditions));

    }
}

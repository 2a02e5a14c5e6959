using Windhover.Flows.TaskTypes;
using Windhover.Flows.Yaml;
using static Windhover.Flows.TaskTypes.PropertyKind;

namespace Windhover.Flows.Tests;

/// <summary>
/// Descriptors of types that exist only on Kestra's test classpath (and an external plugin used by the corpus),
/// registered the way a plugin would, through <see cref="TaskTypeRegistry.Register"/>.
/// </summary>
internal static class TestPlugins
{
    public static TaskTypeRegistry Registry()
    {
        var registry = TaskTypeRegistry.CreateDefault();
        Register(registry);
        return registry;
    }

    public static void Register(TaskTypeRegistry registry)
    {
        static PropertyDescriptor P(string name, PropertyKind kind, bool required = false) => new(name, kind, required);
        void Add(string name, TaskKind kind, string[] aliases, params PropertyDescriptor[] properties) =>
            registry.Register(new TaskTypeDescriptor { Name = name, Kind = kind, Aliases = [.. aliases], Properties = [.. properties] });

        Add("io.kestra.core.tasks.test.Read", TaskKind.Runnable, [], P("path", PropertyKind.String, true));
        Add("io.kestra.core.tasks.test.Encrypted", TaskKind.Runnable, [], P("format", PropertyKind.String));
        Add("io.kestra.core.tasks.test.DynamicTask", TaskKind.Runnable, [], P("fail", PropertyKind.Boolean));
        Add("io.kestra.core.tasks.test.NullOutputTask", TaskKind.Runnable, []);
        Add("io.kestra.core.tasks.test.BadSequential", TaskKind.Flowable, [], P("tasks", Tasks, true));
        Add("io.kestra.core.tasks.test.BadExecutable", TaskKind.Executable, [],
            P("namespace", PropertyKind.String, true), P("flowId", PropertyKind.String, true), P("wait", PropertyKind.Boolean));
        Add("io.kestra.core.runners.test.TaskThatFail", TaskKind.Runnable, [], P("message", PropertyKind.String));
        Add("io.kestra.core.runners.test.TaskWithAlias", TaskKind.Runnable, ["io.kestra.core.runners.test.task.Alias"], P("message", PropertyKind.String));
        Add("io.kestra.core.runners.test.WorkerTaskResultTooLarge", TaskKind.Runnable, []);
        Add("io.kestra.core.runners.test.TriggerWithAlias", TaskKind.Trigger, ["io.kestra.core.runners.test.trigger.Alias"]);
        Add("io.kestra.plugin.fs.http.Trigger", TaskKind.Trigger, [],
            P("uri", PropertyKind.String, true), P("method", PropertyKind.String), P("headers", Map), P("body", PropertyKind.String),
            P("responseCondition", PropertyKind.String), P("interval", PropertyKind.Duration), P("encryptBody", PropertyKind.Boolean),
            P("contentType", PropertyKind.String), P("options", Map), P("formData", Map));
    }

    public static FlowParser Parser() => new(Registry());
}

/// <summary>Locates the shared conformance corpus: $WINDHOVER_CONFORMANCE_DIR, else ../shared/conformance beside the repo root.</summary>
internal static class Corpus
{
    public static string Directory
    {
        get
        {
            if (Environment.GetEnvironmentVariable("WINDHOVER_CONFORMANCE_DIR") is { Length: > 0 } env)
            {
                return env;
            }

            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Windhover.slnx")))
            {
                dir = dir.Parent;
            }

            if (dir is null)
            {
                throw new InvalidOperationException("Repository root (Windhover.slnx) not found above " + AppContext.BaseDirectory);
            }

            return Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "conformance"));
        }
    }

    public static string Flows => Path.Combine(Directory, "flows");

    public static string Invalids => Path.Combine(Directory, "invalids");

    public static string InvalidCases => Path.Combine(Directory, "invalid-cases.json");
}

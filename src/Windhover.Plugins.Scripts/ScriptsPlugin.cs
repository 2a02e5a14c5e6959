using Windhover.Engine.Tasks;
using Windhover.Flows.TaskTypes;

namespace Windhover.Plugins.Scripts;

/// <summary>Settings of the script task types.</summary>
public sealed record ScriptsPluginOptions
{
    public ProcessScriptRunnerOptions Runner { get; init; } = new();

    /// <summary>The Python interpreter; null: <c>python3</c> on PATH, resolved once through any version-manager shim.</summary>
    public string? PythonExecutable { get; init; }

    /// <summary>The Node.js executable; null: <c>node</c> on PATH, resolved once through any shim.</summary>
    public string? NodeExecutable { get; init; }

    /// <summary>How often log lines of a running script are written to the log store (default 250 ms).</summary>
    public TimeSpan LogFlushInterval { get; init; } = TimeSpan.FromMilliseconds(250);
}

/// <summary>
/// Kestra's script task types on the host (Process task runner): <c>io.kestra.plugin.scripts.{shell,python,node}.{Commands,Script}</c>
/// and the legacy <c>io.kestra.core.tasks.scripts.Bash</c>, plus the Docker task runner type (accepted; it falls back to
/// the host with a warning).
/// </summary>
public static class ScriptsPlugin
{
    public const string Shell = "io.kestra.plugin.scripts.shell.";
    public const string Python = "io.kestra.plugin.scripts.python.";
    public const string Node = "io.kestra.plugin.scripts.node.";
    public const string LegacyBash = "io.kestra.core.tasks.scripts.Bash";
    public const string DockerRunner = "io.kestra.plugin.scripts.runner.docker.Docker";

    private const PropertyKind Str = PropertyKind.String, Bool = PropertyKind.Boolean, List = PropertyKind.List, Map = PropertyKind.Map,
        Int = PropertyKind.Integer;

    /// <summary>Adds the validation descriptors to <paramref name="types"/> and the implementations to <paramref name="tasks"/>.</summary>
    public static void Register(TaskTypeRegistry types, TaskRegistry tasks, ScriptsPluginOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(types);
        ArgumentNullException.ThrowIfNull(tasks);
        options ??= new ScriptsPluginOptions();
        var runner = new ProcessScriptRunner(options.Runner);

        foreach (var descriptor in Descriptors())
        {
            types.Register(descriptor);
        }

        tasks.Register(Shell + "Commands", new ScriptRunnableTask(ScriptFlavor.ShellCommands, runner, options));
        tasks.Register(Shell + "Script", new ScriptRunnableTask(ScriptFlavor.ShellScript, runner, options));
        tasks.Register(Python + "Script", new ScriptRunnableTask(ScriptFlavor.PythonScript, runner, options));
        tasks.Register(Python + "Commands", new ScriptRunnableTask(ScriptFlavor.PythonCommands, runner, options));
        tasks.Register(Node + "Script", new ScriptRunnableTask(ScriptFlavor.NodeScript, runner, options));
        tasks.Register(Node + "Commands", new ScriptRunnableTask(ScriptFlavor.NodeCommands, runner, options));
        tasks.Register(LegacyBash, new ScriptRunnableTask(ScriptFlavor.LegacyBash, runner, options));
    }

    /// <summary>The descriptors registered by <see cref="Register"/>.</summary>
    public static IEnumerable<TaskTypeDescriptor> Descriptors()
    {
        PropertyDescriptor P(string name, PropertyKind kind, bool required = false) => new(name, kind, required);

        PropertyDescriptor[] common =
        [
            P("beforeCommands", List | Str),
            P("env", Map | Str),
            P("interpreter", List | Str),
            P("inputFiles", Map | Str),
            P("outputFiles", List | Str),
            P("namespaceFiles", Map),
            P("warningOnStdErr", Bool),
            P("failFast", Bool),
            P("containerImage", Str),
            P("taskRunner", PropertyKind.Plugin),
            P("docker", Map),
            PropertyDescriptor.Enum("runner", false, "PROCESS", "DOCKER"),
            PropertyDescriptor.Enum("targetOS", false, "LINUX", "WINDOWS", "AUTO"),
            P("outputDirectory", Bool),
        ];
        PropertyDescriptor[] python = [P("dependencies", List | Str), P("pythonVersion", Str), P("dependencyCacheEnabled", Bool)];

        TaskTypeDescriptor T(string name, string[] aliases, params PropertyDescriptor[] properties) =>
            new() { Name = name, Kind = TaskKind.Runnable, Aliases = [.. aliases], Properties = [.. common, .. properties] };

        yield return T(Shell + "Commands", [], P("commands", List | Str, true));
        yield return T(Shell + "Script", [], P("script", Str, true));
        yield return T(Python + "Script", [], [P("script", Str, true), .. python]);
        yield return T(Python + "Commands", [], [P("commands", List | Str, true), .. python]);
        yield return T(Node + "Script", [], P("script", Str, true));
        yield return T(Node + "Commands", [], P("commands", List | Str, true));
        yield return new TaskTypeDescriptor
        {
            Name = LegacyBash,
            Kind = TaskKind.Runnable,
            Properties =
            [
                P("commands", List | Str, true),
                P("interpreter", Str),
                P("interpreterArgs", List),
                P("exitOnFailed", Bool),
                P("inputFiles", Map | Str),
                P("outputFiles", List),
                P("outputsFiles", List),
                P("outputDirs", List),
                P("env", Map),
                P("warningOnStdErr", Bool),
                PropertyDescriptor.Enum("runner", false, "PROCESS", "DOCKER"),
                P("dockerOptions", Map),
                P("files", List),
            ],
        };
        yield return new TaskTypeDescriptor
        {
            Name = DockerRunner,
            Kind = TaskKind.TaskRunner,
            Aliases = ["io.kestra.plugin.scripts.runner.docker.DockerTaskRunner"],
            AllowUnknownProperties = true,
            Properties = [P("host", Str), P("config", Map | Str), P("pullPolicy", Str), P("volumes", List), P("cpu", Map), P("memory", Map),
                P("delete", Bool), P("wait", Bool), P("fileHandlingStrategy", Str), P("networkMode", Str), P("user", Str), P("shmSize", Str),
                P("privileged", Bool), P("entryPoint", List), P("extraHosts", List), P("deviceRequests", List), P("credentials", Map),
                P("killGracePeriod", PropertyKind.Duration), P("resume", Bool), P("portBindings", List), P("version", Int)],
        };
    }
}

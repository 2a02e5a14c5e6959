using Windhover.Engine.Tasks;
using Windhover.Flows.TaskTypes;
using Windhover.Flows.Yaml;
using Windhover.Plugins.Ai;
using Windhover.Plugins.Jdbc;
using Windhover.Plugins.Notifications;
using Windhover.Plugins.Scripts;

namespace Windhover.Cli.Hosting;

/// <summary>
/// The one place the hosts compose task types: Kestra's core types plus the scripts (shell, Python, Node), AI
/// (AIAgent, ChatCompletion), JDBC and notifications plugins. <see cref="TaskTypes"/> validates flows (through
/// <see cref="Parser"/>); <see cref="Tasks"/> runs them. <c>flow validate</c>, <c>flow run</c> and <c>server local</c>
/// all use <see cref="Default"/>, so a flow that validates also runs.
/// </summary>
public sealed class PluginCatalog
{
    private static readonly Lazy<PluginCatalog> DefaultCatalog = new(() => Create());

    private PluginCatalog(TaskTypeRegistry taskTypes, TaskRegistry tasks)
    {
        TaskTypes = taskTypes;
        Tasks = tasks;
        Parser = new FlowParser(taskTypes);
    }

    /// <summary>Core + every plugin with default options (shared by all commands of one process).</summary>
    public static PluginCatalog Default => DefaultCatalog.Value;

    /// <summary>Validation descriptors of every known task, trigger and provider type.</summary>
    public TaskTypeRegistry TaskTypes { get; }

    /// <summary>Implementations of every runnable task type.</summary>
    public TaskRegistry Tasks { get; }

    /// <summary>A flow parser that knows every type of <see cref="TaskTypes"/>.</summary>
    public FlowParser Parser { get; }

    /// <summary>A fresh catalog; options of null use each plugin's defaults.</summary>
    public static PluginCatalog Create(
        ScriptsPluginOptions? scripts = null,
        AiPluginOptions? ai = null,
        NotificationsPluginOptions? notifications = null)
    {
        var types = TaskTypeRegistry.CreateDefault();
        var tasks = TaskRegistry.CreateDefault();
        ScriptsPlugin.Register(types, tasks, scripts);
        AiPlugin.Register(types, tasks, ai);
        JdbcPlugin.Register(types, tasks);
        NotificationsPlugin.Register(types, tasks, notifications);
        return new PluginCatalog(types, tasks);
    }
}

using Windhover.Engine.Executions;
using Windhover.Engine.Executor;
using Windhover.Engine.Runtime;
using Windhover.Engine.Stores;
using Windhover.Engine.Tasks;
using Windhover.Flows.TaskTypes;
using Windhover.Flows.Yaml;

namespace Windhover.Plugins.Testing;

/// <summary>
/// Runs real flows on the real <see cref="LocalRuntime"/> (in-memory stores) with the core task types plus the ones a
/// plugin registers, and reads back executions and logs.
/// </summary>
internal sealed class FlowHarness : IAsyncDisposable
{
    private FlowHarness(TaskTypeRegistry types, TaskRegistry tasks, StoreSet stores, LocalRuntime runtime, string workRoot)
    {
        Types = types;
        Tasks = tasks;
        Stores = stores;
        Runtime = runtime;
        WorkRoot = workRoot;
    }

    public TaskTypeRegistry Types { get; }
    public TaskRegistry Tasks { get; }
    public StoreSet Stores { get; }
    public LocalRuntime Runtime { get; }
    public string WorkRoot { get; }

    public static async Task<FlowHarness> StartAsync(Action<TaskTypeRegistry, TaskRegistry> register, ISecretProvider? secrets = null)
    {
        var types = TaskTypeRegistry.CreateDefault();
        var tasks = TaskRegistry.CreateDefault();
        register(types, tasks);
        var stores = InMemoryStores.Create();
        var workRoot = Path.Combine(Path.GetTempPath(), "windhover-plugin-tests", Guid.NewGuid().ToString("N")[..12]);
        var runtime = new LocalRuntime(stores, new RuntimeOptions
        {
            Tasks = tasks,
            Secrets = secrets,
            WorkingDirectoryRoot = workRoot,
            Workers = 4,
            Recover = false,
        });
        await runtime.StartAsync();
        return new FlowHarness(types, tasks, stores, runtime, workRoot);
    }

    /// <summary>Parses and validates <paramref name="yaml"/> (failing on any problem) and saves it.</summary>
    public async Task<Windhover.Flows.Model.Flow> DeployAsync(string yaml)
    {
        var parsed = new FlowParser(Types).Parse(yaml);
        if (!parsed.IsValid)
        {
            throw new InvalidOperationException("Invalid flow: " + string.Join("; ", parsed.Problems.Select(p => p.ToDisplayString())));
        }

        await Stores.Flows.SaveAsync(parsed.Flow!);
        return parsed.Flow!;
    }

    /// <summary>Deploys <paramref name="yaml"/>, runs it and waits for the end (default 60 s).</summary>
    public async Task<Execution> RunAsync(string yaml, IReadOnlyDictionary<string, object?>? inputs = null, TimeSpan? timeout = null)
    {
        var flow = await DeployAsync(yaml);
        var created = await Runtime.CreateExecutionAsync(new ExecutionRequest { Namespace = flow.Namespace, FlowId = flow.Id, Inputs = inputs });
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        return await Runtime.WaitForTerminalAsync(created.Id, cts.Token);
    }

    public async Task<IReadOnlyList<LogEntry>> LogsAsync(string executionId, string? taskId = null) =>
        await Stores.Logs.FindAsync(executionId, taskId: taskId);

    public async Task<string> LogTextAsync(string executionId, string? taskId = null) =>
        string.Join("\n", (await LogsAsync(executionId, taskId)).Select(l => $"{l.Level.ToString().ToUpperInvariant()} {l.Message}"));

    public static TaskRun TaskRun(Execution execution, string taskId) =>
        execution.FindTaskRunByTaskId(taskId) ?? throw new InvalidOperationException($"No task run for '{taskId}' in {string.Join(", ", execution.TaskRunList.Select(t => t.TaskId))}");

    public static object? Output(Execution execution, string taskId, string name) =>
        TaskRun(execution, taskId).Outputs?.GetValueOrDefault(name);

    public async ValueTask DisposeAsync()
    {
        await Runtime.DisposeAsync();
        try
        {
            if (Directory.Exists(WorkRoot))
            {
                Directory.Delete(WorkRoot, recursive: true);
            }
        }
        catch (IOException)
        {
        }
    }
}

using Windhover.Engine.Executions;
using Windhover.Engine.Runtime;
using Windhover.Engine.Stores;
using Windhover.Flows.Model;
using Windhover.Flows.Yaml;

namespace Windhover.Storage.Sqlite.Tests;

/// <summary>A temporary folder with a SQLite database and a runtime over it.</summary>
internal sealed class RuntimeHost : IAsyncDisposable
{
    private RuntimeHost(string folder, SqliteDatabase database, LocalRuntime runtime)
    {
        Folder = folder;
        Database = database;
        Runtime = runtime;
    }

    public string Folder { get; }
    public SqliteDatabase Database { get; private set; }
    public LocalRuntime Runtime { get; private set; }
    public StoreSet Stores => Runtime.Stores;
    public List<Exception> Errors { get; } = [];

    public static string NewFolder()
    {
        var folder = Path.Combine(Path.GetTempPath(), "windhover-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        return folder;
    }

    public static async Task<RuntimeHost> StartAsync(RuntimeOptions? options = null, string? folder = null)
    {
        folder ??= NewFolder();
        var database = SqliteDatabase.Open(Path.Combine(folder, "windhover.db"), new SqliteStoreOptions { TimeProvider = options?.TimeProvider ?? TimeProvider.System });
        var runtime = new LocalRuntime(database.CreateStores(), (options ?? new RuntimeOptions()) with { WorkingDirectoryRoot = Path.Combine(folder, "work") });
        var host = new RuntimeHost(folder, database, runtime);
        runtime.BackgroundError += host.Errors.Add;
        await runtime.StartAsync();
        return host;
    }

    public async Task<Flow> DeployAsync(string yaml)
    {
        var result = FlowParser.Default.Parse(yaml);
        Assert.True(result.IsValid, string.Join("\n", result.Problems.Select(p => p.ToDisplayString())));
        return (await Stores.Flows.SaveAsync(result.Flow!)).Flow;
    }

    public async Task<Execution> RunAsync(string yaml, IReadOnlyDictionary<string, object?>? inputs = null, TimeSpan? timeout = null)
    {
        var flow = await DeployAsync(yaml);
        var created = await Runtime.CreateExecutionAsync(new ExecutionRequest { Namespace = flow.Namespace, FlowId = flow.Id, Inputs = inputs });
        return await WaitAsync(created.Id, timeout);
    }

    public async Task<Execution> WaitAsync(string executionId, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        return await Runtime.WaitForTerminalAsync(executionId, cts.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await Runtime.DisposeAsync();
        Database.Dispose();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

internal static class ExecutionAssertions
{
    public static TaskRun Run(this Execution execution, string taskId) => execution.TaskRunList.Single(t => t.TaskId == taskId);

    public static State StateOf(this Execution execution, string taskId) => execution.Run(taskId).State.Current;

    public static object? Output(this Execution execution, string taskId, string name) => execution.Run(taskId).Outputs?.GetValueOrDefault(name);
}

using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Windhover.Storage.Postgres.Tests;

/// <summary>
/// A real cluster node: the built <c>windhover</c> CLI (<c>dotnet windhover.dll server ROLE --db ...</c>) as a child
/// process on a free loopback port, killed with SIGKILL by <see cref="Kill"/>.
/// </summary>
internal sealed partial class NodeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private NodeProcess(Process process, string dataPath)
    {
        _process = process;
        DataPath = dataPath;
    }

    public int Pid => _process.Id;
    public string DataPath { get; }
    public Uri? Address { get; private set; }
    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(60) };
    public bool Exited => _process.HasExited;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    [GeneratedRegex(@"listening on (http://\S+)")]
    private static partial Regex Listening();

    /// <summary>WINDHOVER_CLI_DLL, or src/Windhover.Cli/bin/{configuration}/net10.0/windhover.dll of this repository (built before the tests).</summary>
    public static string CliDll()
    {
        if (Environment.GetEnvironmentVariable("WINDHOVER_CLI_DLL") is { Length: > 0 } configured)
        {
            return configured;
        }

        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Windhover.slnx")))
            {
                var dll = Path.Combine(dir.FullName, "src", "Windhover.Cli", "bin", configuration, "net10.0", "windhover.dll");
                Assert.True(File.Exists(dll), $"{dll} is missing: build src/Windhover.Cli");
                return dll;
            }
        }

        throw new InvalidOperationException("Repository root (Windhover.slnx) not found; set WINDHOVER_CLI_DLL");
    }

    public static async Task<NodeProcess> StartAsync(string role, string connectionString, params string[] extra)
    {
        var dataPath = Path.Combine(Path.GetTempPath(), "windhover-node-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(dataPath);
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { CliDll(), "server", role, "--db", connectionString, "--port", "0", "--data", dataPath }.Concat(extra))
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("cannot start dotnet");
        var node = new NodeProcess(process, dataPath);
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            node.Append(e.Data);
            if (Listening().Match(e.Data) is { Success: true } match)
            {
                listening.TrySetResult(new Uri(match.Groups[1].Value));
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                node.Append(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var exited = process.WaitForExitAsync();
        var first = await Task.WhenAny(listening.Task, exited, Task.Delay(TimeSpan.FromSeconds(120)));
        Assert.True(first == listening.Task, $"node {role} did not start:\n{node.Output}");
        node.Address = await listening.Task;
        node.Http.BaseAddress = node.Address;
        return node;
    }

    private void Append(string line)
    {
        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    /// <summary>SIGKILL: no shutdown code runs.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: false);
            _process.WaitForExit(10_000);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        await Task.CompletedTask;
        _process.Dispose();
        Http.Dispose();
        try
        {
            Directory.Delete(DataPath, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

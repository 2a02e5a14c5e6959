namespace Windhover.Plugins.Scripts.Tests;

/// <summary>How the script process starts: its own session (no extra exec), default signals, stdin at end of file, PATH.</summary>
public sealed class ProcessSpawnTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "windhover-spawn-tests", Guid.NewGuid().ToString("N"));
    private readonly ProcessScriptRunner _runner;

    public ProcessSpawnTests() => _runner = new ProcessScriptRunner(new ProcessScriptRunnerOptions { TempRoot = _root });

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task The_script_leads_its_own_session_and_process_group_without_a_setsid_exec()
    {
        // $$ is the shell the runner started; with posix_spawn its parent is this process (no setsid in between).
        var log = new LogSink();
        var result = await _runner.RunAsync(ScriptTasks.ShellCommands([
            "read -r stat < /proc/$$/stat; set -- ${stat##*) }; echo \"$2 $3 $4 $$\"",
        ]) with { Interpreter = ["/bin/bash", "-c"] }, log.Add);
        Assert.True(result.IsSuccess, result.ErrorMessage);
        var fields = log.Script.Single().Message.Split(' ').Select(int.Parse).ToArray();
        var (ppid, pgid, sid, pid) = (fields[0], fields[1], fields[2], fields[3]);
        Assert.Equal(pid, pgid);
        Assert.Equal(pid, sid);
        if (OperatingSystem.IsLinux())
        {
            Assert.Equal(Environment.ProcessId, ppid);
        }
    }

    [Fact]
    public async Task Signals_are_not_inherited_ignored_and_stdin_is_at_end_of_file()
    {
        var log = new LogSink();
        var result = await _runner.RunAsync(ScriptTasks.ShellCommands([
            "echo \"traps:[$(trap -p PIPE INT TERM)]\"",
            "if read -r line; then echo \"stdin:[$line]\"; else echo stdin:eof; fi",
        ]) with { Interpreter = ["/bin/bash", "-c"] }, log.Add);

        Assert.True(result.IsSuccess, result.ErrorMessage);
        Assert.Equal(["traps:[]", "stdin:eof"], log.Script.Select(l => l.Message));
    }

    [Fact]
    public async Task A_bare_program_name_is_found_in_the_script_environment_path()
    {
        var bin = Path.Combine(_root, "bin");
        Directory.CreateDirectory(bin);
        var tool = Path.Combine(bin, "windhover-test-tool");
        await File.WriteAllTextAsync(tool, "#!/bin/sh\necho tool ran in \"$PWD\"\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(tool, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        var log = new LogSink();
        var result = await _runner.RunAsync(new ScriptRequest
        {
            Interpreter = [],
            Commands = ["windhover-test-tool"],
            Env = new Dictionary<string, string> { ["PATH"] = bin + ":/usr/bin:/bin" },
        }, log.Add);

        Assert.True(result.IsSuccess, result.ErrorMessage);
        Assert.Equal($"tool ran in {result.Workspace.WorkingDirectory}", log.Script.Single().Message);

        var missing = await _runner.RunAsync(new ScriptRequest { Interpreter = [], Commands = ["windhover-no-such-program"] });
        Assert.False(missing.IsSuccess);
        Assert.Contains("Cannot start 'windhover-no-such-program'", missing.ErrorMessage, StringComparison.Ordinal);
    }
}

using System.Diagnostics;
using System.Text.Json;

namespace Windhover.Plugins.Scripts.Tests;

public sealed class ProcessScriptRunnerTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "windhover-scripts-tests", Guid.NewGuid().ToString("N"));
    private readonly ProcessScriptRunner _runner;

    public ProcessScriptRunnerTests() => _runner = new ProcessScriptRunner(new ProcessScriptRunnerOptions { TempRoot = _root });

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task Outputs_protocol_lines_are_merged_into_vars_and_not_logged()
    {
        var logs = new LogSink();
        var result = await _runner.RunAsync(ScriptTasks.ShellCommands([
            """echo '::{"outputs":{"count":3,"obj":{"a":"x"}}}::'""",
            "echo plain",
            """echo '::{"outputs":{"obj":{"b":2},"name":"kestra"}}::'""",
        ]), logs.Add);

        Assert.Equal(ScriptOutcome.Success, result.Outcome);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(3, result.Vars["count"].GetInt32());
        Assert.Equal("kestra", result.Vars["name"].GetString());
        Assert.Equal("x", result.Vars["obj"].GetProperty("a").GetString());
        Assert.Equal(2, result.Vars["obj"].GetProperty("b").GetInt32());
        Assert.Equal(["plain"], logs.Script.Select(l => l.Message));
    }

    [Fact]
    public async Task Output_files_matching_globs_and_the_output_dir_are_returned_and_readable()
    {
        var result = await _runner.RunAsync(ScriptTasks.ShellCommands([
            "echo report > report.txt",
            "mkdir -p data/deep && echo a,b > data/deep/rows.csv",
            "echo ignored > ignored.log",
            "echo from-output-dir > {{ outputDir }}/result.json",
            "echo env-dir > \"$OUTPUT_DIR/env.txt\"",
        ]) with { OutputFiles = ["*.txt", "**/*.csv"] });

        Assert.True(result.IsSuccess, result.ErrorMessage);
        Assert.Equal(["data/deep/rows.csv", "env.txt", "report.txt", "result.json"], result.OutputFiles.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("report\n", await File.ReadAllTextAsync(result.OutputFiles["report.txt"]));
        Assert.Equal("a,b\n", await File.ReadAllTextAsync(result.OutputFiles["data/deep/rows.csv"]));
        Assert.Equal("from-output-dir\n", await File.ReadAllTextAsync(result.OutputFiles["result.json"]));
        Assert.StartsWith(result.Workspace.WorkingDirectory, result.OutputFiles["report.txt"], StringComparison.Ordinal);

        result.Workspace.Dispose();
        Assert.False(Directory.Exists(result.Workspace.WorkingDirectory));
    }

    [Fact]
    public async Task Input_files_are_written_to_the_working_directory()
    {
        var logs = new LogSink();
        var request = ScriptTasks.ShellCommands(["cat data/in.txt", "cat top.txt"]).WithInputFiles(new Dictionary<string, string>
        {
            ["data/in.txt"] = "nested input\n",
            ["top.txt"] = "dir={{ workingDir }}",
        });
        var result = await _runner.RunAsync(request, logs.Add);

        Assert.True(result.IsSuccess, result.ErrorMessage);
        Assert.Equal(["nested input", "dir=" + result.Workspace.WorkingDirectory], logs.Script.Select(l => l.Message));
    }

    [Fact]
    public async Task Input_file_escaping_the_working_directory_is_refused()
    {
        var result = await _runner.RunAsync(ScriptTasks.ShellCommands(["true"])
            .WithInputFiles(new Dictionary<string, string> { ["../evil.txt"] = "x" }));

        Assert.Equal(ScriptOutcome.Failed, result.Outcome);
        Assert.Contains("outside the working directory", result.ErrorMessage);
    }

    [Fact]
    public async Task Env_is_passed_with_working_and_output_dirs()
    {
        var logs = new LogSink();
        var request = ScriptTasks.ShellCommands(["echo \"$GREETING $WHO\"", "echo \"$WORKING_DIR|$OUTPUT_DIR\"", "pwd"])
            .WithEnv(new Dictionary<string, string> { ["GREETING"] = "hello", ["WHO"] = "world" });
        var result = await _runner.RunAsync(request, logs.Add);

        Assert.True(result.IsSuccess, result.ErrorMessage);
        var ws = result.Workspace;
        Assert.Equal(["hello world", $"{ws.WorkingDirectory}|{ws.OutputDirectory}", ws.WorkingDirectory], logs.Script.Select(l => l.Message));
    }

    [Fact]
    public async Task Timeout_kills_the_whole_tree_including_a_sleeping_grandchild()
    {
        var logs = new LogSink();
        // runner -> sh -> sh -> sleep: the sleep is a grandchild of the started process.
        var request = ScriptTasks.ShellCommands(["sh -c 'sleep 300 & echo \"grandchild:$!\"; wait'"]) with { Timeout = TimeSpan.FromSeconds(1) };
        var sw = Stopwatch.StartNew();
        var result = await _runner.RunAsync(request, logs.Add);
        sw.Stop();

        var pid = logs.FindPid("grandchild:");
        Assert.Equal(ScriptOutcome.TimedOut, result.Outcome);
        Assert.False(result.IsSuccess);
        Assert.Contains("timed out", result.ErrorMessage);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"took {sw.Elapsed}");
        Assert.True(await Procs.WaitGoneAsync(pid, TimeSpan.FromSeconds(3)), $"grandchild {pid} still alive");
    }

    [Fact]
    public async Task Timeout_without_process_group_still_kills_the_tree()
    {
        var runner = new ProcessScriptRunner(new ProcessScriptRunnerOptions { TempRoot = _root, UseProcessGroup = false });
        var logs = new LogSink();
        var request = ScriptTasks.ShellCommands(["sh -c 'sleep 300 & echo \"grandchild:$!\"; wait'"]) with { Timeout = TimeSpan.FromSeconds(1) };
        var result = await runner.RunAsync(request, logs.Add);

        var pid = logs.FindPid("grandchild:");
        Assert.Equal(ScriptOutcome.TimedOut, result.Outcome);
        Assert.True(await Procs.WaitGoneAsync(pid, TimeSpan.FromSeconds(3)), $"grandchild {pid} still alive");
    }

    [Fact]
    public async Task Timeout_kills_an_orphaned_background_process_through_its_process_group()
    {
        var logs = new LogSink();
        // The subshell exits at once, so the sleep is re-parented and no longer in the tree: only the group finds it.
        var request = ScriptTasks.ShellCommands(["(sleep 300 & echo \"orphan:$!\")", "sleep 300"]) with { Timeout = TimeSpan.FromSeconds(1) };
        var result = await _runner.RunAsync(request, logs.Add);

        var pid = logs.FindPid("orphan:");
        Assert.Equal(ScriptOutcome.TimedOut, result.Outcome);
        Assert.True(await Procs.WaitGoneAsync(pid, TimeSpan.FromSeconds(3)), $"orphan {pid} still alive");
    }

    [Fact]
    public async Task A_background_child_left_running_does_not_keep_the_run_alive()
    {
        var logs = new LogSink();
        var sw = Stopwatch.StartNew();
        var result = await _runner.RunAsync(ScriptTasks.ShellCommands(["sleep 300 &", "echo \"bg:$!\""]), logs.Add);

        Assert.True(result.IsSuccess, result.ErrorMessage);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"took {sw.Elapsed}");
        Assert.True(await Procs.WaitGoneAsync(logs.FindPid("bg:"), TimeSpan.FromSeconds(3)));
    }

    [Fact]
    public async Task Cancellation_kills_the_tree_and_throws()
    {
        var logs = new LogSink();
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(700));
        var request = ScriptTasks.ShellCommands(["sh -c 'sleep 300 & echo \"grandchild:$!\"; wait'"]);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _runner.RunAsync(request, logs.Add, cts.Token));
        Assert.True(await Procs.WaitGoneAsync(logs.FindPid("grandchild:"), TimeSpan.FromSeconds(3)));
    }

    [Fact]
    public async Task Failing_script_reports_exit_code_and_last_stderr_lines()
    {
        var result = await _runner.RunAsync(ScriptTasks.ShellScript("""
            echo "working on it"
            echo "first problem" >&2
            echo "fatal: disk on fire" >&2
            exit 3
            """));

        Assert.Equal(ScriptOutcome.Failed, result.Outcome);
        Assert.Equal(3, result.ExitCode);
        Assert.Contains("exit code 3", result.ErrorMessage);
        Assert.Contains("first problem", result.ErrorMessage);
        Assert.Contains("fatal: disk on fire", result.ErrorMessage);
        Assert.DoesNotContain("working on it", result.ErrorMessage);
    }

    [Fact]
    public async Task Fail_fast_stops_at_the_first_failing_command_unless_disabled()
    {
        var logs = new LogSink();
        var failing = await _runner.RunAsync(ScriptTasks.ShellCommands(["false", "echo after"]), logs.Add);
        Assert.Equal(1, failing.ExitCode);
        Assert.Empty(logs.Script);

        var lenient = await _runner.RunAsync(ScriptTasks.ShellCommands(["false", "echo after"]) with { FailFast = false });
        Assert.Equal(ScriptOutcome.Success, lenient.Outcome);
    }

    [Fact]
    public async Task Logs_are_streamed_in_order_while_the_process_runs()
    {
        var logs = new LogSink();
        var result = await _runner.RunAsync(ScriptTasks.ShellCommands([
            "for i in 1 2 3 4 5; do echo line$i; done",
            "echo oops >&2",
            "sleep 1",
            "echo last",
        ]), logs.Add);

        Assert.Equal(ScriptOutcome.Warning, result.Outcome);
        var entries = logs.Entries.Where(e => e.Entry.Source != ScriptLogSource.Runner).ToList();
        Assert.Equal(["line1", "line2", "line3", "line4", "line5", "last"],
            entries.Where(e => e.Entry.Source == ScriptLogSource.StdOut).Select(e => e.Entry.Message));
        Assert.All(entries.Where(e => e.Entry.Source == ScriptLogSource.StdOut), e => Assert.Equal(ScriptLogLevel.Info, e.Entry.Level));
        var oops = Assert.Single(entries, e => e.Entry.Source == ScriptLogSource.StdErr);
        Assert.Equal(ScriptLogLevel.Warn, oops.Entry.Level);
        Assert.Equal("oops", oops.Entry.Message);
        var first = entries.First(e => e.Entry.Message == "line1").At;
        var last = entries.First(e => e.Entry.Message == "last").At;
        Assert.True(last - first > TimeSpan.FromMilliseconds(500), $"line1 at {first}, last at {last}: not streamed");
    }

    [Fact]
    public async Task Stderr_gives_success_when_warning_on_stderr_is_off()
    {
        var result = await _runner.RunAsync(ScriptTasks.ShellCommands(["echo note >&2"]) with { WarningOnStdErr = false });
        Assert.Equal(ScriptOutcome.Success, result.Outcome);
        Assert.True(result.StdErrWritten);
    }

    [Fact]
    public async Task Logs_protocol_is_honoured_with_levels_and_metrics()
    {
        var logs = new LogSink();
        var result = await _runner.RunAsync(ScriptTasks.ShellCommands([
            "echo before",
            """echo '::{"logs":[{"level":"DEBUG","message":"dbg msg"},{"level":"ERROR","message":"err msg"}]}::'""",
            """echo '::{"metrics":[{"name":"rows","type":"counter","value":42,"tags":{"table":"t"}}]}::'""",
            "echo after",
        ]), logs.Add);

        Assert.True(result.IsSuccess, result.ErrorMessage);
        Assert.Equal(
            [(ScriptLogLevel.Info, "before", ScriptLogSource.StdOut), (ScriptLogLevel.Debug, "dbg msg", ScriptLogSource.Protocol),
             (ScriptLogLevel.Error, "err msg", ScriptLogSource.Protocol), (ScriptLogLevel.Info, "after", ScriptLogSource.StdOut)],
            logs.Script.Select(l => (l.Level, l.Message, l.Source)));
        var metric = Assert.Single(result.Metrics);
        Assert.Equal(("rows", "counter", 42d, "t"), (metric.Name, metric.Type, metric.Value, metric.Tags["table"]));
    }

    [Fact]
    public async Task Windmill_fibo_python_script_returns_its_result()
    {
        const string script = """
            import json

            def fibo(n: int):
                if n <= 1:
                    return n
                else:
                    return fibo(n - 1) + fibo(n - 2)

            def main(n: int = 10):
                return fibo(n)

            result = main(10)
            print(f"fibo(10) = {result}")
            print("::" + json.dumps({"outputs": {"result": result}}) + "::")
            """;
        var logs = new LogSink();
        var result = await _runner.RunAsync(ScriptTasks.PythonScript(script), logs.Add);

        Assert.Equal(ScriptOutcome.Success, result.Outcome);
        Assert.Equal(55, result.Vars["result"].GetInt32());
        Assert.Equal(["fibo(10) = 55"], logs.Script.Select(l => l.Message));
    }

    [Fact]
    public async Task Python_script_with_before_commands_and_python_commands()
    {
        var logs = new LogSink();
        var script = await _runner.RunAsync(ScriptTasks.PythonScript("import os; print(os.environ['STEP'])", ["export STEP=prepared", "echo setup"]), logs.Add);
        Assert.True(script.IsSuccess, script.ErrorMessage);
        Assert.Equal(["setup", "prepared"], logs.Script.Select(l => l.Message));

        var commands = await _runner.RunAsync(ScriptTasks.PythonCommands(["python3 -c 'import json; print(\"::\" + json.dumps({\"outputs\": {\"v\": [1, 2]}}) + \"::\")'"]));
        Assert.True(commands.IsSuccess, commands.ErrorMessage);
        Assert.Equal(JsonValueKind.Array, commands.Vars["v"].ValueKind);
    }

    [Fact]
    public async Task Node_script_and_commands_run()
    {
        var logs = new LogSink();
        var script = await _runner.RunAsync(ScriptTasks.NodeScript("""
            console.log("hello from node");
            console.error("careful");
            console.log("::" + JSON.stringify({ outputs: { sum: [1, 2, 3].reduce((a, b) => a + b, 0) } }) + "::");
            """), logs.Add);
        Assert.Equal(ScriptOutcome.Warning, script.Outcome);
        Assert.Equal(6, script.Vars["sum"].GetInt32());
        Assert.Contains(logs.Script, l => l is { Message: "hello from node", Level: ScriptLogLevel.Info });
        Assert.Contains(logs.Script, l => l is { Message: "careful", Level: ScriptLogLevel.Warn });

        var commands = await _runner.RunAsync(ScriptTasks.NodeCommands(["node -e 'process.exit(4)'"]));
        Assert.Equal(4, commands.ExitCode);
    }

    [Fact]
    public async Task Docker_runner_without_a_docker_engine_falls_back_to_process_with_a_warning()
    {
        var runner = new ProcessScriptRunner(new ProcessScriptRunnerOptions { TempRoot = _root, DockerSocketPath = Path.Combine(_root, "no-docker.sock") });
        var logs = new LogSink();
        var sw = Stopwatch.StartNew();
        var result = await runner.RunAsync(ScriptTasks.ShellCommands(["echo ran"]) with
        {
            TaskRunner = ScriptTaskRunnerKind.Docker,
            ContainerImage = "ubuntu:24.04",
        }, logs.Add);

        Assert.True(result.IsSuccess, result.ErrorMessage);
        Assert.Equal(ScriptTaskRunnerKind.Process, result.TaskRunner);
        var warning = Assert.Single(logs.Entries, e => e.Entry.Source == ScriptLogSource.Runner && e.Entry.Level == ScriptLogLevel.Warn).Entry;
        Assert.Contains("no Docker engine answers", warning.Message);
        Assert.Contains("ubuntu:24.04", warning.Message);
        Assert.Contains(logs.Script, l => l.Message == "ran");
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task Docker_probe_answers_false_for_a_socket_file_nobody_listens_on()
    {
        Directory.CreateDirectory(_root);
        var path = Path.Combine(_root, "dead.sock");
        using (var s = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified))
        {
            s.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(path));
        }
        Assert.False(await DockerProbe.IsAvailableAsync(path));
        Assert.False(await DockerProbe.IsAvailableAsync(Path.Combine(_root, "missing.sock")));
    }

    [Fact]
    public async Task A_throwing_log_callback_does_not_block_the_process_and_is_reported()
    {
        // 200k lines would fill the pipe many times over if nobody kept reading it.
        var request = ScriptTasks.ShellCommands(["seq 1 200000"]);
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => _runner.RunAsync(request, _ => throw new FormatException("sink broke")));
        Assert.Contains("sink broke", e.Message);
    }

    [Fact]
    public async Task Missing_program_gives_a_failed_result()
    {
        var result = await _runner.RunAsync(new ScriptRequest { Interpreter = [], Commands = ["/nonexistent/program"] });
        Assert.Equal(ScriptOutcome.Failed, result.Outcome);
        Assert.NotNull(result.ErrorMessage);
    }
}

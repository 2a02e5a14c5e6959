using System.Diagnostics;
using Windhover.Engine.Executions;
using Windhover.Engine.Executor;
using Windhover.Engine.Runtime;
using Windhover.Plugins.Testing;

namespace Windhover.Plugins.Scripts.Tests;

/// <summary>Script task types run through real flows on the runtime, with real bash, python3 and node.</summary>
public sealed class ScriptFlowTests : IAsyncLifetime
{
    private FlowHarness _h = null!;

    public async Task InitializeAsync() =>
        _h = await FlowHarness.StartAsync((types, tasks) => ScriptsPlugin.Register(types, tasks),
            new EnvironmentSecretProvider(new Dictionary<string, string> { ["WINDHOVER_SECRET_API_TOKEN"] = "s3cr3t-value-42" }));

    public async Task DisposeAsync() => await _h.DisposeAsync();

    [Fact]
    public async Task Bash_commands_vars_env_and_output_files_read_by_a_later_task()
    {
        var execution = await _h.RunAsync("""
            id: bash-flow
            namespace: test.scripts
            tasks:
              - id: t1
                type: io.kestra.plugin.scripts.shell.Commands
                taskRunner:
                  type: io.kestra.plugin.core.runner.Process
                env:
                  GREETING: "hello {{ flow.id }}"
                commands:
                  - echo "$GREETING"
                  - echo "from bash" > out.txt
                  - echo "in outputDir" > {{ outputDir }}/second.txt
                  - echo '::{"outputs":{"answer":42,"nested":{"ok":true}}}::'
                outputFiles:
                  - "*.txt"
              - id: t2
                type: io.kestra.plugin.core.debug.Return
                format: "{{ read(outputs.t1.outputFiles['out.txt']) | trim }}/{{ read(outputs.t1.outputFiles['second.txt']) | trim }}/{{ outputs.t1.vars.answer }}/{{ outputs.t1.vars.nested.ok }}"
            """);

        Assert.Equal(State.Success, execution.State.Current);
        Assert.Equal(0L, FlowHarness.Output(execution, "t1", "exitCode"));
        Assert.Equal("from bash/in outputDir/42/true", FlowHarness.Output(execution, "t2", "value"));
        var logs = await _h.LogsAsync(execution.Id, "t1");
        Assert.Contains(logs, l => l.Level == ExecutorLogLevel.Info && l.Message == "hello bash-flow");
        Assert.DoesNotContain(logs, l => l.Level >= ExecutorLogLevel.Info && l.Message.Contains("::{", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Input_files_take_content_and_internal_storage_uris()
    {
        var execution = await _h.RunAsync("""
            id: input-files
            namespace: test.scripts
            tasks:
              - id: produce
                type: io.kestra.plugin.scripts.shell.Commands
                commands:
                  - printf 'stored line' > data.csv
                outputFiles: [data.csv]
              - id: consume
                type: io.kestra.plugin.scripts.python.Script
                inputFiles:
                  config.json: '{"factor": 3}'
                  data.csv: "{{ outputs.produce.outputFiles['data.csv'] }}"
                script: |
                  import json
                  factor = json.load(open("config.json"))["factor"]
                  data = open("data.csv").read()
                  print('::' + json.dumps({"outputs": {"factor": factor, "data": data}}) + '::')
            """);

        Assert.Equal(State.Success, execution.State.Current);
        var vars = Assert.IsAssignableFrom<IReadOnlyDictionary<string, object?>>(FlowHarness.Output(execution, "consume", "vars"));
        Assert.Equal(3L, vars["factor"]);
        Assert.Equal("stored line", vars["data"]);
    }

    [Fact]
    public async Task Python_script_outputs_vars_and_files_and_logs_streams()
    {
        var execution = await _h.RunAsync("""
            id: python-flow
            namespace: test.scripts
            tasks:
              - id: py
                type: io.kestra.plugin.scripts.python.Script
                warningOnStdErr: false
                script: |
                  import json, sys
                  print("value is {{ 20 + 1 }}")
                  print("careful", file=sys.stderr)
                  with open("{{ outputDir }}/result.json", "w") as f:
                      json.dump({"n": 7}, f)
                  print('::{"outputs":{"n":7,"list":[1,2]}}::')
                  print('::{"logs":[{"level":"ERROR","message":"custom error line"}]}::')
              - id: check
                type: io.kestra.plugin.core.debug.Return
                format: "{{ read(outputs.py.outputFiles['result.json']) }}|{{ outputs.py.vars.list | length }}"
            """);

        Assert.Equal(State.Success, execution.State.Current);
        Assert.Equal("""{"n": 7}|2""", FlowHarness.Output(execution, "check", "value"));
        var logs = await _h.LogsAsync(execution.Id, "py");
        Assert.Contains(logs, l => l.Level == ExecutorLogLevel.Info && l.Message == "value is 21");
        Assert.Contains(logs, l => l.Level == ExecutorLogLevel.Warn && l.Message == "careful");
        Assert.Contains(logs, l => l.Level == ExecutorLogLevel.Error && l.Message == "custom error line");
    }

    [Fact]
    public async Task Stderr_output_gives_a_warning_by_default()
    {
        var execution = await _h.RunAsync("""
            id: stderr-warning
            namespace: test.scripts
            tasks:
              - id: warn
                type: io.kestra.plugin.scripts.shell.Script
                script: |
                  echo "to stderr" >&2
            """);

        Assert.Equal(State.Warning, FlowHarness.TaskRun(execution, "warn").State.Current);
    }

    [Fact]
    public async Task Node_script_and_commands()
    {
        var execution = await _h.RunAsync("""
            id: node-flow
            namespace: test.scripts
            tasks:
              - id: script
                type: io.kestra.plugin.scripts.node.Script
                script: |
                  const fs = require('fs');
                  fs.writeFileSync(process.env.OUTPUT_DIR + '/n.txt', 'node file');
                  console.log('::' + JSON.stringify({outputs: {sum: [1, 2, 3].reduce((a, b) => a + b)}}) + '::');
              - id: commands
                type: io.kestra.plugin.scripts.node.Commands
                inputFiles:
                  main.js: |
                    console.log('args ' + process.argv.slice(2).join(','));
                commands:
                  - node main.js {{ outputs.script.vars.sum }} x
              - id: check
                type: io.kestra.plugin.core.debug.Return
                format: "{{ read(outputs.script.outputFiles['n.txt']) }}"
            """);

        Assert.Equal(State.Success, execution.State.Current);
        Assert.Equal(6L, ((IReadOnlyDictionary<string, object?>)FlowHarness.Output(execution, "script", "vars")!)["sum"]);
        Assert.Equal("node file", FlowHarness.Output(execution, "check", "value"));
        Assert.Contains(await _h.LogsAsync(execution.Id, "commands"), l => l.Message == "args 6,x");
    }

    [Fact]
    public async Task Failing_script_fails_the_task_with_exit_code_and_stderr()
    {
        var execution = await _h.RunAsync("""
            id: failing
            namespace: test.scripts
            tasks:
              - id: fail
                type: io.kestra.plugin.scripts.python.Script
                script: |
                  import sys
                  print("about to fail")
                  print("the database is on fire", file=sys.stderr)
                  sys.exit(3)
              - id: never
                type: io.kestra.plugin.core.log.Log
                message: not reached
            """);

        Assert.Equal(State.Failed, execution.State.Current);
        Assert.Equal(State.Failed, FlowHarness.TaskRun(execution, "fail").State.Current);
        Assert.Null(execution.FindTaskRunByTaskId("never"));
        var errors = (await _h.LogsAsync(execution.Id, "fail")).Where(l => l.Level == ExecutorLogLevel.Error).ToList();
        var error = Assert.Single(errors);
        Assert.Contains("exit code 3", error.Message, StringComparison.Ordinal);
        Assert.Contains("the database is on fire", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Timeout_kills_the_script_and_its_sleeping_child()
    {
        var pidFile = Path.Combine(Path.GetTempPath(), $"windhover-child-{Guid.NewGuid():N}.pid");
        try
        {
            var sw = Stopwatch.StartNew();
            var execution = await _h.RunAsync($$"""
                id: timeout
                namespace: test.scripts
                tasks:
                  - id: slow
                    type: io.kestra.plugin.scripts.shell.Commands
                    timeout: PT1S
                    commands:
                      - sleep 60 &
                      - echo $! > {{pidFile}}
                      - wait
                """);
            sw.Stop();

            Assert.Equal(State.Failed, execution.State.Current);
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(20), $"took {sw.Elapsed}");
            var pid = int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(await Procs.WaitGoneAsync(pid, TimeSpan.FromSeconds(5)), $"child {pid} still alive");
            Assert.Contains(await _h.LogsAsync(execution.Id, "slow"), l => l.Level == ExecutorLogLevel.Error && l.Message.Contains("Timeout", StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(pidFile);
        }
    }

    [Fact]
    public async Task Kill_stops_the_process_tree()
    {
        var pidFile = Path.Combine(Path.GetTempPath(), $"windhover-kill-{Guid.NewGuid():N}.pid");
        try
        {
            var flow = await _h.DeployAsync($$"""
                id: killable
                namespace: test.scripts
                tasks:
                  - id: slow
                    type: io.kestra.plugin.scripts.shell.Commands
                    commands:
                      - sleep 60 &
                      - echo $! > {{pidFile}}
                      - wait
                """);
            var created = await _h.Runtime.CreateExecutionAsync(new ExecutionRequest { Namespace = flow.Namespace, FlowId = flow.Id });
            var deadline = Stopwatch.StartNew();
            while (!File.Exists(pidFile) || new FileInfo(pidFile).Length == 0)
            {
                Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(20), "script did not start");
                await Task.Delay(20);
            }

            var pid = int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
            await _h.Runtime.KillAsync(created.Id);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            var execution = await _h.Runtime.WaitForTerminalAsync(created.Id, cts.Token);
            Assert.Equal(State.Killed, execution.State.Current);
            Assert.True(await Procs.WaitGoneAsync(pid, TimeSpan.FromSeconds(5)), $"child {pid} still alive");
        }
        finally
        {
            File.Delete(pidFile);
        }
    }

    [Fact]
    public async Task Logs_reach_the_store_while_the_script_runs()
    {
        var flow = await _h.DeployAsync("""
            id: streaming
            namespace: test.scripts
            tasks:
              - id: stream
                type: io.kestra.plugin.scripts.shell.Commands
                commands:
                  - echo first line
                  - sleep 3
                  - echo last line
            """);
        var created = await _h.Runtime.CreateExecutionAsync(new ExecutionRequest { Namespace = flow.Namespace, FlowId = flow.Id });
        var sw = Stopwatch.StartNew();
        while (!(await _h.LogsAsync(created.Id)).Any(l => l.Message == "first line"))
        {
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), "the first line never reached the log store");
            await Task.Delay(20);
        }

        var current = await _h.Stores.Executions.GetAsync(created.Id);
        Assert.False(current!.State.Current.IsTerminal(), "the first line should be visible while the script still runs");
        var done = await _h.Runtime.WaitForTerminalAsync(created.Id);
        Assert.Equal(State.Success, done.State.Current);
        Assert.Contains(await _h.LogsAsync(created.Id), l => l.Message == "last line");
    }

    [Fact]
    public async Task Secrets_in_env_are_masked_in_logs()
    {
        var execution = await _h.RunAsync("""
            id: secrets
            namespace: test.scripts
            tasks:
              - id: leak
                type: io.kestra.plugin.scripts.shell.Commands
                env:
                  TOKEN: "{{ secret('API_TOKEN') }}"
                commands:
                  - echo "token=$TOKEN"
                  - '[ "$TOKEN" = "s3cr3t-value-42" ] && echo matches'
            """);

        Assert.Equal(State.Success, execution.State.Current);
        var text = await _h.LogTextAsync(execution.Id, "leak");
        Assert.Contains("token=******", text, StringComparison.Ordinal);
        Assert.Contains("matches", text, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t-value-42", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Docker_runner_without_docker_falls_back_to_process_with_a_warning()
    {
        var execution = await _h.RunAsync("""
            id: docker-fallback
            namespace: test.scripts
            tasks:
              - id: py
                type: io.kestra.plugin.scripts.python.Commands
                containerImage: python:3.12-slim
                taskRunner:
                  type: io.kestra.plugin.scripts.runner.docker.Docker
                  pullPolicy: IF_NOT_PRESENT
                namespaceFiles:
                  enabled: true
                beforeCommands:
                  - export X=5
                commands:
                  - python3 -c "import os; print('x=' + os.environ['X'])"
            """);

        Assert.Equal(State.Success, execution.State.Current);
        var logs = await _h.LogsAsync(execution.Id, "py");
        Assert.Contains(logs, l => l.Level == ExecutorLogLevel.Warn && l.Message.Contains("Docker task runner", StringComparison.Ordinal));
        Assert.Contains(logs, l => l.Message == "x=5");
    }

    [Fact]
    public async Task Legacy_bash_type_runs()
    {
        var execution = await _h.RunAsync("""
            id: legacy
            namespace: test.scripts
            tasks:
              - id: bash
                type: io.kestra.core.tasks.scripts.Bash
                commands:
                  - echo "legacy $((1 + 2))"
            """);

        Assert.Equal(State.Success, execution.State.Current);
        Assert.Contains(await _h.LogsAsync(execution.Id, "bash"), l => l.Message == "legacy 3");
    }

    [Fact]
    public void Unknown_property_is_rejected_by_validation()
    {
        var e = Assert.Throws<InvalidOperationException>(() => _h.DeployAsync("""
            id: bad
            namespace: test.scripts
            tasks:
              - id: py
                type: io.kestra.plugin.scripts.python.Script
                script: print(1)
                scriptz: nope
            """).GetAwaiter().GetResult());
        Assert.Contains("scriptz", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Windmill_benchmark_flow_runs_unchanged()
    {
        var execution = await _h.RunAsync(Windhover.Benchmarks.WindmillBenchmarkFlow.Yaml, new Dictionary<string, object?> { ["iters"] = "6", ["n"] = "12" }, TimeSpan.FromSeconds(120));

        Assert.Equal(State.Success, execution.State.Current);
        var runs = execution.TaskRunList.Where(t => t.TaskId == "python").ToList();
        Assert.Equal(6, runs.Count); // Pebble's range is inclusive: range(0, iters - 1) has iters values
        foreach (var run in runs)
        {
            Assert.Equal(State.Success, run.State.Current);
            Assert.Contains(run.State.Histories, h => h.State == State.Running);
            Assert.True(run.State.Duration > TimeSpan.Zero);
        }

        Assert.Contains(await _h.LogsAsync(execution.Id, "python"), l => l.Message == "144");
    }
}

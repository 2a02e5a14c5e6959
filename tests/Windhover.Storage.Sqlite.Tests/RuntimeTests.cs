using Windhover.Engine.Executions;

namespace Windhover.Storage.Sqlite.Tests;

public sealed class RuntimeTests
{
    [Fact]
    public async Task Sequential_flow_runs_to_success_with_outputs()
    {
        await using var host = await RuntimeHost.StartAsync();
        var execution = await host.RunAsync("""
            id: hello
            namespace: company.team
            inputs:
              - id: name
                type: STRING
                defaults: world
            tasks:
              - id: log
                type: io.kestra.plugin.core.log.Log
                message: "Hello {{ inputs.name }}"
              - id: ret
                type: io.kestra.plugin.core.debug.Return
                format: "{{ inputs.name | upper }}"
              - id: out
                type: io.kestra.plugin.core.output.OutputValues
                values:
                  greeting: "{{ outputs.ret.value }}!"
            outputs:
              - id: final
                type: STRING
                value: "{{ outputs.out.values.greeting }}"
            """);
        Assert.Equal(State.Success, execution.State.Current);
        Assert.Equal("WORLD", execution.Output("ret", "value"));
        Assert.Equal("WORLD!", execution.Outputs?["final"]);
        var logs = await host.Stores.Logs.FindAsync(execution.Id, taskId: "log");
        Assert.Contains(logs, l => l.Message == "Hello world");
        var reloaded = await host.Stores.Executions.GetAsync(execution.Id);
        Assert.Equal(execution.TaskRunList.Length, reloaded!.TaskRunList.Length);
        Assert.Equal(State.Success, reloaded.State.Current);
        Assert.Empty(host.Errors);
    }
}

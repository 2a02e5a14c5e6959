using System.Text.Json.Nodes;
using Windhover.Engine.Triggers;

namespace Windhover.Server.Tests;

/// <summary>Schedule and Flow triggers hosted by the server on the real runtime; trigger state in the API.</summary>
public sealed class TriggerServerTests
{
    private static async Task<PagedResultsOf> WaitForExecutionsAsync(ServerHarness server, string flowId, int count)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            var found = await server.Client.SearchExecutionsAsync("company.team", flowId, size: 100, cancellationToken: cts.Token);
            if (found.Results.Count >= count)
            {
                return new PagedResultsOf(found.Results);
            }

            await Task.Delay(100, cts.Token);
        }
    }

    private sealed record PagedResultsOf(IReadOnlyList<Windhover.Client.ExecutionInfo> Results);

    [Fact]
    public async Task Schedule_fires_on_the_server_and_the_trigger_list_shows_its_state()
    {
        await using var server = await ServerHarness.StartAsync(realRuntime: true);
        await server.Client.CreateFlowAsync("""
            id: ticking
            namespace: company.team
            tasks:
              - id: log
                type: io.kestra.plugin.core.log.Log
                message: "{{ trigger.date }}"
            triggers:
              - id: every_second
                type: io.kestra.plugin.core.trigger.Schedule
                cron: "* * * * * *"
                withSeconds: true
            """);
        var executions = await WaitForExecutionsAsync(server, "ticking", 2);
        var one = executions.Results[0];
        Assert.Equal("every_second", one.Trigger!["id"]!.GetValue<string>());
        Assert.NotNull(one.Trigger["variables"]!["date"]);

        var search = JsonNode.Parse(await server.Http.GetStringAsync("api/v1/triggers/search?namespace=company.team"))!;
        var trigger = search["results"]!.AsArray().Single(t => t!["triggerId"]!.GetValue<string>() == "every_second")!;
        Assert.NotNull(trigger["nextExecutionDate"]);
        Assert.NotNull(trigger["executionId"]);

        // disabled: persisted in the trigger state store, and the schedule stops
        using var disable = await server.Http.PostAsync("api/v1/triggers/company.team/ticking/every_second/disable", null);
        disable.EnsureSuccessStatusCode();
        var state = await server.Get<ITriggerStateStore>().GetAsync("company.team", "ticking", "every_second");
        Assert.True(state!.Disabled);
        await Task.Delay(1500);
        var before = (await server.Client.SearchExecutionsAsync("company.team", "ticking", size: 100)).Results.Count;
        await Task.Delay(2000);
        Assert.Equal(before, (await server.Client.SearchExecutionsAsync("company.team", "ticking", size: 100)).Results.Count);
    }

    [Fact]
    public async Task Flow_trigger_starts_the_downstream_flow_on_the_server()
    {
        await using var server = await ServerHarness.StartAsync(realRuntime: true);
        await server.Client.CreateFlowAsync("""
            id: upstream
            namespace: company.team
            tasks:
              - id: ret
                type: io.kestra.plugin.core.debug.Return
                format: "7"
            outputs:
              - id: value
                type: STRING
                value: "{{ outputs.ret.value }}"
            """);
        await server.Client.CreateFlowAsync("""
            id: downstream
            namespace: company.team
            inputs:
              - id: got
                type: STRING
            tasks:
              - id: log
                type: io.kestra.plugin.core.log.Log
                message: "{{ inputs.got }}"
            triggers:
              - id: on_upstream
                type: io.kestra.plugin.core.trigger.Flow
                inputs:
                  got: "{{ trigger.outputs.value }}"
                conditions:
                  - type: io.kestra.plugin.core.condition.ExecutionFlow
                    namespace: company.team
                    flowId: upstream
            """);
        var up = await server.Client.CreateExecutionAsync("company.team", "upstream");
        await server.Client.WaitForTerminalAsync(up.Id);
        var down = (await WaitForExecutionsAsync(server, "downstream", 1)).Results.Single();
        Assert.Equal("7", down.Inputs!["got"]!.GetValue<string>());
        Assert.Equal(up.Id, down.Trigger!["variables"]!["executionId"]!.GetValue<string>());
    }
}

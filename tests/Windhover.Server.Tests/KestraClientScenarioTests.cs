using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Windhover.Server.Tests;

/// <summary>A client written for Kestra's API, on the real runtime: YAML flow, multipart start, polling, task run histories.</summary>
public sealed class KestraClientScenarioTests
{
    private const string Flow = """
        id: greet
        namespace: company.team
        inputs:
          - id: name
            type: STRING
        tasks:
          - id: hello
            type: io.kestra.plugin.core.log.Log
            message: "Hello {{ inputs.name }}"
          - id: out
            type: io.kestra.plugin.core.debug.Return
            format: "{{ inputs.name | upper }}"
        """;

    [Fact]
    public async Task Yaml_flow_multipart_start_poll_and_read_histories()
    {
        await using var server = await ServerHarness.StartAsync(realRuntime: true);
        var http = server.Http;
        using var created = await http.PostAsync("api/v1/main/flows", new StringContent(Flow, Encoding.UTF8, "application/x-yaml"));
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);

        var form = new MultipartFormDataContent { { new StringContent("Ada"), "name" } };
        using var started = await http.PostAsync("api/v1/main/executions/company.team/greet", form);
        Assert.Equal(HttpStatusCode.OK, started.StatusCode);
        var id = JsonNode.Parse(await started.Content.ReadAsStringAsync())!["id"]!.GetValue<string>();

        JsonNode execution;
        var deadline = DateTime.UtcNow.AddSeconds(20);
        do
        {
            await Task.Delay(50);
            execution = JsonNode.Parse(await http.GetStringAsync($"api/v1/main/executions/{id}"))!;
            Assert.True(DateTime.UtcNow < deadline, "execution did not end");
        }
        while (execution["state"]!["current"]!.GetValue<string>() is not ("SUCCESS" or "FAILED" or "WARNING" or "KILLED"));

        Assert.Equal("SUCCESS", execution["state"]!["current"]!.GetValue<string>());
        var taskRuns = execution["taskRunList"]!.AsArray();
        Assert.Equal(["hello", "out"], taskRuns.Select(t => t!["taskId"]!.GetValue<string>()));
        foreach (var taskRun in taskRuns)
        {
            var histories = taskRun!["state"]!["histories"]!.AsArray().Select(h => h!["state"]!.GetValue<string>()).ToList();
            Assert.Equal("CREATED", histories[0]);
            Assert.Equal("SUCCESS", histories[^1]);
        }

        Assert.Equal("ADA", taskRuns[1]!["outputs"]!["value"]!.GetValue<string>());
        var logs = await server.Client.GetLogsAsync(id);
        Assert.Contains(logs, l => l.Message == "Hello Ada");

        // the typed client, JSON body form and wait
        var waited = await server.Client.CreateExecutionJsonAsync("company.team", "greet", new JsonObject { ["name"] = "Bob" }, wait: true);
        Assert.Equal("SUCCESS", waited.State.Current);
        Assert.Equal("BOB", waited.FindTaskRun("out")!.Outputs!["value"]!.GetValue<string>());

        // invalid inputs are 422 naming the input
        using var invalid = await http.PostAsync("api/v1/main/executions/company.team/greet", new MultipartFormDataContent());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, invalid.StatusCode);
        Assert.Contains("`name`", await invalid.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Metrics_of_an_execution_list_the_return_task_counter_and_timer()
    {
        await using var server = await ServerHarness.StartAsync(realRuntime: true);
        var http = server.Http;
        using var created = await http.PostAsync("api/v1/main/flows", new StringContent(Flow, Encoding.UTF8, "application/x-yaml"));
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        var waited = await server.Client.CreateExecutionJsonAsync("company.team", "greet", new JsonObject { ["name"] = "Bob" }, wait: true);
        Assert.Equal("SUCCESS", waited.State.Current);

        var metrics = JsonNode.Parse(await http.GetStringAsync($"api/v1/metrics/{waited.Id}"))!;
        Assert.Equal(2, metrics["total"]!.GetValue<int>());
        var results = metrics["results"]!.AsArray();
        Assert.Contains(results, m => m!["name"]!.GetValue<string>() == "length" && m["type"]!.GetValue<string>() == "counter" && m["value"]!.GetValue<double>() == 3);
        Assert.Contains(results, m => m!["name"]!.GetValue<string>() == "duration" && m["type"]!.GetValue<string>() == "timer" && m["taskId"]!.GetValue<string>() == "out");

        var none = JsonNode.Parse(await http.GetStringAsync("api/v1/metrics/unknown"))!;
        Assert.Equal(0, none["total"]!.GetValue<int>());
    }
}

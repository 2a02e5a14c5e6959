using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Windhover.Cli.Commands;
using Windhover.Cli.Hosting;
using Windhover.Server.Hosting;

namespace Windhover.Cli.Tests;

/// <summary>The hosts' one composition of task types: what validates in <c>flow validate</c> also runs in <c>flow run</c> and <c>server local</c>.</summary>
public sealed class PluginCatalogTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("windhover-catalog-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private const string ShellFlow = """
        id: shell
        namespace: company.team
        tasks:
          - id: hello
            type: io.kestra.plugin.scripts.shell.Commands
            taskRunner:
              type: io.kestra.plugin.core.runner.Process
            commands:
              - echo '::{"outputs":{"greeting":"hello from shell"}}::'
        """;

    private async Task<(int Exit, string Out, string Err)> Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await WindhoverCommand.Create(output, error).Parse(args).InvokeAsync();
        return (exit, output.ToString().ReplaceLineEndings("\n"), error.ToString());
    }

    [Theory]
    [InlineData("io.kestra.plugin.scripts.python.Script")]
    [InlineData("io.kestra.plugin.ai.agent.AIAgent")]
    [InlineData("io.kestra.plugin.jdbc.sqlite.Query")]
    [InlineData("io.kestra.plugin.notifications.slack.SlackIncomingWebhook")]
    public void Every_plugin_registers_its_types(string type) => Assert.True(PluginCatalog.Default.TaskTypes.IsKnown(type), type);

    [Fact]
    public async Task Flow_validate_accepts_python_Script_and_AIAgent()
    {
        File.WriteAllText(Path.Combine(_dir, "plugins.yml"), """
            id: plugins
            namespace: company.team
            tasks:
              - id: py
                type: io.kestra.plugin.scripts.python.Script
                script: print("hi")
              - id: agent
                type: io.kestra.plugin.ai.agent.AIAgent
                provider:
                  type: io.kestra.plugin.ai.provider.OpenAI
                  apiKey: key
                  modelName: gpt-4o-mini
                prompt: Summarise {{ outputs.py.vars ?? 'nothing' }}
            """);

        var (exit, output, _) = await Run("flow", "validate", _dir);

        Assert.True(exit == 0, output);
        Assert.Contains("1 flow(s) in 1 file(s): all valid.", output);
    }

    [Fact]
    public async Task Flow_run_runs_a_shell_Commands_flow()
    {
        var file = Path.Combine(_dir, "shell.yml");
        File.WriteAllText(file, ShellFlow);

        var (exit, output, error) = await Run("flow", "run", file, "--in-memory");

        Assert.True(exit == 0, output + error);
        Assert.Contains("SUCCESS", output);
    }

    [Fact]
    public async Task Server_local_runs_a_shell_Commands_flow()
    {
        var flows = Path.Combine(_dir, "flows");
        Directory.CreateDirectory(flows);
        File.WriteAllText(Path.Combine(flows, "shell.yml"), ShellFlow);
        var app = ServerCommand.BuildLocal(new ServerOptions { Port = 0, DataPath = Path.Combine(_dir, "data"), FlowPath = flows });
        await app.StartAsync(CancellationToken.None);
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First().TrimEnd('/') + "/"), Timeout = TimeSpan.FromSeconds(30) };
            var deadline = DateTime.UtcNow.AddSeconds(30);
            string? id = null;
            while (id is null)
            {
                using var response = await http.PostAsync("api/v1/executions",
                    new StringContent("""{"namespace":"company.team","flowId":"shell"}""", Encoding.UTF8, "application/json"));
                if (response.IsSuccessStatusCode)
                {
                    id = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString();
                }
                else
                {
                    Assert.True(DateTime.UtcNow < deadline, $"the flow never loaded: {(int)response.StatusCode}");
                    await Task.Delay(100);
                }
            }

            JsonElement execution;
            do
            {
                await Task.Delay(100);
                execution = await http.GetFromJsonAsync<JsonElement>($"api/v1/executions/{id}");
                Assert.True(DateTime.UtcNow < deadline, execution.ToString());
            }
            while (execution.GetProperty("state").GetProperty("current").GetString() is "CREATED" or "RUNNING");

            Assert.Equal("SUCCESS", execution.GetProperty("state").GetProperty("current").GetString());
            var hello = execution.GetProperty("taskRunList").EnumerateArray().Single(t => t.GetProperty("taskId").GetString() == "hello");
            Assert.Equal("hello from shell", hello.GetProperty("outputs").GetProperty("vars").GetProperty("greeting").GetString());
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
            await app.DisposeAsync();
        }
    }
}

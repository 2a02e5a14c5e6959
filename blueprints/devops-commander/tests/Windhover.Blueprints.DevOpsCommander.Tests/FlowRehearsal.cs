using System.Collections.Immutable;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Windhover.Cli.Hosting;
using Windhover.Flows.Expressions;
using Windhover.Flows.Model;
using Windhover.Flows.TaskTypes;
using Windhover.Flows.Yaml;
using Windhover.Plugins.Ai;

namespace Windhover.Blueprints.DevOpsCommander.Tests;

/// <summary>
/// Rehearses the flow until Windhover's server can run it: parses the real YAML with Windhover's parser and renders every
/// property with Windhover's expression engine, then performs the task types this flow uses (OutputValues, http.Request,
/// If, Switch, Fail, and AIAgent through the real Windhover.Plugins.Ai ChatInvoker) in order, with the flow-level
/// <c>errors</c> branch on failure. It is not the engine: no persistence, retries or worker; the end-to-end test through
/// the server replaces it when the server lands.
/// </summary>
public sealed class FlowRehearsal(Flow flow, HttpClient http, ChatInvoker? ai = null)
{
    public static readonly string FlowsDirectory = Path.Combine(AppContext.BaseDirectory, "flows");

    /// <summary>
    /// The registry the flows are checked with: the hosts' own composition (<see cref="PluginCatalog"/>: core, scripts,
    /// AI, JDBC and notifications types), the one <c>windhover flow validate</c> and <c>server local</c> use.
    /// </summary>
    public static TaskTypeRegistry Registry() => PluginCatalog.Default.TaskTypes;

    /// <summary>The flow's <c>commander_url</c> variable as written (the launcher passes <c>envs.commander_url</c>).</summary>
    public const string CommanderUrlLine = "commander_url: \"{{ envs.commander_url ?? 'http://localhost:3000' }}\"";

    public static Flow LoadLoop(string commanderUrl)
    {
        var source = File.ReadAllText(Path.Combine(FlowsDirectory, "devops-autonomous-loop.yml"));
        Assert.Contains(CommanderUrlLine, source, StringComparison.Ordinal);
        var yaml = source.Replace(CommanderUrlLine, $"commander_url: {commanderUrl}", StringComparison.Ordinal);
        var result = PluginCatalog.Default.Parser.Parse(yaml, "devops-autonomous-loop.yml");
        Assert.True(result.IsValid, string.Join("\n", result.Problems.Select(p => p.ToDisplayString())));
        return result.Flow!;
    }

    private readonly ExpressionEngine _engine = new();

    public sealed record Run(string State, string ExecutionId, Dictionary<string, object?> Outputs, List<string> TaskIds, string? Error);

    /// <summary>Runs the flow as the webhook would start it: inputs take their defaults, <c>trigger.body</c> is the request body.</summary>
    public Task<Run> RunWebhookAsync(string jsonBody) =>
        RunAsync(new Dictionary<string, object?>(), new Dictionary<string, object?> { ["body"] = ExpressionValues.FromJson(jsonBody) });

    public async Task<Run> RunAsync(Dictionary<string, object?> inputs, Dictionary<string, object?>? trigger)
    {
        var executionId = "rehearsal" + Guid.NewGuid().ToString("N")[..13];
        var resolvedInputs = new Dictionary<string, object?>();
        foreach (var input in flow.Inputs)
        {
            resolvedInputs[input.Id] = inputs.TryGetValue(input.Id, out var v) ? v : input.Defaults;
        }

        var outputs = new Dictionary<string, object?>();
        var variables = new Dictionary<string, object?>
        {
            ["flow"] = new Dictionary<string, object?> { ["id"] = flow.Id, ["namespace"] = flow.Namespace },
            ["execution"] = new Dictionary<string, object?> { ["id"] = executionId, ["startDate"] = DateTimeOffset.UtcNow },
            ["inputs"] = resolvedInputs,
            ["outputs"] = outputs,
            ["vars"] = flow.Variables,
        };
        if (trigger is not null)
        {
            variables["trigger"] = trigger;
        }

        var ran = new List<string>();
        try
        {
            await RunTasksAsync(flow.Tasks, variables, outputs, ran);
            return new Run("SUCCESS", executionId, outputs, ran, null);
        }
        catch (Exception ex) when (ex is RehearsalTaskFailed or ExpressionException or AiChatException)
        {
            try
            {
                await RunTasksAsync(flow.Errors, variables, outputs, ran);
            }
            catch (Exception inner) when (inner is RehearsalTaskFailed or ExpressionException)
            {
                // the errors branch failing does not change the outcome
            }

            return new Run("FAILED", executionId, outputs, ran, ex.Message);
        }
    }

    private async Task RunTasksAsync(ImmutableArray<TaskDefinition> tasks, Dictionary<string, object?> variables, Dictionary<string, object?> outputs, List<string> ran)
    {
        foreach (var task in tasks)
        {
            ran.Add(task.Id);
            switch (task.CanonicalType)
            {
                case "io.kestra.plugin.core.output.OutputValues":
                    outputs[task.Id] = new Dictionary<string, object?> { ["values"] = _engine.RenderObject(task.Properties["values"], variables) };
                    break;
                case "io.kestra.plugin.core.http.Request":
                    outputs[task.Id] = await HttpAsync(task, variables);
                    break;
                case "io.kestra.plugin.core.flow.If":
                    var condition = _engine.RenderTyped((string)task.Properties["condition"]!, variables);
                    await RunTasksAsync(ExpressionValues.IsTruthy(condition) ? task.TaskList("then") : task.TaskList("else"), variables, outputs, ran);
                    break;
                case "io.kestra.plugin.core.flow.Switch":
                    var value = _engine.Render((string)task.Properties["value"]!, variables);
                    var cases = (IReadOnlyDictionary<string, ImmutableArray<TaskDefinition>>)task.Properties["cases"]!;
                    await RunTasksAsync(cases.TryGetValue(value, out var branch) ? branch : task.TaskList("defaults"), variables, outputs, ran);
                    break;
                case "io.kestra.plugin.core.execution.Fail":
                    throw new RehearsalTaskFailed(_engine.Render((string)task.Properties["errorMessage"]!, variables));
                case "io.kestra.plugin.ai.agent.AIAgent":
                    outputs[task.Id] = await AgentAsync(task, variables);
                    break;
                default:
                    throw new InvalidOperationException($"The rehearsal does not know task type {task.CanonicalType}");
            }
        }
    }

    private async Task<Dictionary<string, object?>> HttpAsync(TaskDefinition task, Dictionary<string, object?> variables)
    {
        var uri = _engine.Render((string)task.Properties["uri"]!, variables);
        var method = task.Properties.TryGetValue("method", out var m) ? _engine.Render((string)m!, variables) : "GET";
        using var request = new HttpRequestMessage(new HttpMethod(method), uri);
        if (task.Properties.TryGetValue("body", out var body) && body is string template)
        {
            request.Content = new StringContent(_engine.Render(template, variables), Encoding.UTF8);
            var contentType = task.Properties.TryGetValue("contentType", out var ct) ? (string)ct! : "text/plain";
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }

        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if ((int)response.StatusCode >= 400)
        {
            throw new RehearsalTaskFailed($"Task {task.Id}: Failed http request with response code '{(int)response.StatusCode}' and body '{text}'");
        }

        object? parsed = text;
        if (response.Content.Headers.ContentType?.MediaType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true && text.Length > 0)
        {
            parsed = ExpressionValues.FromJson(text);
        }

        return new Dictionary<string, object?> { ["uri"] = uri, ["code"] = (long)(int)response.StatusCode, ["body"] = parsed };
    }

    private async Task<Dictionary<string, object?>> AgentAsync(TaskDefinition task, Dictionary<string, object?> variables)
    {
        if (ai is null)
        {
            throw new InvalidOperationException("The flow took the AIAgent branch but the rehearsal has no ChatInvoker.");
        }

        var provider = (IReadOnlyDictionary<string, object?>)_engine.RenderObject(task.Properties["provider"], variables)!;
        Assert.Equal("io.kestra.plugin.ai.provider.OpenAI", provider["type"]);
        var configuration = (IReadOnlyDictionary<string, object?>)task.Properties["configuration"]!;
        var format = (IReadOnlyDictionary<string, object?>)configuration["responseFormat"]!;
        var result = await ai.InvokeAsync(new AiChatRequest
        {
            Provider = new OpenAiProviderConfig
            {
                ApiKey = ExpressionValues.ToText(provider["apiKey"]),
                BaseUrl = ExpressionValues.ToText(provider["baseUrl"]),
                ModelName = ExpressionValues.ToText(provider["modelName"]),
            },
            SystemMessage = _engine.Render((string)task.Properties["systemMessage"]!, variables),
            Prompt = _engine.Render((string)task.Properties["prompt"]!, variables),
            Configuration = new AiChatConfiguration
            {
                Temperature = Convert.ToDouble(configuration["temperature"], CultureInfo.InvariantCulture),
                ResponseFormat = AiResponseFormat.Json,
                JsonSchema = ExpressionValues.ToJson(format["jsonSchema"]),
                JsonSchemaDescription = format["jsonSchemaDescription"] as string,
            },
        });
        return new Dictionary<string, object?>
        {
            ["textOutput"] = result.TextOutput,
            ["jsonOutput"] = result.JsonOutput is { } json ? ExpressionValues.FromJsonElement(json) : null,
            ["finishReason"] = result.FinishReason,
        };
    }
}

public sealed class RehearsalTaskFailed(string message) : Exception(message);

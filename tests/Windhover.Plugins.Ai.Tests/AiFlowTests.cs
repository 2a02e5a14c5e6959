using System.Text.Json.Nodes;
using Windhover.Engine.Executions;
using Windhover.Engine.Executor;
using Windhover.Engine.Runtime;
using Windhover.Plugins.Testing;

namespace Windhover.Plugins.Ai.Tests;

/// <summary>AIAgent and ChatCompletion through real flows against local OpenAI- and Ollama-compatible HTTP servers.</summary>
public sealed class AiFlowTests : IAsyncLifetime
{
    private const string Schema = """{"type":"object","properties":{"city":{"type":"string"},"population":{"type":"integer","minimum":0}},"required":["city","population"],"additionalProperties":false}""";

    private FakeLlmServer _server = null!;
    private FlowHarness _h = null!;

    public async Task InitializeAsync()
    {
        _server = await FakeLlmServer.StartAsync();
        _h = await FlowHarness.StartAsync(
            (types, tasks) => AiPlugin.Register(types, tasks, new AiPluginOptions
            {
                Invoker = new ChatInvokerOptions { InitialBackoff = TimeSpan.FromMilliseconds(20), MaxBackoff = TimeSpan.FromMilliseconds(200), RequestTimeout = TimeSpan.FromSeconds(20) },
            }),
            new EnvironmentSecretProvider(new Dictionary<string, string> { ["WINDHOVER_SECRET_OPENAI_KEY"] = "sk-test-secret-123" }));
    }

    public async Task DisposeAsync()
    {
        await _h.DisposeAsync();
        await _server.DisposeAsync();
    }

    private string OpenAiAgentFlow(string id, string apiKey = "\"{{ secret('OPENAI_KEY') }}\"") => $$$"""
        id: {{{id}}}
        namespace: test.ai
        tasks:
          - id: agent
            type: io.kestra.plugin.ai.agent.AIAgent
            provider:
              type: io.kestra.plugin.ai.provider.OpenAI
              apiKey: {{{apiKey}}}
              modelName: gpt-4o-mini
              baseUrl: {{{_server.BaseUrl}}}/v1
            systemMessage: You answer with JSON only.
            prompt: "Largest city of {{ flow.namespace }}?"
            configuration:
              temperature: 0.2
              maxTokens: 200
              seed: 7
              responseFormat:
                type: JSON
                jsonSchema:
                  type: object
                  properties:
                    city: {type: string}
                    population: {type: integer, minimum: 0}
                  required: [city, population]
                  additionalProperties: false
          - id: use
            type: io.kestra.plugin.core.debug.Return
            format: "{{ outputs.agent.jsonOutput.city }} has {{ outputs.agent.jsonOutput.population }}"
        """;

    [Fact]
    public async Task OpenAi_agent_json_schema_answer_lands_in_json_output_with_token_usage()
    {
        _server.Enqueue(FakeLlmServer.OpenAiAnswer("""{"city":"Lyon","population":522000}""", prompt: 31, completion: 9));

        var execution = await _h.RunAsync(OpenAiAgentFlow("openai-json"));

        Assert.True(execution.State.Current == State.Success, await _h.LogTextAsync(execution.Id));
        Assert.Equal("Lyon has 522000", FlowHarness.Output(execution, "use", "value"));
        var usage = Assert.IsAssignableFrom<IReadOnlyDictionary<string, object?>>(FlowHarness.Output(execution, "agent", "tokenUsage"));
        Assert.Equal(31L, usage["inputTokenCount"]);
        Assert.Equal(9L, usage["outputTokenCount"]);
        Assert.Equal(40L, usage["totalTokenCount"]);
        var metrics = Assert.IsAssignableFrom<IReadOnlyDictionary<string, object?>>(FlowHarness.Output(execution, "agent", "metrics"));
        Assert.Equal(40L, metrics["total.token.count"]);
        var recorded = _h.Runtime.Metrics.Find(execution.Id).Where(m => m.TaskId == "agent").ToList();
        Assert.Equal(
            [("counter", "input.token.count", 31.0), ("counter", "output.token.count", 9.0), ("counter", "total.token.count", 40.0)],
            recorded.Where(m => m.Type == "counter").Select(m => (m.Type, m.Name, m.Value)));
        var duration = Assert.Single(recorded, m => m.Type == "timer");
        Assert.Equal("request.duration", duration.Name);
        Assert.True(duration.Value >= 0);
        Assert.All(recorded, m => Assert.Equal(FlowHarness.TaskRun(execution, "agent").Id, m.TaskRunId));
        Assert.Equal("STOP", FlowHarness.Output(execution, "agent", "finishReason"));
        Assert.StartsWith("PT", (string)FlowHarness.Output(execution, "agent", "requestDuration")!, StringComparison.Ordinal);

        var request = Assert.Single(_server.Received);
        Assert.Equal("/v1/chat/completions", request.Path);
        Assert.Equal("Bearer sk-test-secret-123", request.Headers["Authorization"]);
        var body = request.Body!;
        Assert.Equal("gpt-4o-mini", body["model"]!.GetValue<string>());
        Assert.Equal("json_schema", body["response_format"]!["type"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Schema), body["response_format"]!["json_schema"]!["schema"]));
        var messages = body["messages"]!.AsArray();
        Assert.Equal("system", messages[0]!["role"]!.GetValue<string>());
        Assert.Contains("test.ai", messages[1]!.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenAi_429_then_200_is_retried()
    {
        _server.Enqueue(
            FakeLlmServer.OpenAiError(429, "Rate limit reached for gpt-4o-mini", "requests", "rate_limit_exceeded", new Dictionary<string, string> { ["Retry-After"] = "0" }),
            FakeLlmServer.OpenAiAnswer("""{"city":"Nantes","population":320000}"""));

        var execution = await _h.RunAsync(OpenAiAgentFlow("openai-429"));

        Assert.Equal(State.Success, execution.State.Current);
        Assert.Equal("Nantes has 320000", FlowHarness.Output(execution, "use", "value"));
        Assert.Equal(2, _server.Received.Count);
        var metrics = (IReadOnlyDictionary<string, object?>)FlowHarness.Output(execution, "agent", "metrics")!;
        Assert.Equal(2L, metrics["attempts"]);
    }

    [Fact]
    public async Task OpenAi_401_fails_the_task_with_a_clear_message_and_the_key_masked()
    {
        const string key = "sk-plain-key-987654";
        _server.Enqueue(FakeLlmServer.OpenAiError(401, $"Incorrect API key provided: {key}. You can find your API key in your account.", "invalid_request_error", "invalid_api_key"));

        var execution = await _h.RunAsync(OpenAiAgentFlow("openai-401", key));

        Assert.Equal(State.Failed, execution.State.Current);
        Assert.Single(_server.Received);
        var error = Assert.Single(await _h.LogsAsync(execution.Id, "agent"), l => l.Level == ExecutorLogLevel.Error);
        Assert.Contains("401 Unauthorized", error.Message, StringComparison.Ordinal);
        Assert.Contains("apiKey", error.Message, StringComparison.Ordinal);
        Assert.Contains("Incorrect API key provided: ******", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(key, await _h.LogTextAsync(execution.Id), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Chat_completion_sends_the_messages_and_returns_text()
    {
        _server.Enqueue(FakeLlmServer.OpenAiAnswer("Bonjour !"));

        var execution = await _h.RunAsync($$$"""
            id: chat-completion
            namespace: test.ai
            tasks:
              - id: chat
                type: io.kestra.plugin.ai.completion.ChatCompletion
                provider:
                  type: io.kestra.plugin.ai.provider.OpenAI
                  apiKey: sk-whatever
                  modelName: gpt-4o-mini
                  baseUrl: {{{_server.BaseUrl}}}/v1
                messages:
                  - type: SYSTEM
                    content: You are terse.
                  - type: USER
                    content: Say hello
                  - type: AI
                    content: Hello.
                  - type: USER
                    content: "In French, for {{ flow.id }}"
            """);

        Assert.Equal(State.Success, execution.State.Current);
        Assert.Equal("Bonjour !", FlowHarness.Output(execution, "chat", "textOutput"));
        Assert.Null(FlowHarness.Output(execution, "chat", "jsonOutput"));
        var roles = _server.Received.Single().Body!["messages"]!.AsArray().Select(m => m!["role"]!.GetValue<string>()).ToList();
        Assert.Equal(["system", "user", "assistant", "user"], roles);
        Assert.Contains("chat-completion", _server.Received.Single().Body!["messages"]![3]!.ToJsonString(), StringComparison.Ordinal);
    }

    private string OllamaFlow(string id) => $$$"""
        id: {{{id}}}
        namespace: test.ai
        tasks:
          - id: agent
            type: io.kestra.plugin.ai.agent.AIAgent
            provider:
              type: io.kestra.plugin.ai.provider.Ollama
              endpoint: {{{_server.BaseUrl}}}
              modelName: llama3.2
            prompt: Give me a city.
            configuration:
              responseFormat:
                type: JSON
                jsonSchema: '{{{Schema}}}'
        """;

    [Fact]
    public async Task Ollama_agent_json_answer_with_token_usage()
    {
        _server.Enqueue(FakeLlmServer.OllamaAnswer("""{"city":"Lille","population":236000}""", prompt: 20, eval: 11));

        var execution = await _h.RunAsync(OllamaFlow("ollama-json"));

        Assert.Equal(State.Success, execution.State.Current);
        var json = Assert.IsAssignableFrom<IReadOnlyDictionary<string, object?>>(FlowHarness.Output(execution, "agent", "jsonOutput"));
        Assert.Equal("Lille", json["city"]);
        Assert.Equal(236000L, json["population"]);
        var usage = (IReadOnlyDictionary<string, object?>)FlowHarness.Output(execution, "agent", "tokenUsage")!;
        Assert.Equal(20L, usage["inputTokenCount"]);
        Assert.Equal(11L, usage["outputTokenCount"]);
        var request = Assert.Single(_server.Received);
        Assert.Equal("/api/chat", request.Path);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Schema), request.Body!["format"]));
    }

    [Fact]
    public async Task Ollama_429_then_200_is_retried_and_401_fails_clearly()
    {
        _server.Enqueue(new FakeReply(429, """{"error":"too many requests"}"""), FakeLlmServer.OllamaAnswer("""{"city":"Caen","population":105000}"""));
        var ok = await _h.RunAsync(OllamaFlow("ollama-retry"));
        Assert.Equal(State.Success, ok.State.Current);
        Assert.Equal(2, _server.Received.Count);

        _server.Enqueue(new FakeReply(401, """{"error":"unauthorized: missing bearer token"}"""));
        var failed = await _h.RunAsync(OllamaFlow("ollama-401"));
        Assert.Equal(State.Failed, failed.State.Current);
        var error = Assert.Single(await _h.LogsAsync(failed.Id, "agent"), l => l.Level == ExecutorLogLevel.Error);
        Assert.Contains("401", error.Message, StringComparison.Ordinal);
        Assert.Contains("missing bearer token", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Answer_not_matching_the_schema_fails_the_task()
    {
        _server.Enqueue(FakeLlmServer.OpenAiAnswer("""{"city":"Paris","population":-5}"""));
        var execution = await _h.RunAsync(OpenAiAgentFlow("openai-schema-mismatch"));
        Assert.Equal(State.Failed, execution.State.Current);
        var error = Assert.Single(await _h.LogsAsync(execution.Id, "agent"), l => l.Level == ExecutorLogLevel.Error);
        Assert.Contains("population", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unsupported_provider_fails_with_the_supported_list()
    {
        var execution = await _h.RunAsync("""
            id: bad-provider
            namespace: test.ai
            tasks:
              - id: agent
                type: io.kestra.plugin.ai.agent.AIAgent
                provider:
                  type: io.kestra.plugin.ai.provider.Nope
                  modelName: x
                prompt: hi
            """);
        Assert.Equal(State.Failed, execution.State.Current);
        Assert.Contains("io.kestra.plugin.ai.provider.Ollama", await _h.LogTextAsync(execution.Id), StringComparison.Ordinal);
    }
}

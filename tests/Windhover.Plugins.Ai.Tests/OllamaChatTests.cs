using System.Collections.Concurrent;
using System.Text.Json.Nodes;

namespace Windhover.Plugins.Ai.Tests;

public sealed class OllamaChatTests : IAsyncLifetime
{
    private FakeLlmServer _server = null!;
    private readonly ChatClientFactory _factory = new();
    private readonly ConcurrentQueue<TimeSpan> _delays = new();

    public async Task InitializeAsync() => _server = await FakeLlmServer.StartAsync();

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _factory.Dispose();
    }

    private ChatInvoker Invoker() => new(_factory, new ChatInvokerOptions
    {
        MaxAttempts = 3,
        Delay = (d, _) =>
        {
            _delays.Enqueue(d);
            return Task.CompletedTask;
        },
    });

    private AiChatRequest Request(AiChatConfiguration? configuration = null, string model = "llama3.2") => new()
    {
        Provider = new OllamaProviderConfig { Endpoint = _server.BaseUrl, ModelName = model },
        Prompt = "List two primes.",
        SystemMessage = "Be terse.",
        Configuration = configuration ?? new AiChatConfiguration(),
    };

    [Fact]
    public async Task Json_schema_output_token_usage_and_request_body()
    {
        const string schema = """{"type":"object","properties":{"primes":{"type":"array","items":{"type":"integer"},"minItems":2}},"required":["primes"]}""";
        _server.Enqueue(FakeLlmServer.OllamaAnswer("""{"primes":[2,3]}""", prompt: 40, eval: 9));
        var result = await Invoker().InvokeAsync(Request(new AiChatConfiguration
        {
            Temperature = 0.1,
            TopP = 0.5,
            TopK = 20,
            Seed = 7,
            MaxTokens = 100,
            ResponseFormat = AiResponseFormat.Json,
            JsonSchema = schema,
        }));

        Assert.Equal([2, 3], result.JsonOutput!.Value.GetProperty("primes").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(new AiTokenUsage(40, 9, 49), result.TokenUsage);
        Assert.Equal("STOP", result.FinishReason);

        var received = Assert.Single(_server.Received);
        Assert.Equal("/api/chat", received.Path);
        var body = received.Body!;
        Assert.Equal("llama3.2", body["model"]!.GetValue<string>());
        var messages = body["messages"]!.AsArray();
        Assert.Equal(["system", "user"], messages.Select(m => m!["role"]!.GetValue<string>()));
        Assert.Equal(["Be terse.", "List two primes."], messages.Select(m => m!["content"]!.GetValue<string>()));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(schema), body["format"]), body["format"]?.ToJsonString());
        var options = body["options"]!;
        Assert.Equal(0.1, options["temperature"]!.GetValue<double>(), 3);
        Assert.Equal(0.5, options["top_p"]!.GetValue<double>(), 3);
        Assert.Equal(20, options["top_k"]!.GetValue<int>());
        Assert.Equal(7, options["seed"]!.GetValue<int>());
        Assert.Equal(100, options["num_predict"]!.GetValue<int>());
    }

    [Fact]
    public async Task Json_without_schema_sends_format_json()
    {
        _server.Enqueue(FakeLlmServer.OllamaAnswer("""{"a":1}"""));
        var result = await Invoker().InvokeAsync(Request(new AiChatConfiguration { ResponseFormat = AiResponseFormat.Json }));

        Assert.Equal(1, result.JsonOutput!.Value.GetProperty("a").GetInt32());
        Assert.Equal("json", Assert.Single(_server.Received).Body!["format"]!.GetValue<string>());
    }

    [Fact]
    public async Task Unknown_model_fails_with_ollamas_message()
    {
        _server.Enqueue(new FakeReply(404, """{"error":"model \"nope\" not found, try pulling it first"}"""));
        var e = await Assert.ThrowsAsync<AiChatException>(() => Invoker().InvokeAsync(Request(model: "nope")));

        Assert.Equal(AiErrorKind.NotFound, e.Kind);
        Assert.Contains("model \"nope\" not found, try pulling it first", e.Message);
        Assert.Contains("Ollama at " + _server.BaseUrl, e.Message);
        Assert.Single(_server.Received);
    }

    [Fact]
    public async Task Server_error_is_retried_then_succeeds()
    {
        _server.Enqueue(new FakeReply(500, """{"error":"llama runner process has terminated"}"""), FakeLlmServer.OllamaAnswer("fine"));
        var result = await Invoker().InvokeAsync(Request());

        Assert.Equal("fine", result.TextOutput);
        Assert.Equal(2, result.Attempts);
        Assert.Equal([TimeSpan.FromSeconds(1)], _delays);
    }

    [Fact]
    public async Task Malformed_json_fails_clearly()
    {
        _server.Enqueue(FakeLlmServer.OllamaAnswer("Sure! Here are two primes: 2 and 3", doneReason: "stop"));
        var e = await Assert.ThrowsAsync<AiChatException>(() => Invoker().InvokeAsync(Request(new AiChatConfiguration { ResponseFormat = AiResponseFormat.Json })));

        Assert.Equal(AiErrorKind.InvalidJson, e.Kind);
        Assert.Contains("not valid JSON", e.Message);
        Assert.Contains("Sure! Here are two primes", e.Message);
    }
}

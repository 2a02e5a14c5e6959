using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Windhover.Plugins.Ai.Tests;

public sealed class OpenAiChatTests : IAsyncLifetime
{
    private const string PersonSchema = """
        {
          "type": "object",
          "properties": {
            "name": { "type": "string", "minLength": 1 },
            "age": { "type": "integer", "minimum": 0, "maximum": 150 },
            "role": { "type": "string", "enum": ["admin", "user"] },
            "tags": { "type": "array", "items": { "type": "string" } }
          },
          "required": ["name", "age", "role"],
          "additionalProperties": false
        }
        """;

    private FakeLlmServer _server = null!;
    private readonly ChatClientFactory _factory = new();
    private readonly ConcurrentQueue<TimeSpan> _delays = new();

    public async Task InitializeAsync() => _server = await FakeLlmServer.StartAsync();

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _factory.Dispose();
    }

    private ChatInvoker Invoker(int maxAttempts = 4, TimeSpan? timeout = null) => new(_factory, new ChatInvokerOptions
    {
        MaxAttempts = maxAttempts,
        RequestTimeout = timeout ?? TimeSpan.FromSeconds(30),
        Delay = (d, _) =>
        {
            _delays.Enqueue(d);
            return Task.CompletedTask;
        },
    });

    private AiChatRequest Request(string prompt = "Who is Ada?", AiChatConfiguration? configuration = null, string apiKey = "sk-test-123") => new()
    {
        Provider = new OpenAiProviderConfig { ApiKey = apiKey, ModelName = "gpt-4o-mini", BaseUrl = _server.BaseUrl + "/v1" },
        Prompt = prompt,
        SystemMessage = "You answer in JSON.",
        Configuration = configuration ?? new AiChatConfiguration(),
    };

    [Fact]
    public async Task Json_schema_answer_lands_in_json_output_and_the_request_carries_model_messages_options_and_response_format()
    {
        _server.Enqueue(FakeLlmServer.OpenAiAnswer("""{"name":"Ada","age":36,"role":"admin","tags":["math"]}"""));
        var result = await Invoker().InvokeAsync(Request(configuration: new AiChatConfiguration
        {
            Temperature = 0.2,
            TopP = 0.9,
            MaxTokens = 256,
            Seed = 42,
            ResponseFormat = AiResponseFormat.Json,
            JsonSchema = PersonSchema,
            JsonSchemaName = "person",
        }));

        Assert.NotNull(result.JsonOutput);
        var json = result.JsonOutput.Value;
        Assert.Equal("Ada", json.GetProperty("name").GetString());
        Assert.Equal(36, json.GetProperty("age").GetInt32());
        Assert.Equal("STOP", result.FinishReason);
        Assert.Equal(1, result.Attempts);

        var received = Assert.Single(_server.Received);
        Assert.Equal("POST", received.Method);
        Assert.Equal("/v1/chat/completions", received.Path);
        Assert.Equal("Bearer sk-test-123", received.Headers["Authorization"]);
        var body = received.Body!;
        Assert.Equal("gpt-4o-mini", body["model"]!.GetValue<string>());
        var messages = body["messages"]!.AsArray();
        Assert.Equal(2, messages.Count);
        Assert.Equal("system", messages[0]!["role"]!.GetValue<string>());
        Assert.Equal("You answer in JSON.", ContentText(messages[0]!));
        Assert.Equal("user", messages[1]!["role"]!.GetValue<string>());
        Assert.Equal("Who is Ada?", ContentText(messages[1]!));
        Assert.Equal(0.2, body["temperature"]!.GetValue<double>(), 3);
        Assert.Equal(0.9, body["top_p"]!.GetValue<double>(), 3);
        Assert.Equal(42, body["seed"]!.GetValue<long>());
        Assert.Equal(256, (body["max_completion_tokens"] ?? body["max_tokens"])!.GetValue<int>());
        var format = body["response_format"]!;
        Assert.Equal("json_schema", format["type"]!.GetValue<string>());
        Assert.Equal("person", format["json_schema"]!["name"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(PersonSchema), format["json_schema"]!["schema"]), format.ToJsonString());
    }

    [Fact]
    public async Task Json_without_schema_sends_json_object_format_and_accepts_a_fenced_answer()
    {
        _server.Enqueue(FakeLlmServer.OpenAiAnswer("```json\n{\"ok\": true}\n```"));
        var result = await Invoker().InvokeAsync(Request(configuration: new AiChatConfiguration { ResponseFormat = AiResponseFormat.Json }));

        Assert.True(result.JsonOutput!.Value.GetProperty("ok").GetBoolean());
        Assert.Equal("json_object", Assert.Single(_server.Received).Body!["response_format"]!["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task Token_usage_finish_reason_and_text_are_returned()
    {
        _server.Enqueue(FakeLlmServer.OpenAiAnswer("Ada Lovelace was a mathematician", finishReason: "length", prompt: 31, completion: 7));
        var result = await Invoker().InvokeAsync(Request());

        Assert.Equal("Ada Lovelace was a mathematician", result.TextOutput);
        Assert.Null(result.JsonOutput);
        Assert.Equal(new AiTokenUsage(31, 7, 38), result.TokenUsage);
        Assert.Equal("LENGTH", result.FinishReason);
        Assert.Equal("gpt-4o-mini-2024-07-18", result.ModelId);
        Assert.True(result.RequestDuration > TimeSpan.Zero);
        var body = Assert.Single(_server.Received).Body!;
        Assert.Null(body["response_format"]);
        Assert.Null(body["temperature"]);
    }

    [Fact]
    public async Task Rate_limit_429_is_retried_with_backoff_and_then_succeeds()
    {
        _server.Enqueue(
            FakeLlmServer.OpenAiError(429, "Rate limit reached for gpt-4o-mini", "requests", "rate_limit_exceeded"),
            FakeLlmServer.OpenAiError(429, "Rate limit reached for gpt-4o-mini", "requests", "rate_limit_exceeded", new Dictionary<string, string> { ["Retry-After"] = "5" }),
            FakeLlmServer.OpenAiAnswer("finally"));
        var result = await Invoker().InvokeAsync(Request());

        Assert.Equal("finally", result.TextOutput);
        Assert.Equal(3, result.Attempts);
        Assert.Equal(3, _server.Received.Count);
        // 1 s, then the Retry-After of 5 s (longer than the 2 s exponential step)
        Assert.Equal([TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5)], _delays);
    }

    [Fact]
    public async Task Backoff_waits_on_the_injected_time_provider()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var invoker = new ChatInvoker(_factory, new ChatInvokerOptions { InitialBackoff = TimeSpan.FromSeconds(10) }, time);
        _server.Enqueue(FakeLlmServer.OpenAiError(429, "slow down", "requests", "rate_limit_exceeded"), FakeLlmServer.OpenAiAnswer("ok"));

        var call = invoker.InvokeAsync(Request());
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (_server.Received.Count < 1 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }
        await Task.Delay(100);
        Assert.False(call.IsCompleted); // waiting on the fake clock, not on real time
        Assert.Single(_server.Received);
        // Advance only until the retry is sent, so that the fake clock never reaches the request timeout.
        while (_server.Received.Count < 2 && DateTime.UtcNow < deadline)
        {
            time.Advance(TimeSpan.FromSeconds(2));
            await Task.Delay(20);
        }
        var result = await call;
        Assert.Equal("ok", result.TextOutput);
        Assert.Equal(2, result.Attempts);
        Assert.True(result.RequestDuration >= TimeSpan.FromSeconds(10), $"duration on the fake clock: {result.RequestDuration}");
    }

    [Fact]
    public async Task Server_errors_are_retried_a_bounded_number_of_times()
    {
        _server.Default = _ => FakeLlmServer.OpenAiError(503, "The server is overloaded", "server_error", null);
        var e = await Assert.ThrowsAsync<AiChatException>(() => Invoker(maxAttempts: 3).InvokeAsync(Request()));

        Assert.Equal(AiErrorKind.ServerError, e.Kind);
        Assert.Equal(503, e.StatusCode);
        Assert.Equal(3, e.Attempts);
        Assert.Equal(3, _server.Received.Count);
        Assert.Equal([TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)], _delays);
        Assert.Contains("HTTP 503 after 3 attempts", e.Message);
        Assert.Contains("The server is overloaded", e.Message);
    }

    [Fact]
    public async Task Unauthorized_401_fails_at_once_with_a_clear_message()
    {
        _server.Enqueue(FakeLlmServer.OpenAiError(401, "Incorrect API key provided: sk-bad. You can find your API key at your account page.", "invalid_request_error", "invalid_api_key"));
        var e = await Assert.ThrowsAsync<AiChatException>(() => Invoker().InvokeAsync(Request(apiKey: "sk-bad")));

        Assert.Equal(AiErrorKind.Unauthorized, e.Kind);
        Assert.Equal(401, e.StatusCode);
        Assert.StartsWith("The provider rejected the API key (401", e.Message);
        Assert.Contains("Incorrect API key provided", e.Message);
        Assert.Single(_server.Received);
        Assert.Empty(_delays);
    }

    [Fact]
    public async Task Malformed_json_answer_fails_clearly()
    {
        _server.Enqueue(FakeLlmServer.OpenAiAnswer("""{"name": "Ada", "age": 36"""));
        var e = await Assert.ThrowsAsync<AiChatException>(() => Invoker().InvokeAsync(Request(configuration: new AiChatConfiguration { ResponseFormat = AiResponseFormat.Json })));

        Assert.Equal(AiErrorKind.InvalidJson, e.Kind);
        Assert.Contains("JSON output was requested but the model's answer is not valid JSON", e.Message);
        Assert.Contains("""{"name": "Ada", "age": 36""", e.Message);
    }

    [Fact]
    public async Task Answer_not_matching_the_schema_fails_naming_the_path()
    {
        _server.Enqueue(FakeLlmServer.OpenAiAnswer("""{"name":"Ada","age":"thirty-six","role":"owner","tags":["a",3]}"""));
        var e = await Assert.ThrowsAsync<AiChatException>(() => Invoker().InvokeAsync(Request(configuration: new AiChatConfiguration
        {
            ResponseFormat = AiResponseFormat.Json,
            JsonSchema = PersonSchema,
        })));

        Assert.Equal(AiErrorKind.SchemaMismatch, e.Kind);
        Assert.Contains("$.age: expected integer, got string \"thirty-six\"", e.Message);
        Assert.Contains("$.role: \"owner\" is not one of", e.Message);
        Assert.Contains("$.tags[1]: expected string, got number 3", e.Message);
    }

    [Fact]
    public async Task Timeout_fails_with_a_clear_message()
    {
        _server.Enqueue(FakeLlmServer.OpenAiAnswer("too late") with { Delay = TimeSpan.FromSeconds(10) });
        var sw = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<AiChatException>(() => Invoker(timeout: TimeSpan.FromMilliseconds(300)).InvokeAsync(Request()));

        Assert.Equal(AiErrorKind.Timeout, e.Kind);
        Assert.Contains("did not answer within 0.3 s", e.Message);
        Assert.Contains("timed out", e.Message);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"took {sw.Elapsed}");
    }

    [Fact]
    public async Task Caller_cancellation_is_not_reported_as_a_timeout()
    {
        _server.Enqueue(FakeLlmServer.OpenAiAnswer("too late") with { Delay = TimeSpan.FromSeconds(10) });
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Invoker().InvokeAsync(Request(), cts.Token));
    }

    [Fact]
    public async Task Unreachable_provider_fails_with_a_connection_message()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        var request = Request() with { Provider = new OpenAiProviderConfig { ApiKey = "k", ModelName = "m", BaseUrl = $"http://127.0.0.1:{port}/v1" } };
        var e = await Assert.ThrowsAsync<AiChatException>(() => Invoker().InvokeAsync(request));

        Assert.Equal(AiErrorKind.Connection, e.Kind);
        Assert.Contains($"Could not reach the OpenAI-compatible provider at http://127.0.0.1:{port}/v1", e.Message);
    }

    [Fact]
    public async Task Invalid_schema_or_base_url_fail_before_any_call()
    {
        var badSchema = await Assert.ThrowsAsync<AiChatException>(() => Invoker().InvokeAsync(Request(configuration: new AiChatConfiguration
        {
            ResponseFormat = AiResponseFormat.Json,
            JsonSchema = "{ not json",
        })));
        Assert.Equal(AiErrorKind.InvalidRequest, badSchema.Kind);
        Assert.Contains("jsonSchema is not valid JSON", badSchema.Message);

        var badUrl = await Assert.ThrowsAsync<AiChatException>(() => Invoker().InvokeAsync(Request() with
        {
            Provider = new OpenAiProviderConfig { ApiKey = "k", ModelName = "m", BaseUrl = "not a url" },
        }));
        Assert.Contains("baseUrl 'not a url'", badUrl.Message);
        Assert.Empty(_server.Received);
    }

    private static string ContentText(JsonNode message)
    {
        var content = message["content"]!;
        return content is JsonArray parts ? string.Concat(parts.Select(p => p!["text"]!.GetValue<string>())) : content.GetValue<string>();
    }
}

using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Windhover.Plugins.Ai.Tests;

/// <summary>A scripted answer: status, JSON body, headers, an optional delay.</summary>
internal sealed record FakeReply(int Status, string Body, IReadOnlyDictionary<string, string>? Headers = null, TimeSpan Delay = default);

internal sealed record ReceivedRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, JsonNode? Body);

/// <summary>
/// A real HTTP server on 127.0.0.1 (ephemeral port) speaking the OpenAI <c>/v1/chat/completions</c> and Ollama
/// <c>/api/chat</c> wire protocols. Replies are taken from a queue; when it is empty, <see cref="Default"/> answers.
/// </summary>
internal sealed class FakeLlmServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<FakeReply> _replies = new();

    private FakeLlmServer(WebApplication app) => _app = app;

    public ConcurrentQueue<ReceivedRequest> Received { get; } = new();
    public Func<ReceivedRequest, FakeReply>? Default { get; set; }
    public string BaseUrl { get; private set; } = "";

    public static async Task<FakeLlmServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var server = new FakeLlmServer(app);
        app.Run(server.HandleAsync);
        await app.StartAsync();
        server.BaseUrl = app.Urls.Single().TrimEnd('/');
        return server;
    }

    public void Enqueue(params FakeReply[] replies)
    {
        foreach (var r in replies)
        {
            _replies.Enqueue(r);
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var text = await reader.ReadToEndAsync(context.RequestAborted);
        var body = text.Length == 0 ? null : JsonNode.Parse(text);
        var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var request = new ReceivedRequest(context.Request.Method, context.Request.Path, headers, body);
        Received.Enqueue(request);

        var reply = _replies.TryDequeue(out var r) ? r : Default?.Invoke(request) ?? new FakeReply(500, """{"error":"no reply scripted"}""");
        if (reply.Delay > TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(reply.Delay, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
        context.Response.StatusCode = reply.Status;
        foreach (var (name, value) in reply.Headers ?? new Dictionary<string, string>())
        {
            context.Response.Headers[name] = value;
        }
        var streamOllama = reply.Status == 200 && context.Request.Path == "/api/chat" && body?["stream"]?.GetValue<bool>() != false;
        if (streamOllama)
        {
            // Ollama streams NDJSON unless "stream": false: split the final answer into a content chunk and the done line.
            var final = JsonNode.Parse(reply.Body)!.AsObject();
            var content = final["message"]?["content"]?.GetValue<string>() ?? "";
            context.Response.ContentType = "application/x-ndjson";
            var chunk = new JsonObject
            {
                ["model"] = final["model"]?.DeepClone(),
                ["created_at"] = final["created_at"]?.DeepClone(),
                ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = content },
                ["done"] = false,
            };
            final["message"] = new JsonObject { ["role"] = "assistant", ["content"] = "" };
            await context.Response.WriteAsync(chunk.ToJsonString() + "\n" + final.ToJsonString() + "\n", context.RequestAborted);
            return;
        }
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(reply.Body, context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    // ---- real wire shapes ----

    public static FakeReply OpenAiAnswer(string content, string finishReason = "stop", int prompt = 25, int completion = 12, string model = "gpt-4o-mini-2024-07-18") =>
        new(200, new JsonObject
        {
            ["id"] = "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
            ["object"] = "chat.completion",
            ["created"] = 1741569952,
            ["model"] = model,
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = content, ["refusal"] = null, ["annotations"] = new JsonArray() },
                ["logprobs"] = null,
                ["finish_reason"] = finishReason,
            }),
            ["usage"] = new JsonObject
            {
                ["prompt_tokens"] = prompt,
                ["completion_tokens"] = completion,
                ["total_tokens"] = prompt + completion,
                ["prompt_tokens_details"] = new JsonObject { ["cached_tokens"] = 0, ["audio_tokens"] = 0 },
                ["completion_tokens_details"] = new JsonObject { ["reasoning_tokens"] = 0, ["audio_tokens"] = 0, ["accepted_prediction_tokens"] = 0, ["rejected_prediction_tokens"] = 0 },
            },
            ["service_tier"] = "default",
            ["system_fingerprint"] = "fp_06737a9306",
        }.ToJsonString());

    public static FakeReply OpenAiError(int status, string message, string type, string? code, IReadOnlyDictionary<string, string>? headers = null) =>
        new(status, new JsonObject
        {
            ["error"] = new JsonObject { ["message"] = message, ["type"] = type, ["param"] = null, ["code"] = code },
        }.ToJsonString(), headers);

    public static FakeReply OllamaAnswer(string content, string doneReason = "stop", int prompt = 26, int eval = 14, string model = "llama3.2") =>
        new(200, new JsonObject
        {
            ["model"] = model,
            ["created_at"] = "2025-03-10T12:00:00.000000Z",
            ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = content },
            ["done_reason"] = doneReason,
            ["done"] = true,
            ["total_duration"] = 4883583458L,
            ["load_duration"] = 1334875L,
            ["prompt_eval_count"] = prompt,
            ["prompt_eval_duration"] = 342546000L,
            ["eval_count"] = eval,
            ["eval_duration"] = 4535599000L,
        }.ToJsonString());
}

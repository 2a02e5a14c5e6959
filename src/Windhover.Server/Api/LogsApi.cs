using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Windhover.Engine.Executions;
using Windhover.Engine.Executor;
using Windhover.Engine.Serialization;
using Windhover.Engine.Stores;
using Windhover.Server.Backend;
using Windhover.Server.Json;

namespace Windhover.Server.Api;

/// <summary>Execution logs: list, download, follow (SSE), search, delete.</summary>
public static class LogsApi
{
    public static RouteGroupBuilder MapLogsApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/logs").WithTags("Logs");
        group.MapGet("/search", SearchAsync).WithName("SearchLogs");
        group.MapGet("/{executionId}", ListAsync).WithName("ListLogsFromExecution");
        group.MapGet("/{executionId}/download", DownloadAsync).WithName("DownloadLogsFromExecution");
        group.MapGet("/{executionId}/follow", Follow).WithName("FollowLogsFromExecution");
        group.MapDelete("/{executionId}", DeleteAsync).WithName("DeleteLogsFromExecution");
        return group;
    }

    private static async Task<RawJson> ListAsync(string executionId, ILogStore logs, CancellationToken cancellationToken,
        [FromQuery] string? minLevel = null, [FromQuery] string? taskRunId = null, [FromQuery] string? taskId = null, [FromQuery] int? attempt = null)
    {
        var entries = await logs.FindAsync(executionId, ParseLevel(minLevel), taskRunId, taskId, cancellationToken);
        return ApiJson.Node(new JsonArray([.. entries.Where(e => attempt is null || e.AttemptNumber == attempt).Select(e => (JsonNode)ToJson(e))]));
    }

    private static async Task<IResult> DownloadAsync(string executionId, ILogStore logs, CancellationToken cancellationToken,
        [FromQuery] string? minLevel = null, [FromQuery] string? taskRunId = null, [FromQuery] string? taskId = null)
    {
        var entries = await logs.FindAsync(executionId, ParseLevel(minLevel), taskRunId, taskId, cancellationToken);
        var text = new StringBuilder();
        foreach (var entry in entries)
        {
            text.Append(Line(entry)).Append('\n');
        }

        return TypedResults.File(Encoding.UTF8.GetBytes(text.ToString()), "text/plain", executionId + ".log");
    }

    private static ServerSentEventsResult<JsonObject> Follow(string executionId, ILogStore logs, IExecutionStore executions, CancellationToken cancellationToken,
        [FromQuery] string? minLevel = null) =>
        TypedResults.ServerSentEvents(FollowAsync(executionId, ParseLevel(minLevel), logs, executions, cancellationToken), "event");

    private static async IAsyncEnumerable<JsonObject> FollowAsync(string executionId, ExecutorLogLevel? minLevel, ILogStore logs, IExecutionStore executions,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var sent = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            var execution = await executions.GetAsync(executionId, cancellationToken);
            var entries = await logs.FindAsync(executionId, minLevel, cancellationToken: cancellationToken);
            for (; sent < entries.Count; sent++)
            {
                yield return ToJson(entries[sent]);
            }

            if (execution is null || execution.State.Current.IsTerminal())
            {
                yield break;
            }

            try
            {
                await Task.Delay(200, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                yield break;
            }
        }
    }

    private static async Task<NoContent> DeleteAsync(string executionId, ILogStore logs, CancellationToken cancellationToken)
    {
        await logs.DeleteAsync(executionId, cancellationToken);
        return TypedResults.NoContent();
    }

    /// <summary>Logs across executions (namespace prefix, flow, level, dates, free text), newest executions first.</summary>
    private static async Task<RawJson> SearchAsync(ILogStore logs, IExecutionStore executions, CancellationToken cancellationToken,
        [FromQuery] string? q = null, [FromQuery] string? @namespace = null, [FromQuery] string? flowId = null, [FromQuery] string? minLevel = null,
        [FromQuery] string? startDate = null, [FromQuery] string? endDate = null, [FromQuery] int? page = null, [FromQuery] int? size = null)
    {
        var (p, s) = ApiHelpers.Paging(page, size);
        var from = ApiHelpers.ParseDate(startDate, "startDate");
        var to = ApiHelpers.ParseDate(endDate, "endDate");
        var level = ParseLevel(minLevel);
        var found = new List<LogEntry>();
        var summaries = await executions.SearchAsync(new ExecutionQuery { Namespace = @namespace, FlowId = flowId, Size = 1000 }, cancellationToken);
        foreach (var summary in summaries.Results)
        {
            var entries = await logs.FindAsync(summary.Id, level, cancellationToken: cancellationToken);
            found.AddRange(entries.Where(e => (from is null || e.Timestamp >= from) && (to is null || e.Timestamp <= to)
                && (q is null || e.Message.Contains(q, StringComparison.OrdinalIgnoreCase))));
        }

        var ordered = found.OrderByDescending(e => e.Timestamp).ToList();
        return ApiJson.Node(new JsonObject
        {
            ["results"] = new JsonArray([.. ApiHelpers.Page(ordered, p, s).Select(e => (JsonNode)ToJson(e))]),
            ["total"] = ordered.Count,
        });
    }

    public static ExecutorLogLevel? ParseLevel(string? level) => level?.ToUpperInvariant() switch
    {
        null or "" => null,
        "TRACE" => ExecutorLogLevel.Trace,
        "DEBUG" => ExecutorLogLevel.Debug,
        "INFO" => ExecutorLogLevel.Info,
        "WARN" or "WARNING" => ExecutorLogLevel.Warn,
        "ERROR" => ExecutorLogLevel.Error,
        _ => throw new BadRequestException($"Invalid log level '{level}'"),
    };

    public static string LevelName(ExecutorLogLevel level) => level switch
    {
        ExecutorLogLevel.Trace => "TRACE",
        ExecutorLogLevel.Debug => "DEBUG",
        ExecutorLogLevel.Info => "INFO",
        ExecutorLogLevel.Warn => "WARN",
        _ => "ERROR",
    };

    public static JsonObject ToJson(LogEntry entry) => new()
    {
        ["namespace"] = entry.Namespace,
        ["flowId"] = entry.FlowId,
        ["taskId"] = entry.TaskId,
        ["executionId"] = entry.ExecutionId,
        ["taskRunId"] = entry.TaskRunId,
        ["attemptNumber"] = entry.AttemptNumber,
        ["triggerId"] = entry.TriggerId,
        ["timestamp"] = KestraJson.FormatDate(entry.Timestamp),
        ["level"] = LevelName(entry.Level),
        ["thread"] = entry.Thread,
        ["message"] = entry.Message,
    };

    public static string Line(LogEntry entry) =>
        $"{KestraJson.FormatDate(entry.Timestamp)} {LevelName(entry.Level)} {(entry.TaskId is null ? "" : entry.TaskId + " ")}{entry.Message}";
}

using System.Collections.Immutable;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Net.Http.Headers;
using Windhover.Engine.Executions;
using Windhover.Engine.Serialization;
using Windhover.Engine.Stores;
using Windhover.Server.Backend;
using Windhover.Server.Json;

namespace Windhover.Server.Api;

/// <summary>Executions: create (multipart or JSON), get, search, delete, kill, restart, replay, resume, pause, labels, task run state, follow, files.</summary>
public static partial class ExecutionsApi
{
    public static RouteGroupBuilder MapExecutionsApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/executions").WithTags("Executions");

        group.MapPost("/", CreateFromJsonAsync).WithName("CreateExecutionFromJson");
        group.MapGet("/", SearchAsync).WithName("SearchExecutionsByFlowId");
        group.MapGet("/search", SearchAsync).WithName("SearchExecutions");
        group.MapPost("/{namespace}/{id}", CreateAsync).WithName("CreateExecution").DisableAntiforgery();
        group.MapGet("/{executionId}", GetAsync).WithName("GetExecution");
        group.MapDelete("/{executionId}", DeleteAsync).WithName("DeleteExecution");
        group.MapDelete("/{executionId}/kill", KillAsync).WithName("KillExecution");
        // POST /executions/{a}/{b}: an action on execution a, or (a flow named like the action) a new execution of flow a.b.
        group.MapPost("/{executionId}/restart", (string executionId, HttpContext context, CancellationToken ct) =>
            OrCreateAsync(context, executionId, "restart", ct, () => Call(context, RestartAsync, executionId, ct))).WithName("RestartExecution");
        group.MapPost("/{executionId}/replay", (string executionId, HttpContext context, CancellationToken ct) =>
            OrCreateAsync(context, executionId, "replay", ct, () => Call(context, ReplayAsync, executionId, ct))).WithName("ReplayExecution");
        group.MapPost("/{executionId}/resume", (string executionId, HttpContext context, CancellationToken ct) =>
            OrCreateAsync(context, executionId, "resume", ct, () => Call(context, ResumeAsync, executionId, ct))).WithName("ResumeExecution")
            .DisableAntiforgery();
        group.MapPost("/{executionId}/pause", (string executionId, HttpContext context, CancellationToken ct) =>
            OrCreateAsync(context, executionId, "pause", ct, () => Call(context, PauseAsync, executionId, ct))).WithName("PauseExecution");
        group.MapPost("/{executionId}/labels", (string executionId, HttpContext context, CancellationToken ct) =>
            OrCreateAsync(context, executionId, "labels", ct, () => Call(context, SetLabelsAsync, executionId, ct))).WithName("SetLabelsOnExecution");
        group.MapPost("/{executionId}/state", (string executionId, HttpContext context, CancellationToken ct) =>
            OrCreateAsync(context, executionId, "state", ct, () => Call(context, ChangeTaskRunStateAsync, executionId, ct))).WithName("UpdateTaskRunState");
        group.MapPost("/{executionId}/change-status", (string executionId, HttpContext context, CancellationToken ct) =>
            OrCreateAsync(context, executionId, "change-status", ct, () => Call(context, ChangeStatusAsync, executionId, ct))).WithName("UpdateExecutionStatus");
        group.MapPost("/{executionId}/eval/{taskRunId}", EvalAsync).WithName("EvalTaskRunExpression").DisableAntiforgery();
        group.MapGet("/{executionId}/follow", Follow).WithName("FollowExecution");
        group.MapGet("/{executionId}/file", DownloadFileAsync).WithName("DownloadFileFromExecution");
        group.MapGet("/{executionId}/file/metas", FileMetasAsync).WithName("GetFileMetadatasFromExecution");
        group.MapGet("/{executionId}/flow", GetFlowAsync).WithName("GetFlowFromExecutionById");
        return group;
    }

    // ------------------------------------------------------------------ create

    private static async Task<IResult> OrCreateAsync(HttpContext context, string first, string second, CancellationToken cancellationToken, Func<Task<IResult>> action)
    {
        var services = context.RequestServices;
        var store = services.GetRequiredService<IExecutionStore>();
        var flows = services.GetRequiredService<FlowService>();
        if (await store.GetAsync(first, cancellationToken) is null && await flows.Store.GetAsync(first, second, cancellationToken: cancellationToken) is not null)
        {
            var query = context.Request.Query;
            return await CreateAsync(first, second, context.Request, flows, services.GetRequiredService<IExecutionService>(), cancellationToken,
                [.. query["labels"].Where(l => l is not null).Select(l => l!)], IsTrue(query["wait"]), Int(query["revision"]), query["scheduleDate"]);
        }

        return await action();
    }

    private static bool IsTrue(string? value) => string.Equals(value, "true", StringComparison.OrdinalIgnoreCase);

    private static async Task<IResult> Call<T>(HttpContext context, Func<string, HttpContext, CancellationToken, Task<T>> handler, string executionId, CancellationToken cancellationToken)
        where T : IResult => await handler(executionId, context, cancellationToken);

    private static async Task<RawJson> CreateAsync(string @namespace, string id, HttpRequest request, FlowService flows, IExecutionService executions,
        CancellationToken cancellationToken, [FromQuery] string[]? labels = null, [FromQuery] bool? wait = null, [FromQuery] int? revision = null,
        [FromQuery] string? scheduleDate = null)
    {
        var flow = await FindFlowAsync(flows, @namespace, id, revision, cancellationToken);
        var (inputs, files) = await ReadFormInputsAsync(request, cancellationToken);
        var requestLabels = ApiHelpers.ParseLabels(labels ?? []);
        var execution = await executions.CreateAsync(new CreateExecutionRequest
        {
            Flow = flow,
            Inputs = inputs,
            Files = files,
            Labels = MergeLabels(flow, requestLabels),
            ScheduleDate = ApiHelpers.ParseDate(scheduleDate, "scheduleDate"),
        }, cancellationToken);
        if (wait ?? false)
        {
            execution = await executions.WaitForTerminalAsync(execution.Id, cancellationToken);
        }

        return ApiJson.Execution(execution);
    }

    /// <summary><c>POST /api/v1/executions</c> with <c>{namespace, flowId, inputs, labels, wait}</c>.</summary>
    private static async Task<RawJson> CreateFromJsonAsync(HttpRequest request, FlowService flows, IExecutionService executions, CancellationToken cancellationToken,
        [FromQuery] bool? wait = null)
    {
        var body = await JsonNode.ParseAsync(request.Body, cancellationToken: cancellationToken) as JsonObject
            ?? throw new BadRequestException("Expected a JSON object {namespace, flowId, inputs, labels}");
        var @namespace = body["namespace"]?.GetValue<string>() ?? throw new InputValidationException("namespace: must not be null");
        var flowId = (body["flowId"] ?? body["id"])?.GetValue<string>() ?? throw new InputValidationException("flowId: must not be null");
        int? revision = body["revision"] is JsonValue r && r.TryGetValue<int>(out var rev) ? rev : null;
        var flow = await FindFlowAsync(flows, @namespace, flowId, revision, cancellationToken);

        var inputs = body["inputs"] is JsonObject inputObject
            ? (IReadOnlyDictionary<string, object?>)inputObject.ToDictionary(kv => kv.Key, kv => ApiJson.FromNode(kv.Value), StringComparer.Ordinal)
            : ImmutableDictionary<string, object?>.Empty;
        var labels = ImmutableArray.CreateBuilder<ExecutionLabel>();
        switch (body["labels"])
        {
            case JsonObject map:
                foreach (var (key, value) in map)
                {
                    labels.Add(ApiHelpers.CheckLabel(key, value?.ToString()));
                }

                break;
            case JsonArray list:
                foreach (var item in list)
                {
                    labels.Add(item is JsonObject o ? ApiHelpers.CheckLabel(o["key"]?.ToString(), o["value"]?.ToString()) : ApiHelpers.ParseLabels([item?.ToString()])[0]);
                }

                break;
        }

        var execution = await executions.CreateAsync(new CreateExecutionRequest
        {
            Flow = flow,
            Inputs = inputs,
            Labels = MergeLabels(flow, labels.ToImmutable()),
        }, cancellationToken);
        var waitForIt = wait ?? (body["wait"] is JsonValue w && w.TryGetValue<bool>(out var wb) && wb);
        if (waitForIt)
        {
            execution = await executions.WaitForTerminalAsync(execution.Id, cancellationToken);
        }

        return ApiJson.Execution(execution);
    }

    internal static async Task<FlowRecord> FindFlowAsync(FlowService flows, string @namespace, string id, int? revision, CancellationToken cancellationToken)
    {
        var flow = await flows.Store.GetAsync(@namespace, id, revision, cancellationToken)
            ?? throw new NotFoundException($"Flow not found: {@namespace}.{id}" + (revision is null ? "" : $" revision {revision}"));
        if (flow.Flow.Disabled)
        {
            throw new ConflictException($"Cannot execute disabled flow {@namespace}.{id}");
        }

        return flow;
    }

    /// <summary>Flow labels first, then the request's (a request label replaces a flow label with the same key).</summary>
    internal static ImmutableArray<ExecutionLabel> MergeLabels(FlowRecord flow, ImmutableArray<ExecutionLabel> requested)
    {
        var result = ImmutableArray.CreateBuilder<ExecutionLabel>();
        foreach (var label in flow.Flow.Labels)
        {
            if (!requested.Any(r => r.Key == label.Key))
            {
                result.Add(new ExecutionLabel(label.Key, label.Value));
            }
        }

        result.AddRange(requested);
        return result.ToImmutable();
    }

    /// <summary>
    /// Multipart inputs: text parts are inputs (repeated names become lists); file parts are FILE inputs, named by the
    /// part (or, with Kestra's convention of parts called <c>files</c>, by the file name).
    /// </summary>
    internal static async Task<(IReadOnlyDictionary<string, object?> Inputs, IReadOnlyList<UploadedFile> Files)> ReadFormInputsAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var inputs = new Dictionary<string, object?>(StringComparer.Ordinal);
        var files = new List<UploadedFile>();
        if (!request.HasFormContentType)
        {
            return (inputs, files);
        }

        IFormCollection form;
        request.EnableBuffering();
        try
        {
            form = await request.ReadFormAsync(cancellationToken);
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            // An empty multipart body (only a closing boundary, or one empty section as some clients send) means no inputs.
            request.Body.Position = 0;
            var text = await ApiHelpers.ReadTextAsync(request, cancellationToken);
            if (!text.Contains("content-disposition", StringComparison.OrdinalIgnoreCase))
            {
                return (inputs, files);
            }

            throw new BadRequestException("Invalid multipart body: " + e.Message);
        }

        foreach (var (key, values) in form)
        {
            inputs[key] = values.Count == 1 ? values[0] : values.Select(v => (object?)v).ToList();
        }

        foreach (var file in form.Files)
        {
            var inputId = file.Name is "files" or "" ? file.FileName : file.Name;
            using var memory = new MemoryStream();
            await file.CopyToAsync(memory, cancellationToken);
            files.Add(new UploadedFile(inputId, file.FileName, file.ContentType, memory.ToArray()));
        }

        return (inputs, files);
    }

    // ------------------------------------------------------------------ read

    private static async Task<RawJson> GetAsync(string executionId, IExecutionStore store, CancellationToken cancellationToken) =>
        ApiJson.Execution(await GetOrThrowAsync(store, executionId, cancellationToken));

    internal static async Task<Execution> GetOrThrowAsync(IExecutionStore store, string executionId, CancellationToken cancellationToken)
    {
        var execution = await store.GetAsync(executionId, cancellationToken);
        return execution is null || execution.Deleted ? throw new NotFoundException($"Execution not found: {executionId}") : execution;
    }

    private static async Task<RawJson> GetFlowAsync(string executionId, IExecutionStore store, FlowService flows, CancellationToken cancellationToken)
    {
        var execution = await GetOrThrowAsync(store, executionId, cancellationToken);
        var flow = await flows.Store.GetAsync(execution.Namespace, execution.FlowId, execution.FlowRevision, cancellationToken)
            ?? throw new NotFoundException($"Flow not found: {execution.Namespace}.{execution.FlowId} revision {execution.FlowRevision}");
        return ApiJson.Node(FlowJson.ToJson(flow));
    }

    /// <summary>
    /// Search with Kestra's legacy parameters (<c>namespace</c> prefix, <c>flowId</c>, <c>state</c>, <c>labels</c>,
    /// <c>startDate</c>, <c>endDate</c>, <c>timeRange</c>, <c>triggerExecutionId</c>, <c>q</c>) or the
    /// <c>filters[field][OP]=value</c> form; paged by <c>page</c>/<c>size</c>, sorted by <c>sort</c> (default newest first).
    /// </summary>
    private static async Task<RawJson> SearchAsync(HttpRequest request, IExecutionStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        var criteria = ExecutionCriteria.FromQuery(request.Query, time.GetUtcNow());
        var (page, size) = ApiHelpers.Paging(Int(request.Query["page"]), Int(request.Query["size"]));
        var (field, descending) = ApiHelpers.Sort(request.Query["sort"], "state.startDate", true);

        var summaries = await store.SearchAsync(criteria.ToStoreQuery(ascending: !descending), cancellationToken);
        var matches = new List<Execution>();
        foreach (var summary in summaries.Results)
        {
            if (await store.GetAsync(summary.Id, cancellationToken) is { Deleted: false } execution && criteria.Matches(execution))
            {
                matches.Add(execution);
            }
        }

        IEnumerable<Execution> ordered = field switch
        {
            "id" => descending ? matches.OrderByDescending(e => e.Id, StringComparer.Ordinal) : matches.OrderBy(e => e.Id, StringComparer.Ordinal),
            "flowId" => descending ? matches.OrderByDescending(e => e.FlowId, StringComparer.Ordinal) : matches.OrderBy(e => e.FlowId, StringComparer.Ordinal),
            "namespace" => descending ? matches.OrderByDescending(e => e.Namespace, StringComparer.Ordinal) : matches.OrderBy(e => e.Namespace, StringComparer.Ordinal),
            "state.current" => descending ? matches.OrderByDescending(e => e.State.Current) : matches.OrderBy(e => e.State.Current),
            "state.endDate" => descending ? matches.OrderByDescending(e => e.State.EndDate) : matches.OrderBy(e => e.State.EndDate),
            "state.duration" => descending ? matches.OrderByDescending(e => e.State.Duration) : matches.OrderBy(e => e.State.Duration),
            _ => descending ? matches.OrderByDescending(e => e.State.StartDate) : matches.OrderBy(e => e.State.StartDate),
        };
        return ApiJson.PagedExecutions(ApiHelpers.Page(ordered, page, size), matches.Count);
    }

    private static int? Int(string? text) => int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var value) ? value : null;

    // ------------------------------------------------------------------ actions

    private static (IExecutionStore Store, IExecutionService Executions) Services(HttpContext context) =>
        (context.RequestServices.GetRequiredService<IExecutionStore>(), context.RequestServices.GetRequiredService<IExecutionService>());

    private static async Task<NoContent> DeleteAsync(string executionId, IExecutionStore store, ILogStore logs, IFileStorage files, StoreSet stores,
        CancellationToken cancellationToken, [FromQuery] bool? deleteLogs = null, [FromQuery] bool? deleteMetrics = null, [FromQuery] bool? deleteStorage = null)
    {
        var execution = await GetOrThrowAsync(store, executionId, cancellationToken);
        await store.DeleteAsync(executionId, cancellationToken);
        if (deleteMetrics ?? true)
        {
            await stores.Metrics.DeleteAsync(executionId, cancellationToken);
        }

        if (deleteLogs ?? true)
        {
            await logs.DeleteAsync(executionId, cancellationToken);
        }

        if (deleteStorage ?? true)
        {
            await files.DeletePrefixAsync(StorageUri.ForExecution(execution.Namespace, execution.FlowId, executionId) + "/", cancellationToken);
        }

        return TypedResults.NoContent();
    }

    private static async Task<RawJson> KillAsync(string executionId, IExecutionStore store, IExecutionService executions, CancellationToken cancellationToken)
    {
        var execution = await GetOrThrowAsync(store, executionId, cancellationToken);
        if (execution.State.Current.IsTerminal())
        {
            throw new ConflictException($"Execution {executionId} is already {execution.State.Current.ToKestraName()}");
        }

        return ApiJson.Execution(await executions.KillAsync(executionId, cancellationToken), StatusCodes.Status202Accepted);
    }

    private static async Task<RawJson> RestartAsync(string executionId, HttpContext context, CancellationToken cancellationToken)
    {
        var (store, executions) = Services(context);
        var revision = Int(context.Request.Query["revision"]);
        var execution = await GetOrThrowAsync(store, executionId, cancellationToken);
        if (!execution.State.Current.IsTerminal() || execution.State.Current is State.Success)
        {
            throw new ConflictException($"Execution {executionId} is {execution.State.Current.ToKestraName()} and cannot be restarted");
        }

        return ApiJson.Execution(await executions.RestartAsync(executionId, revision, cancellationToken));
    }

    private static async Task<RawJson> ReplayAsync(string executionId, HttpContext context, CancellationToken cancellationToken)
    {
        var (store, executions) = Services(context);
        var taskRunId = context.Request.Query["taskRunId"].FirstOrDefault();
        var revision = Int(context.Request.Query["revision"]);
        var execution = await GetOrThrowAsync(store, executionId, cancellationToken);
        if (taskRunId is not null && execution.FindTaskRun(taskRunId) is null)
        {
            throw new NotFoundException($"Task run not found: {taskRunId}");
        }

        return ApiJson.Execution(await executions.ReplayAsync(executionId, taskRunId, revision, cancellationToken));
    }

    private static async Task<NoContent> ResumeAsync(string executionId, HttpContext context, CancellationToken cancellationToken)
    {
        var (store, executions) = Services(context);
        var request = context.Request;
        var execution = await GetOrThrowAsync(store, executionId, cancellationToken);
        if (execution.State.Current is not State.Paused)
        {
            throw new ConflictException($"Execution {executionId} is {execution.State.Current.ToKestraName()}, not PAUSED");
        }

        var (inputs, files) = await ReadFormInputsAsync(request, cancellationToken);
        await executions.ResumeAsync(executionId, inputs, files, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<RawJson> PauseAsync(string executionId, HttpContext context, CancellationToken cancellationToken)
    {
        var (store, executions) = Services(context);
        var execution = await GetOrThrowAsync(store, executionId, cancellationToken);
        if (execution.State.Current is not State.Running)
        {
            // Kestra answers 422 here (an illegal argument, not a conflict).
            throw new UnprocessableException($"Execution {executionId} is {execution.State.Current.ToKestraName()}: only a RUNNING execution can be paused");
        }

        return ApiJson.Execution(await executions.PauseAsync(executionId, cancellationToken));
    }

    private static async Task<RawJson> ChangeStatusAsync(string executionId, HttpContext context, CancellationToken cancellationToken)
    {
        var (store, executions) = Services(context);
        var text = context.Request.Query["status"].FirstOrDefault();
        if (string.IsNullOrEmpty(text))
        {
            throw new UnprocessableException("status: must not be null");
        }

        State status;
        try
        {
            status = ApiHelpers.ParseState(text);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new UnprocessableException($"status: unknown state '{text}'");
        }

        if (!status.IsTerminal())
        {
            throw new UnprocessableException($"status: an execution can only be changed to a terminated state, not {status.ToKestraName()}");
        }

        var execution = await GetOrThrowAsync(store, executionId, cancellationToken);
        if (!execution.State.Current.IsTerminal())
        {
            throw new ConflictException($"Execution {executionId} is {execution.State.Current.ToKestraName()}: only a terminated execution can change status");
        }

        return ApiJson.Execution(await executions.ChangeStatusAsync(executionId, status, cancellationToken));
    }

    private static async Task<RawJson> EvalAsync(string executionId, string taskRunId, HttpRequest request, IExecutionStore store, IExecutionService executions,
        CancellationToken cancellationToken)
    {
        var execution = await GetOrThrowAsync(store, executionId, cancellationToken);
        if (execution.FindTaskRun(taskRunId) is null)
        {
            throw new NotFoundException($"Task run not found: {taskRunId}");
        }

        using var reader = new StreamReader(request.Body);
        var expression = await reader.ReadToEndAsync(cancellationToken);
        var result = await executions.EvaluateAsync(executionId, taskRunId, expression, cancellationToken);
        return ApiJson.Node(new JsonObject { ["result"] = result.Result, ["error"] = result.Error, ["stackTrace"] = result.StackTrace });
    }

    private static async Task<RawJson> SetLabelsAsync(string executionId, HttpContext context, CancellationToken cancellationToken)
    {
        var (store, executions) = Services(context);
        var request = context.Request;
        await GetOrThrowAsync(store, executionId, cancellationToken);
        var body = await JsonNode.ParseAsync(request.Body, cancellationToken: cancellationToken);
        var labels = ImmutableArray.CreateBuilder<ExecutionLabel>();
        switch (body)
        {
            case JsonArray list:
                foreach (var item in list)
                {
                    labels.Add(ApiHelpers.CheckLabel(item?["key"]?.ToString(), item?["value"]?.ToString()));
                }

                break;
            case JsonObject map:
                foreach (var (key, value) in map)
                {
                    labels.Add(ApiHelpers.CheckLabel(key, value?.ToString()));
                }

                break;
            default:
                throw new BadRequestException("Expected a JSON list of {key, value}");
        }

        return ApiJson.Execution(await executions.SetLabelsAsync(executionId, labels.ToImmutable(), cancellationToken));
    }

    private static async Task<RawJson> ChangeTaskRunStateAsync(string executionId, HttpContext context, CancellationToken cancellationToken)
    {
        var (store, executions) = Services(context);
        var request = context.Request;
        var execution = await GetOrThrowAsync(store, executionId, cancellationToken);
        var body = await JsonNode.ParseAsync(request.Body, cancellationToken: cancellationToken) as JsonObject
            ?? throw new BadRequestException("Expected {taskRunId, state}");
        var taskRunId = body["taskRunId"]?.ToString() ?? throw new InputValidationException("taskRunId: must not be null");
        var state = ApiHelpers.ParseState(body["state"]?.ToString() ?? throw new InputValidationException("state: must not be null"));
        if (execution.FindTaskRun(taskRunId) is null)
        {
            throw new NotFoundException($"Task run not found: {taskRunId}");
        }

        return ApiJson.Execution(await executions.ChangeTaskRunStateAsync(executionId, taskRunId, state, cancellationToken));
    }

    // ------------------------------------------------------------------ follow and files

    private static async Task<ServerSentEventsResult<string>> Follow(string executionId, IExecutionStore store, CancellationToken cancellationToken)
    {
        await GetOrThrowAsync(store, executionId, cancellationToken);
        return TypedResults.ServerSentEvents(FollowAsync(executionId, store, cancellationToken));
    }

    /// <summary><c>progress</c> events with the execution JSON on every change, then <c>end</c> once terminal.</summary>
    internal static async IAsyncEnumerable<SseItem<string>> FollowAsync(string executionId, IExecutionStore store, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? last = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            Execution? execution;
            try
            {
                execution = await store.GetAsync(executionId, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                yield break;
            }

            if (execution is null)
            {
                yield return new SseItem<string>("{}", "end");
                yield break;
            }

            var json = ApiJson.Serialize(execution);
            if (json != last)
            {
                last = json;
                yield return new SseItem<string>(json, "progress") { EventId = executionId };
            }

            if (execution.State.Current.IsTerminal())
            {
                yield return new SseItem<string>(json, "end") { EventId = executionId };
                yield break;
            }

            try
            {
                await Task.Delay(100, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                yield break;
            }
        }
    }

    private static async Task<IResult> DownloadFileAsync(string executionId, [FromQuery] string path, IExecutionStore store, IFileStorage files, CancellationToken cancellationToken)
    {
        var execution = await GetOrThrowAsync(store, executionId, cancellationToken);
        CheckFileAccess(execution, path);
        var stream = await files.OpenReadAsync(path, cancellationToken) ?? throw new NotFoundException($"File not found: {path}");
        var name = Path.GetFileName(StorageUri.PathOf(path));
        return TypedResults.Stream(stream, "application/octet-stream", name);
    }

    private static async Task<RawJson> FileMetasAsync(string executionId, [FromQuery] string path, IExecutionStore store, IFileStorage files, CancellationToken cancellationToken)
    {
        var execution = await GetOrThrowAsync(store, executionId, cancellationToken);
        CheckFileAccess(execution, path);
        var size = await files.SizeAsync(path, cancellationToken) ?? throw new NotFoundException($"File not found: {path}");
        return ApiJson.Node(new JsonObject { ["size"] = size });
    }

    /// <summary>An execution may read files under its namespace's storage (its own, its flow's, and parent/child executions' files).</summary>
    private static void CheckFileAccess(Execution execution, string path)
    {
        if (!StorageUri.IsInternal(path))
        {
            throw new BadRequestException($"Invalid path '{path}': expected a kestra:/// URI");
        }

        string normalized;
        try
        {
            normalized = StorageUri.PathOf(path);
        }
        catch (ArgumentException e)
        {
            throw new BadRequestException(e.Message);
        }

        var root = "/" + execution.Namespace.Split('.')[0] + "/";
        if (!normalized.StartsWith(root, StringComparison.Ordinal) && !normalized.Contains("/executions/" + execution.Id + "/", StringComparison.Ordinal))
        {
            throw new ConflictException($"File '{path}' does not belong to execution {execution.Id}");
        }
    }
}

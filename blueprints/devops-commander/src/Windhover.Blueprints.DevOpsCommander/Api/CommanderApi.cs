using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Windhover.Blueprints.DevOpsCommander.Ai;
using Windhover.Blueprints.DevOpsCommander.Analysis;
using Windhover.Blueprints.DevOpsCommander.Dashboard;
using Windhover.Blueprints.DevOpsCommander.Deployments;
using Windhover.Blueprints.DevOpsCommander.Policy;
using Windhover.Blueprints.DevOpsCommander.Storage;
using Windhover.Blueprints.DevOpsCommander.Telemetry;

namespace Windhover.Blueprints.DevOpsCommander.Api;

/// <summary>The commander's HTTP API. Errors are JSON <c>{"message": ...}</c>.</summary>
public static class CommanderApi
{
    public static void MapCommanderApi(this WebApplication app)
    {
        app.MapGet("/health", () => Results.Json(new { status = "UP" }));
        MapTelemetry(app);
        MapDeployments(app);
        MapAnalysis(app);
        MapOutcomes(app);
        MapPolicy(app);
        MapDashboard(app);
    }

    internal static IResult Error(int status, string message) => Results.Json(new { message }, statusCode: status);

    private static IResult Unknown(string id) => Error(StatusCodes.Status404NotFound, TelemetryService.UnknownMessage(id));

    // ---------------------------------------------------------------- telemetry

    private static void MapTelemetry(WebApplication app)
    {
        app.MapGet("/api/logs/{deploymentId}", (string deploymentId, TelemetryService telemetry) =>
            telemetry.GetLogs(deploymentId) is { } logs ? Results.Json(logs) : Unknown(deploymentId));

        app.MapGet("/api/metrics/{deploymentId}", async (string deploymentId, TelemetryService telemetry, CancellationToken ct) =>
        {
            try
            {
                return await telemetry.GetMetricsAsync(deploymentId, ct) is { } metrics ? Results.Json(metrics) : Unknown(deploymentId);
            }
            catch (Exception ex) when (ex is PrometheusException or HttpRequestException)
            {
                return Error(StatusCodes.Status502BadGateway, ex.Message);
            }
        });

        app.MapPost("/api/deployments/{deploymentId}/telemetry", (string deploymentId, TelemetryPushRequest body, TelemetryService telemetry, CommanderStore store, TimeProvider time) =>
        {
            var now = time.GetUtcNow();
            var known = telemetry.Find(deploymentId);
            if (known is null)
            {
                if (string.IsNullOrWhiteSpace(body.Service) || string.IsNullOrWhiteSpace(body.Version))
                {
                    return Error(StatusCodes.Status422UnprocessableEntity,
                        $"Deployment '{deploymentId}' is new: give its 'service' and 'version' with the first telemetry push.");
                }

                store.UpsertDeployment(NewDeployment(deploymentId, body.Service!, body.Version!, body.PreviousVersion, now, body.GroundTruth, store));
            }
            else if (body.GroundTruth is not null || body.PreviousVersion is not null)
            {
                if (ValidTruth(body.GroundTruth) is { } bad)
                {
                    return bad;
                }

                store.UpsertDeployment(known with { Origin = known.Origin == TelemetrySources.Demo ? "registered" : known.Origin, GroundTruth = body.GroundTruth ?? known.GroundTruth, PreviousVersion = body.PreviousVersion ?? known.PreviousVersion });
            }

            if (ValidTruth(body.GroundTruth) is { } invalid)
            {
                return invalid;
            }

            var logs = new List<LogLine>();
            foreach (var (l, i) in (body.Logs ?? []).Select((l, i) => (l, i)))
            {
                if (string.IsNullOrWhiteSpace(l.Message))
                {
                    return Error(StatusCodes.Status422UnprocessableEntity, $"logs[{i}].message is required");
                }

                logs.Add(new LogLine(l.Time ?? now, TelemetryAnalyzer.NormaliseLevel(l.Level ?? "INFO"), l.Message!));
            }

            var samples = new List<MetricSample>();
            foreach (var (m, i) in (body.Metrics ?? []).Select((m, i) => (m, i)))
            {
                if (string.IsNullOrWhiteSpace(m.Name) || m.Value is not { } value || !double.IsFinite(value))
                {
                    return Error(StatusCodes.Status422UnprocessableEntity, $"metrics[{i}] needs a 'name' and a finite 'value'");
                }

                if (!MetricAggregation.KnownNames.Contains(m.Name!))
                {
                    return Error(StatusCodes.Status422UnprocessableEntity,
                        $"metrics[{i}].name '{m.Name}' is not known; use one of: {string.Join(", ", MetricAggregation.KnownNames.Order(StringComparer.Ordinal))}");
                }

                samples.Add(new MetricSample(m.Name!, value, m.Time ?? now));
            }

            store.AppendTelemetry(deploymentId, logs, samples);
            return Results.Json(new { deployment_id = deploymentId, accepted_logs = logs.Count, accepted_metrics = samples.Count }, statusCode: StatusCodes.Status202Accepted);
        });
    }

    private static DeploymentInfo NewDeployment(string id, string service, string version, string? previous, DateTimeOffset now, string? truth, CommanderStore store) => new()
    {
        Id = id,
        Service = service,
        Version = version,
        PreviousVersion = previous ?? (store.GetRunningVersion(service) is { } running && running != version ? running : null),
        StartedAt = now,
        Origin = "registered",
        GroundTruth = truth,
    };

    private static IResult? ValidTruth(string? truth) => truth is null or "healthy" or "unhealthy"
        ? null
        : Error(StatusCodes.Status422UnprocessableEntity, $"ground_truth must be 'healthy' or 'unhealthy', not '{truth}'");

    // ---------------------------------------------------------------- deployments

    private static void MapDeployments(WebApplication app)
    {
        app.MapPost("/api/deployments", (RegisterDeploymentRequest body, TelemetryService telemetry, CommanderStore store, TimeProvider time) =>
        {
            var id = body.DeploymentId ?? body.Id;
            if (string.IsNullOrWhiteSpace(id) || string.IsNullOrWhiteSpace(body.Service) || string.IsNullOrWhiteSpace(body.Version))
            {
                return Error(StatusCodes.Status422UnprocessableEntity, "deployment_id, service and version are required");
            }

            if (ValidTruth(body.GroundTruth) is { } bad)
            {
                return bad;
            }

            var d = NewDeployment(id, body.Service!, body.Version!, body.PreviousVersion, body.StartedAt ?? time.GetUtcNow(), body.GroundTruth, store);
            store.UpsertDeployment(d);
            return Results.Json(telemetry.Find(id), statusCode: StatusCodes.Status201Created);
        });

        app.MapGet("/api/deployments", (TelemetryService telemetry, CommanderStore store) =>
            Results.Json(telemetry.All().Select(d => Describe(d, store))));

        app.MapGet("/api/deployments/{deploymentId}", (string deploymentId, TelemetryService telemetry, CommanderStore store) =>
            telemetry.Find(deploymentId) is { } d ? Results.Json(Describe(d, store)) : Unknown(deploymentId));

        app.MapPost("/api/deployments/{deploymentId}/rollback", async (string deploymentId, HttpRequest request, DeploymentActions actions, CancellationToken ct) =>
        {
            var body = await ReadOptionalAsync<ActionRequest>(request, ct) ?? new ActionRequest(null, null, null);
            try
            {
                return await actions.RollbackAsync(deploymentId, body.ExecutionId, body.Reason, ct) is { } result
                    ? Results.Json(new { rollback = result.Rollback, already_rolled_back = result.AlreadyRolledBack, running_version = result.RunningVersion })
                    : Unknown(deploymentId);
            }
            catch (RollbackFailedException ex)
            {
                return Error(StatusCodes.Status422UnprocessableEntity, ex.Message);
            }
        });

        app.MapPost("/api/deployments/{deploymentId}/continue", async (string deploymentId, HttpRequest request, DeploymentActions actions, CancellationToken ct) =>
        {
            var body = await ReadOptionalAsync<ActionRequest>(request, ct) ?? new ActionRequest(null, null, null);
            return actions.Continue(deploymentId, body.ExecutionId, body.Reason) is { } action ? Results.Json(new { action }) : Unknown(deploymentId);
        });

        app.MapPost("/api/deployments/{deploymentId}/verify", (string deploymentId, VerifyRequest body, TelemetryService telemetry, CommanderStore store, TimeProvider time) =>
        {
            if (ValidTruth(body.ActualOutcome) is { } bad || body.ActualOutcome is null)
            {
                return Error(StatusCodes.Status422UnprocessableEntity, "actual_outcome must be 'healthy' or 'unhealthy'");
            }

            if (telemetry.Find(deploymentId) is not { } d)
            {
                return Unknown(deploymentId);
            }

            store.UpsertDeployment(d with { Origin = d.Origin == TelemetrySources.Demo ? "registered" : d.Origin, GroundTruth = body.ActualOutcome });
            var changed = store.VerifyDeployment(deploymentId, body.ActualOutcome, time.GetUtcNow());
            return Results.Json(new { deployment_id = deploymentId, actual_outcome = body.ActualOutcome, outcomes_updated = changed });
        });
    }

    private static object Describe(DeploymentInfo d, CommanderStore store) => new
    {
        deployment = d,
        running_version = store.GetRunningVersion(d.Service),
        actions = store.ListActions(d.Id),
    };

    private static async Task<T?> ReadOptionalAsync<T>(HttpRequest request, CancellationToken ct) where T : class
    {
        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        var text = await reader.ReadToEndAsync(ct);
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<T>(text, DevOpsCommanderApp.JsonOptions);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    // ---------------------------------------------------------------- analysis and AI

    private static void MapAnalysis(WebApplication app)
    {
        app.MapPost("/api/analysis", async (AnalysisRequest body, TelemetryService telemetry, PolicyService policy, TimeProvider time, CancellationToken ct) =>
        {
            if (string.IsNullOrWhiteSpace(body.DeploymentId))
            {
                return Error(StatusCodes.Status422UnprocessableEntity, "deployment_id is required");
            }

            var id = body.DeploymentId!;
            LogsResponse? logs;
            MetricsResponse? metrics;
            try
            {
                logs = JsonArgs.As<LogsResponse>(body.Logs, DevOpsCommanderApp.JsonOptions) ?? telemetry.GetLogs(id);
                metrics = JsonArgs.As<MetricsResponse>(body.Metrics, DevOpsCommanderApp.JsonOptions) ?? await telemetry.GetMetricsAsync(id, ct);
            }
            catch (JsonException ex)
            {
                return Error(StatusCodes.Status422UnprocessableEntity, $"logs/metrics are not the JSON of /api/logs and /api/metrics: {ex.Message}");
            }
            catch (Exception ex) when (ex is PrometheusException or HttpRequestException)
            {
                return Error(StatusCodes.Status502BadGateway, ex.Message);
            }

            if (logs is null || metrics is null)
            {
                return Unknown(id);
            }

            var summary = TelemetryAnalyzer.Summarise(id, metrics.Service ?? logs.Service, metrics.Version ?? logs.Version, logs.Source ?? "flow", metrics.Source ?? "flow",
                logs.Logs ?? [], metrics.Metrics ?? new MetricsSnapshot(), metrics.ReportedHealthScore, time.GetUtcNow());
            summary = summary with { Policy = policy.Opinion(summary) };
            return Results.Json(summary);
        });

        app.MapGet("/api/ai/provider", (AiGateway gateway) => Results.Json(gateway.Describe()));

        app.MapPost("/api/ai/rules", (JsonElement body) =>
        {
            var summary = ReadSummary(body);
            return summary?.LogAnalysis is null || summary.Metrics is null
                ? Error(StatusCodes.Status422UnprocessableEntity, "Send the summary returned by POST /api/analysis (as the body or as 'summary').")
                : Results.Json(ThresholdAnalyser.Decide(summary));
        });

        app.Map("/api/ai/v1/{**path}", (HttpContext context, string path, AiGateway gateway) => gateway.ForwardAsync(context, path));
    }

    /// <summary>A summary of POST /api/analysis, as the body, as its 'summary' property, or as JSON text; null when it is not one.</summary>
    private static TelemetrySummary? ReadSummary(JsonElement body)
    {
        try
        {
            var element = JsonArgs.Unwrap(body);
            if (element is { ValueKind: JsonValueKind.Object } obj && obj.TryGetProperty("summary", out var inner))
            {
                element = inner;
            }

            return JsonArgs.As<TelemetrySummary>(element, DevOpsCommanderApp.JsonOptions);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    // ---------------------------------------------------------------- outcomes

    private static void MapOutcomes(WebApplication app)
    {
        app.MapPost("/api/outcomes", (OutcomeRequest body, TelemetryService telemetry, CommanderStore store, PolicyService policy, TimeProvider time) =>
        {
            if (string.IsNullOrWhiteSpace(body.ExecutionId) || string.IsNullOrWhiteSpace(body.DeploymentId))
            {
                return Error(StatusCodes.Status422UnprocessableEntity, "execution_id and deployment_id are required");
            }

            var decision = body.Decision?.Trim().ToUpperInvariant();
            if (decision is not (Decisions.Rollback or Decisions.Continue))
            {
                return Error(StatusCodes.Status422UnprocessableEntity, $"decision must be ROLLBACK or CONTINUE, not '{body.Decision}'");
            }

            if (ValidTruth(body.ActualOutcome) is { } bad)
            {
                return bad;
            }

            TelemetrySummary? analysis;
            try
            {
                analysis = JsonArgs.As<TelemetrySummary>(body.Analysis, DevOpsCommanderApp.JsonOptions);
            }
            catch (JsonException ex)
            {
                return Error(StatusCodes.Status422UnprocessableEntity, $"analysis is not the JSON of POST /api/analysis: {ex.Message}");
            }

            var deployment = telemetry.Find(body.DeploymentId!);
            var confidence = body.Confidence is { } c ? (int)Math.Round(c is > 0 and <= 1 ? c * 100 : Math.Clamp(c, 0, 100)) : 0;
            var now = time.GetUtcNow();
            var actual = body.ActualOutcome ?? deployment?.GroundTruth;
            var record = store.UpsertOutcome(new OutcomeRecord
            {
                ExecutionId = body.ExecutionId!,
                DeploymentId = body.DeploymentId!,
                Service = body.Service ?? deployment?.Service ?? analysis?.Service ?? "unknown",
                Version = body.Version ?? deployment?.Version ?? analysis?.Version ?? "unknown",
                Decision = decision,
                Confidence = confidence,
                Status = body.Status?.Trim().ToUpperInvariant() ?? (decision == Decisions.Rollback ? Decisions.Critical : Decisions.Healthy),
                Issue = body.Issue,
                Impact = body.Impact,
                Reasoning = body.Reasoning ?? "",
                DecidedBy = body.DecidedBy ?? "unknown",
                Rule = string.IsNullOrWhiteSpace(body.Rule) ? null : body.Rule,
                HealthScore = body.HealthScore ?? analysis?.HealthScore,
                Action = body.Action ?? (decision == Decisions.Rollback ? "rollback" : "continue"),
                RecordedAt = now,
                ExecutionStartedAt = DateTimeOffset.TryParse(body.ExecutionStartedAt, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var started) ? started : null,
                Analysis = analysis,
                Policy = analysis?.Policy ?? (analysis is null ? null : policy.Opinion(analysis)),
                ActualOutcome = actual,
                VerifiedAt = actual is null ? null : now,
            });
            return Results.Json(record, statusCode: StatusCodes.Status201Created);
        });

        app.MapGet("/api/outcomes", (CommanderStore store) => Results.Json(store.ListOutcomes()));

        app.MapGet("/api/outcomes/export", (CommanderStore store) =>
        {
            var sb = new StringBuilder();
            foreach (var o in store.ListOutcomes())
            {
                var line = new JsonObject
                {
                    ["execution_id"] = o.ExecutionId,
                    ["deployment_id"] = o.DeploymentId,
                    ["service"] = o.Service,
                    ["version"] = o.Version,
                    ["recorded_at"] = o.RecordedAt,
                    ["decision"] = o.Decision,
                    ["confidence"] = o.Confidence,
                    ["status"] = o.Status,
                    ["decided_by"] = o.DecidedBy,
                    ["rule"] = o.Rule,
                    ["reasoning"] = o.Reasoning,
                    ["health_score"] = o.HealthScore,
                    ["feature_names"] = o.Analysis is null ? null : new JsonArray(Features.Names.Select(n => (JsonNode?)JsonValue.Create(n)).ToArray()),
                    ["features"] = o.Analysis is null ? null : new JsonArray(Features.From(o.Analysis).Select(v => (JsonNode?)JsonValue.Create(Math.Round(v, 6))).ToArray()),
                    ["actual_outcome"] = o.ActualOutcome,
                    ["label"] = o.ActualOutcome is null ? null : o.ActualOutcome == "unhealthy" ? Decisions.Rollback : Decisions.Continue,
                    ["reward"] = o.ActualOutcome is null ? null : Rewards.For(o.Decision, o.ActualOutcome == "unhealthy"),
                    ["policy_recommendation"] = o.Policy?.Recommendation,
                    ["policy_confidence"] = o.Policy?.Confidence,
                };
                sb.Append(line.ToJsonString()).Append('\n');
            }

            return Results.Text(sb.ToString(), "application/x-ndjson", Encoding.UTF8);
        });

        app.MapPost("/api/outcomes/{executionId}/verify", (string executionId, VerifyRequest body, CommanderStore store, TimeProvider time) =>
        {
            if (body.ActualOutcome is not ("healthy" or "unhealthy"))
            {
                return Error(StatusCodes.Status422UnprocessableEntity, "actual_outcome must be 'healthy' or 'unhealthy'");
            }

            return store.VerifyExecution(executionId, body.ActualOutcome, time.GetUtcNow()) == 0
                ? Error(StatusCodes.Status404NotFound, $"No outcome recorded for execution '{executionId}'")
                : Results.Json(store.GetOutcome(executionId));
        });
    }

    // ---------------------------------------------------------------- policy

    private static void MapPolicy(WebApplication app)
    {
        app.MapGet("/api/policy", (PolicyService policy) => Results.Json(policy.Current().Report));

        app.MapPost("/api/policy/recommend", (JsonElement body, PolicyService policy) =>
        {
            var summary = ReadSummary(body);
            return summary?.LogAnalysis is null || summary.Metrics is null
                ? Error(StatusCodes.Status422UnprocessableEntity, "Send the summary returned by POST /api/analysis.")
                : Results.Json(policy.Opinion(summary));
        });
    }

    // ---------------------------------------------------------------- dashboard

    private static void MapDashboard(WebApplication app)
    {
        app.MapPost("/api/dashboard/events", (JsonElement body, CommanderStore store, DashboardHub hub, TimeProvider time) =>
        {
            var payload = JsonArgs.Unwrap(body) is { ValueKind: JsonValueKind.Object } obj ? JsonNode.Parse(obj.GetRawText())!.AsObject() : null;
            if (payload is null)
            {
                return Error(StatusCodes.Status422UnprocessableEntity, "The event must be a JSON object.");
            }

            var kind = payload["kind"]?.GetValue<string>() ?? "decision";
            var deploymentId = payload["deployment_id"]?.GetValue<string>();
            var e = store.AppendEvent(time.GetUtcNow(), kind, deploymentId, payload);
            hub.Publish(e);
            return Results.Json(e, statusCode: StatusCodes.Status202Accepted);
        });

        app.MapGet("/api/dashboard/events", (long? after, CommanderStore store) => Results.Json(store.ListEvents(after ?? 0)));

        app.MapGet("/api/dashboard/state", (CommanderStore store, PolicyService policy, AiGateway gateway, TimeProvider time) =>
        {
            var outcomes = store.ListOutcomes();
            return Results.Json(new
            {
                stats = DashboardStats.Compute(outcomes, store.ListActions(kind: "rollback")),
                ai_mode = gateway.Provider is null ? "rules" : "llm",
                outcomes,
                actions = store.ListActions(),
                policy = policy.Current().Report,
                now = time.GetUtcNow(),
            });
        });

        app.MapGet("/api/dashboard/stream", async (HttpContext context, DashboardHub hub) =>
        {
            context.Response.Headers.ContentType = "text/event-stream";
            context.Response.Headers.CacheControl = "no-cache";
            context.Response.Headers["X-Accel-Buffering"] = "no";
            var (id, reader) = hub.Subscribe();
            try
            {
                await context.Response.WriteAsync(": connected\n\n", context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
                await foreach (var e in reader.ReadAllAsync(context.RequestAborted))
                {
                    var json = JsonSerializer.Serialize(e, DevOpsCommanderApp.JsonOptions);
                    await context.Response.WriteAsync($"id: {e.Id}\nevent: dashboard\ndata: {json}\n\n", context.RequestAborted);
                    await context.Response.Body.FlushAsync(context.RequestAborted);
                }
            }
            catch (OperationCanceledException)
            {
                // the browser went away
            }
            finally
            {
                hub.Unsubscribe(id);
            }
        });

        app.MapGet("/", (CommanderStore store, PolicyService policy, AiGateway gateway, TimeProvider time) =>
            Results.Content(DashboardPage.Full(Model(store, policy, gateway, time)), "text/html; charset=utf-8"));

        app.MapGet("/dashboard/content", (CommanderStore store, PolicyService policy, AiGateway gateway, TimeProvider time) =>
            Results.Content(DashboardPage.Content(Model(store, policy, gateway, time)), "text/html; charset=utf-8"));
    }

    private static DashboardPage.Model Model(CommanderStore store, PolicyService policy, AiGateway gateway, TimeProvider time)
    {
        var outcomes = store.ListOutcomes();
        var actions = store.ListActions();
        var series = outcomes.Select(o => o.DeploymentId).Distinct()
            .ToDictionary(id => id, id => store.GetMetricSamples(id));
        return new DashboardPage.Model(
            DashboardStats.Compute(outcomes, actions.Where(a => a.Kind == "rollback").ToList()),
            outcomes, actions, series, policy.Current().Report, gateway.Provider is null ? "rules" : "llm", time.GetUtcNow());
    }
}

using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Windhover.Blueprints.Arena.Engine;
using Windhover.Blueprints.Arena.Kestra;
using Windhover.Blueprints.Arena.Model;
using Windhover.Blueprints.Arena.Storage;
using Windhover.Blueprints.Arena.Training;
using Windhover.Client;

namespace Windhover.Blueprints.Arena.Api;

/// <summary>Maps errors to JSON answers: 400 names the field, 404 for unknown ids, Windhover's status for facade errors.</summary>
public sealed class ErrorMiddleware(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (ArenaValidationException e) when (!context.Response.HasStarted)
        {
            await Write(context, 400, new JsonObject { ["message"] = e.Message, ["field"] = e.Field });
        }
        catch (KeyNotFoundException e) when (!context.Response.HasStarted)
        {
            await Write(context, 404, new JsonObject { ["message"] = e.Message });
        }
        catch (WindhoverApiException e) when (!context.Response.HasStarted)
        {
            // Windhover's own errors pass through with their status; a server error of Windhover is a bad gateway here.
            var status = e.StatusCode >= 500 ? 502 : e.StatusCode;
            await Write(context, status, new JsonObject { ["message"] = $"Windhover answered {e.StatusCode}: {e.ApiMessage}" });
        }
        catch (HttpRequestException e) when (!context.Response.HasStarted)
        {
            var url = context.RequestServices.GetService(typeof(WindhoverClient)) is WindhoverClient client ? client.HttpClient.BaseAddress?.ToString() : null;
            await Write(context, 502, new JsonObject { ["message"] = $"Windhover at {url} is not reachable: {e.Message}" });
        }
        catch (TaskCanceledException e) when (!context.RequestAborted.IsCancellationRequested && !context.Response.HasStarted)
        {
            await Write(context, 504, new JsonObject { ["message"] = $"Windhover did not answer in time: {e.Message}" });
        }
        catch (BadHttpRequestException e) when (!context.Response.HasStarted)
        {
            await Write(context, 400, new JsonObject { ["message"] = e.Message });
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // client went away
        }
    }

    private static Task Write(HttpContext context, int status, JsonObject body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(body.ToJsonString());
    }
}

public static class ArenaEndpoints
{
    private static IResult Json(object? value, int status = 200) =>
        Results.Content(value is JsonNode node ? node.ToJsonString() : ArenaJson.Serialize(value), "application/json", null, status);

    private static async Task<JsonObject?> ReadBody(HttpRequest request)
    {
        if (request.ContentLength == 0)
        {
            return null;
        }

        try
        {
            var node = await JsonNode.ParseAsync(request.Body, cancellationToken: request.HttpContext.RequestAborted);
            return node switch
            {
                null => null,
                JsonObject o => o,
                _ => throw new ArenaValidationException("body", "the body must be a JSON object"),
            };
        }
        catch (JsonException e)
        {
            throw new ArenaValidationException("body", $"the body is not valid JSON: {e.Message}");
        }
    }

    private static T Bind<T>(JsonObject? body)
    {
        try
        {
            return (body ?? []).Deserialize<T>(ArenaJson.Options)!;
        }
        catch (JsonException e)
        {
            var field = e.Path?.TrimStart('$', '.') ?? "body";
            throw new ArenaValidationException(field.Length == 0 ? "body" : field, $"{(field.Length == 0 ? "body" : field)} has the wrong type");
        }
    }

    private static int Int(HttpRequest r, string name, int fallback, int min, int max)
    {
        var raw = r.Query[name].ToString();
        if (raw.Length == 0)
        {
            return fallback;
        }

        if (!int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) || v < min || v > max)
        {
            throw new ArenaValidationException(name, $"{name} must be a whole number between {min} and {max}");
        }

        return v;
    }

    public static void Map(WebApplication app)
    {
        app.MapGet("/api/health", () => Json(new JsonObject { ["status"] = "ok" }));
        MapAgents(app);
        MapMatches(app);
        MapAlerts(app);
        MapTraining(app);
        MapKestra(app);
        MapDashboard(app);
    }

    // ---------------------------------------------------------------- agents

    private sealed record AgentBody(string? Id, string? Name, string? Type, string? Model, string? SystemPrompt, List<string>? Permissions, JsonObject? Metadata);

    private static void MapAgents(WebApplication app)
    {
        var agents = app.MapGroup("/api/agents");
        agents.MapGet("/", (HttpRequest r, ArenaStore store) =>
        {
            var type = r.Query["type"].ToString();
            if (type.Length > 0 && !AgentTypes.IsValid(type))
            {
                throw new ArenaValidationException("type", "type must be red, blue or target");
            }

            return Json(store.ListAgents(type.Length == 0 ? null : type));
        });
        agents.MapPost("/", async (HttpRequest r, ArenaStore store, TimeProvider time) =>
        {
            var body = Bind<AgentBody>(await ReadBody(r));
            if (string.IsNullOrWhiteSpace(body.Name))
            {
                throw new ArenaValidationException("name", "name is required");
            }

            if (!AgentTypes.IsValid(body.Type))
            {
                throw new ArenaValidationException("type", "type must be red, blue or target");
            }

            var id = body.Id ?? $"{body.Type}-{Ids.New(time)}";
            if (!System.Text.RegularExpressions.Regex.IsMatch(id, "^[A-Za-z0-9_.-]{1,80}$"))
            {
                throw new ArenaValidationException("id", "id may use letters, digits, '_', '-', '.' (at most 80)");
            }

            if (store.GetAgent(id) is not null)
            {
                return Json(new JsonObject { ["message"] = $"agent '{id}' exists", ["field"] = "id" }, 409);
            }

            var now = time.GetUtcNow();
            var agent = new Agent
            {
                Id = id, Name = body.Name, Type = body.Type!, Model = body.Model ?? DefaultModel(body.Type!), SystemPrompt = body.SystemPrompt ?? "",
                Permissions = body.Permissions ?? [], Metadata = body.Metadata ?? [], CreatedAt = now, UpdatedAt = now,
            };
            store.UpsertAgent(agent);
            return Json(agent, 201);
        });
        agents.MapGet("/{id}", (string id, ArenaStore store) => store.GetAgent(id) is { } a ? Json(a) : NotFound("agent", id));
        agents.MapGet("/{id}/versions", (string id, ArenaStore store) => store.GetAgent(id) is null ? NotFound("agent", id) : Json(store.AgentVersions(id)));
        agents.MapMethods("/{id}", ["PATCH"], async (string id, HttpRequest r, ArenaStore store, TimeProvider time) =>
        {
            var agent = store.GetAgent(id);
            if (agent is null)
            {
                return NotFound("agent", id);
            }

            var body = Bind<AgentBody>(await ReadBody(r));
            if (body.Type is not null && body.Type != agent.Type)
            {
                throw new ArenaValidationException("type", "type cannot change");
            }

            if (body.Name is { Length: 0 })
            {
                throw new ArenaValidationException("name", "name cannot be empty");
            }

            var metadata = (JsonObject)agent.Metadata.DeepClone();
            foreach (var (k, v) in body.Metadata ?? [])
            {
                metadata[k] = v?.DeepClone();
            }

            var updated = agent with
            {
                Name = body.Name ?? agent.Name,
                Model = body.Model ?? agent.Model,
                SystemPrompt = body.SystemPrompt ?? agent.SystemPrompt,
                Permissions = body.Permissions ?? agent.Permissions,
                Metadata = metadata,
            };
            var changed = updated.Name != agent.Name || updated.Model != agent.Model || updated.SystemPrompt != agent.SystemPrompt
                          || !updated.Permissions.SequenceEqual(agent.Permissions) || metadata.ToJsonString() != agent.Metadata.ToJsonString();
            if (changed)
            {
                updated = updated with { Version = agent.Version + 1, UpdatedAt = time.GetUtcNow() };
                store.UpsertAgent(updated);
            }

            return Json(updated);
        });
        agents.MapDelete("/{id}", (string id, ArenaStore store) => store.DeleteAgent(id) ? Results.NoContent() : NotFound("agent", id));
    }

    private static string DefaultModel(string type) => type switch
    {
        AgentTypes.Red => "builtin:red-bandit",
        AgentTypes.Blue => "builtin:detector",
        _ => "builtin:assistant",
    };

    private static IResult NotFound(string what, string id) => Json(new JsonObject { ["message"] = $"no {what} '{id}'" }, 404);

    // ---------------------------------------------------------------- matches

    private static void MapMatches(WebApplication app)
    {
        var matches = app.MapGroup("/api/matches");
        matches.MapPost("/", async (HttpRequest r, MatchRunner runner) =>
        {
            var match = runner.Create(Bind<CreateMatchRequest>(await ReadBody(r)));
            return Json(match, 201);
        });
        matches.MapGet("/", (HttpRequest r, HttpResponse response, ArenaStore store) =>
        {
            var limit = Int(r, "limit", 50, 1, 1000);
            var page = Int(r, "page", 1, 1, 1_000_000);
            var offset = r.Query.ContainsKey("offset") ? Int(r, "offset", 0, 0, int.MaxValue) : (page - 1) * limit;
            var status = r.Query["status"].ToString();
            var filter = status.Length == 0 ? null : status;
            response.Headers["X-Total-Count"] = store.CountMatches(filter).ToString(CultureInfo.InvariantCulture);
            return Json(store.ListMatches(limit, offset, filter));
        });
        matches.MapGet("/{id}", (string id, ArenaStore store) => store.GetMatch(id) is { } m ? Json(m) : NotFound("match", id));
        matches.MapGet("/{id}/rounds", (string id, ArenaStore store) => store.GetMatch(id) is null ? NotFound("match", id) : Json(store.Rounds(id)));
        matches.MapGet("/{id}/metrics", (string id, ArenaStore store) => store.GetMatch(id) is { } m ? Json(Metrics(m, store.Rounds(id))) : NotFound("match", id));
        matches.MapGet("/{id}/transcript", (string id, HttpRequest r, ArenaStore store) =>
            store.GetMatch(id) is { } m ? Json(Transcript(m, store.Rounds(id), r)) : NotFound("match", id));
        matches.MapGet("/{id}/events", async (string id, HttpContext context, ArenaStore store, MatchEventHub hub, TimeProvider time) =>
        {
            if (store.GetMatch(id) is null)
            {
                return NotFound("match", id);
            }

            if (context.Request.Headers.Accept.ToString().Contains("text/event-stream", StringComparison.OrdinalIgnoreCase))
            {
                await Stream(context, id, store, hub, time);
                return Results.Empty;
            }

            var after = (long)Int(context.Request, "after", 0, 0, int.MaxValue);
            var limit = Int(context.Request, "limit", 1000, 1, 100_000);
            return Json(store.Events(id, after, limit));
        });
        matches.MapGet("/{id}/events/stream", async (string id, HttpContext context, ArenaStore store, MatchEventHub hub, TimeProvider time) =>
        {
            if (store.GetMatch(id) is null)
            {
                return NotFound("match", id);
            }

            await Stream(context, id, store, hub, time);
            return Results.Empty;
        });
        matches.MapPost("/{id}/pause", (string id, ArenaStore store, MatchRunner runner) => Control(id, store, runner, runner.Pause, "pausing"));
        matches.MapPost("/{id}/resume", (string id, ArenaStore store, MatchRunner runner) => Control(id, store, runner, runner.Resume, "resuming"));
        matches.MapPost("/{id}/stop", (string id, ArenaStore store, MatchRunner runner) => Control(id, store, runner, runner.Stop, "stopping"));

        app.MapGet("/api/events/stream", async (HttpContext context, ArenaStore store, MatchEventHub hub, TimeProvider time) =>
            await Stream(context, null, store, hub, time));
        app.MapGet("/api/leaderboard", (ArenaStore store) => Json(Leaderboard(store)));
        app.MapGet("/api/batches/{batchId}", (string batchId, ArenaStore store) => Json(Aggregate(store.MatchesOfBatch(batchId))));
        app.MapPost("/api/batches/plan", async (HttpRequest r, ArenaStore store) =>
        {
            var body = await ReadBody(r) ?? throw new ArenaValidationException("combinations", "combinations is required");
            var combos = Combinations(body["combinations"] ?? body["agentCombinations"] ?? body["agent_combinations"], "combinations", store);
            if (combos.Count == 0)
            {
                throw new ArenaValidationException("combinations", "combinations must be a non-empty array");
            }

            var per = (int)(Number(body["matchesPerCombination"] ?? body["matches_per_combination"], "matchesPerCombination", false, 1, 50) ?? 3);
            var runs = new JsonArray();
            foreach (var (red, blue, target) in combos)
            {
                for (var i = 0; i < per; i++)
                {
                    runs.Add(new JsonObject { ["red_agent_id"] = red, ["blue_agent_id"] = blue, ["target_agent_id"] = target, ["index"] = i });
                }
            }

            return Json(new JsonObject { ["count"] = runs.Count, ["runs"] = runs });
        });
        app.MapPost("/api/schedule/pick", async (HttpRequest r, ArenaStore store) =>
        {
            var body = await ReadBody(r) ?? [];
            var combos = Combinations(body["combinations"], "combinations", store);
            var targetId = body["targetAgentId"]?.ToString();
            if (targetId is not null && store.GetAgent(targetId) is not { Type: AgentTypes.Target })
            {
                throw new ArenaValidationException("targetAgentId", $"targetAgentId: no target agent '{targetId}'");
            }

            if (combos.Count == 0)
            {
                var reds = store.ListAgents(AgentTypes.Red);
                var blues = store.ListAgents(AgentTypes.Blue);
                var targets = targetId is null ? store.ListAgents(AgentTypes.Target) : [store.GetAgent(targetId)!];
                combos = [.. from red in reds from blue in blues from target in targets select (red.Id, blue.Id, target.Id)];
            }

            if (combos.Count == 0)
            {
                throw new ArenaValidationException("combinations", "there is no red, blue and target agent to pick from");
            }

            // Least-played combination first; ties keep the listed order.
            var played = store.ListMatches(5000, 0).GroupBy(m => (m.RedAgentId, m.BlueAgentId, m.TargetAgentId)).ToDictionary(g => g.Key, g => g.Count());
            var pick = combos.OrderBy(c => played.GetValueOrDefault(c)).First();
            return Json(new JsonObject
            {
                ["red_agent_id"] = pick.Red, ["blue_agent_id"] = pick.Blue, ["target_agent_id"] = pick.Target,
                ["matches_played"] = played.GetValueOrDefault(pick), ["candidates"] = combos.Count,
            });
        });
        app.MapPost("/api/batches/aggregate", async (HttpRequest r, ArenaStore store) =>
        {
            var body = await ReadBody(r) ?? throw new ArenaValidationException("matchIds", "matchIds is required");
            var ids = MatchIdsOf(body["matchIds"]);
            var list = ids.Select(id => store.GetMatch(id) ?? throw new ArenaValidationException("matchIds", $"matchIds: no match '{id}'")).ToList();
            return Json(Aggregate(list));
        });
    }

    /// <summary>Accepts an array of ids, of JSON texts of ids, or one JSON text of an array (what flows pass along).</summary>
    private static List<string> MatchIdsOf(JsonNode? node)
    {
        var ids = new List<string>();
        void Add(JsonNode? n)
        {
            switch (n)
            {
                case JsonArray a:
                    foreach (var item in a)
                    {
                        Add(item);
                    }

                    break;
                case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                    var s = v.GetValue<string>().Trim();
                    if (s.StartsWith('[') || s.StartsWith('"'))
                    {
                        try
                        {
                            Add(JsonNode.Parse(s));
                            break;
                        }
                        catch (JsonException)
                        {
                            // a plain id
                        }
                    }

                    if (s.Length > 0)
                    {
                        ids.Add(s);
                    }

                    break;
                case JsonObject o when (o["match_id"] ?? o["matchId"]) is not null:
                    Add(o["match_id"] ?? o["matchId"]);
                    break;
                default:
                    throw new ArenaValidationException("matchIds", "matchIds must be an array of match ids");
            }
        }

        Add(node ?? throw new ArenaValidationException("matchIds", "matchIds is required"));
        if (ids.Count == 0)
        {
            throw new ArenaValidationException("matchIds", "matchIds is empty");
        }

        return ids;
    }

    /// <summary>Reads agent combinations (snake_case or camelCase keys; a JSON text of the list works too) and checks the agents.</summary>
    private static List<(string Red, string Blue, string Target)> Combinations(JsonNode? node, string field, ArenaStore store)
    {
        if (node is JsonValue text && text.GetValueKind() == JsonValueKind.String)
        {
            var s = text.GetValue<string>().Trim();
            if (s.Length == 0)
            {
                return [];
            }

            try
            {
                node = JsonNode.Parse(s);
            }
            catch (JsonException)
            {
                throw new ArenaValidationException(field, $"{field} must be a JSON array");
            }
        }

        if (node is null)
        {
            return [];
        }

        if (node is not JsonArray array)
        {
            throw new ArenaValidationException(field, $"{field} must be an array");
        }

        var list = new List<(string, string, string)>();
        for (var i = 0; i < array.Count; i++)
        {
            if (array[i] is not JsonObject combo)
            {
                throw new ArenaValidationException($"{field}[{i}]", $"{field}[{i}] must be an object");
            }

            string Id(string snake, string camel, string type)
            {
                var id = (combo[snake] ?? combo[camel])?.ToString();
                if (string.IsNullOrWhiteSpace(id))
                {
                    throw new ArenaValidationException($"{field}[{i}].{camel}", $"{field}[{i}].{camel} is required");
                }

                if (store.GetAgent(id) is not { } agent || agent.Type != type)
                {
                    throw new ArenaValidationException($"{field}[{i}].{camel}", $"{field}[{i}].{camel}: no {type} agent '{id}'");
                }

                return id;
            }

            list.Add((Id("red_agent_id", "redAgentId", AgentTypes.Red), Id("blue_agent_id", "blueAgentId", AgentTypes.Blue), Id("target_agent_id", "targetAgentId", AgentTypes.Target)));
        }

        return list;
    }

    private static IResult Control(string id, ArenaStore store, MatchRunner runner, Func<string, bool> action, string verb)
    {
        var match = store.GetMatch(id);
        if (match is null)
        {
            return NotFound("match", id);
        }

        if (!action(id))
        {
            return Json(new JsonObject { ["message"] = $"match '{id}' is {match.Status}; {verb} needs a running match" }, 409);
        }

        return Json(new JsonObject { ["id"] = id, ["accepted"] = true, ["status"] = store.GetMatch(id)!.Status });
    }

    private static async Task Stream(HttpContext context, string? matchId, ArenaStore store, MatchEventHub hub, TimeProvider time)
    {
        var response = context.Response;
        response.Headers.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        var ct = context.RequestAborted;
        var (subscription, reader) = hub.Subscribe(matchId);
        try
        {
            long last = long.TryParse(context.Request.Headers["Last-Event-ID"].ToString(), out var l) ? l
                : long.TryParse(context.Request.Query["after"].ToString(), out var a) ? a : 0;
            var backlog = matchId is null ? store.RecentEvents(30).Where(e => e.Seq > last).ToList() : store.Events(matchId, last, 100_000);
            var finished = false;
            foreach (var e in backlog)
            {
                await Write(response, e, ct);
                last = e.Seq;
                finished |= IsEnd(e);
            }

            await response.Body.FlushAsync(ct);
            if (matchId is not null && (finished || MatchStatuses.IsFinal(store.GetMatch(matchId)?.Status ?? MatchStatuses.Completed)) && !reader.TryPeek(out _))
            {
                return;
            }

            while (!ct.IsCancellationRequested)
            {
                var wait = reader.WaitToReadAsync(ct).AsTask();
                var done = await Task.WhenAny(wait, Task.Delay(TimeSpan.FromSeconds(15), time, ct));
                if (done != wait)
                {
                    await response.WriteAsync(": keep-alive\n\n", ct);
                    await response.Body.FlushAsync(ct);
                    continue;
                }

                if (!await wait)
                {
                    return;
                }

                while (reader.TryRead(out var e))
                {
                    if (e.Seq <= last)
                    {
                        continue;
                    }

                    await Write(response, e, ct);
                    last = e.Seq;
                    if (matchId is not null && IsEnd(e))
                    {
                        await response.Body.FlushAsync(ct);
                        return;
                    }
                }

                await response.Body.FlushAsync(ct);
            }
        }
        catch (OperationCanceledException)
        {
            // client disconnected
        }
        finally
        {
            hub.Unsubscribe(subscription);
        }
    }

    private static bool IsEnd(MatchEvent e) => e.Type is "match_completed" or "match_cancelled" or "match_failed";

    private static Task Write(HttpResponse response, MatchEvent e, CancellationToken ct) =>
        response.WriteAsync($"id: {e.Seq}\nevent: {e.Type}\ndata: {ArenaJson.Serialize(e)}\n\n", ct);

    /// <summary>Match metrics with the names the flows use (snake_case).</summary>
    internal static JsonObject Metrics(Match match, IReadOnlyList<Round> rounds)
    {
        var types = new JsonObject();
        foreach (var g in rounds.GroupBy(r => r.Attack.Type).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            types[g.Key] = g.Count();
        }

        var outcomes = new JsonObject();
        foreach (var o in new[] { Outcomes.Success, Outcomes.Detected, Outcomes.Mitigated, Outcomes.Blocked })
        {
            outcomes[o] = rounds.Count(r => r.Judgement.Outcome == o);
        }

        var score = Scoring.Score([.. rounds.Select(r => r.Judgement)]);
        return new JsonObject
        {
            ["match_id"] = match.Id,
            ["status"] = match.Status,
            ["winner"] = match.Winner,
            ["total_rounds"] = rounds.Count,
            ["red_score"] = score.Red,
            ["blue_score"] = score.Blue,
            ["attack_success_rate"] = score.AttackSuccessRate,
            ["defense_success_rate"] = score.DefenseSuccessRate,
            ["average_severity"] = score.Severity,
            ["max_severity"] = score.MaxSeverity,
            ["critical_vulnerabilities"] = rounds.Count(r => r.Judgement.Severity == Severities.Critical),
            ["high_vulnerabilities"] = rounds.Count(r => r.Judgement.Severity == Severities.High),
            ["medium_vulnerabilities"] = rounds.Count(r => r.Judgement.Severity == Severities.Medium),
            ["low_vulnerabilities"] = rounds.Count(r => r.Judgement.Severity == Severities.Low),
            ["target_compromised_rounds"] = rounds.Count(r => r.Judgement.TargetCompromised),
            ["outcomes"] = outcomes,
            ["attack_types"] = types,
        };
    }

    private static JsonObject Transcript(Match match, IReadOnlyList<Round> rounds, HttpRequest r)
    {
        var attackType = r.Query["attackType"].ToString();
        var outcome = r.Query["outcome"].ToString();
        var severity = r.Query["severity"].ToString();
        var minSeverity = double.TryParse(r.Query["minSeverity"].ToString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var ms) ? ms : 0;
        var entries = new JsonArray();
        foreach (var round in rounds)
        {
            var j = round.Judgement;
            if ((attackType.Length > 0 && round.Attack.Type != attackType) || (outcome.Length > 0 && j.Outcome != outcome)
                || (severity.Length > 0 && j.Severity != severity) || j.SeverityScore < minSeverity)
            {
                continue;
            }

            entries.Add(new JsonObject
            {
                ["round"] = round.Number,
                ["attackType"] = round.Attack.Type,
                ["templateId"] = round.Attack.TemplateId,
                ["mutations"] = new JsonArray([.. round.Attack.Mutations.Select(m => JsonValue.Create(m))]),
                ["severity"] = j.Severity,
                ["outcome"] = j.Outcome,
                ["messages"] = new JsonArray
                {
                    new JsonObject { ["role"] = "red", ["agentId"] = match.RedAgentId, ["content"] = round.Attack.Text },
                    new JsonObject { ["role"] = "target", ["agentId"] = match.TargetAgentId, ["content"] = round.Response.Text, ["toolCalls"] = new JsonArray([.. round.Response.ToolCalls.Select(t => JsonValue.Create(t.Name))]) },
                    new JsonObject { ["role"] = "blue", ["agentId"] = match.BlueAgentId, ["content"] = $"{round.Defense.Action}: {string.Join("; ", round.Defense.Reasons)}", ["delivered"] = round.Defense.DeliveredText },
                    new JsonObject { ["role"] = "judge", ["content"] = j.Explanation },
                },
            });
        }

        return new JsonObject { ["matchId"] = match.Id, ["status"] = match.Status, ["winner"] = match.Winner, ["rounds"] = rounds.Count, ["entries"] = entries };
    }

    private static JsonArray Leaderboard(ArenaStore store)
    {
        var matches = store.ListMatches(5000, 0, MatchStatuses.Completed);
        var rows = new JsonArray();
        foreach (var agent in store.ListAgents(null))
        {
            var played = matches.Where(m => m.RedAgentId == agent.Id || m.BlueAgentId == agent.Id || m.TargetAgentId == agent.Id).ToList();
            var side = agent.Type == AgentTypes.Red ? "red" : "blue";
            var wins = played.Count(m => m.Winner == side);
            var draws = played.Count(m => m.Winner == "draw");
            rows.Add(new JsonObject
            {
                ["agentId"] = agent.Id,
                ["name"] = agent.Name,
                ["type"] = agent.Type,
                ["version"] = agent.Version,
                ["matches"] = played.Count,
                ["wins"] = wins,
                ["draws"] = draws,
                ["losses"] = played.Count - wins - draws,
                ["winRate"] = played.Count == 0 ? 0 : Math.Round(100.0 * wins / played.Count, 2),
                ["averageSeverity"] = played.Count == 0 ? 0 : Math.Round(played.Average(m => m.Score.Severity), 2),
            });
        }

        return new JsonArray([.. rows.OrderByDescending(r => r!["winRate"]!.GetValue<double>()).ThenByDescending(r => r!["matches"]!.GetValue<int>()).Select(r => r!.DeepClone())]);
    }

    internal static JsonObject Aggregate(IReadOnlyList<Match> matches)
    {
        var combos = new JsonArray();
        foreach (var g in matches.GroupBy(m => (m.RedAgentId, m.BlueAgentId, m.TargetAgentId)))
        {
            var list = g.ToList();
            var done = list.Where(m => m.Status == MatchStatuses.Completed).ToList();
            int red = done.Count(m => m.Winner == "red"), blue = done.Count(m => m.Winner == "blue"), draw = done.Count(m => m.Winner == "draw");
            double Rate(int n) => done.Count == 0 ? 0 : Math.Round(100.0 * n / done.Count, 2);
            combos.Add(new JsonObject
            {
                ["key"] = $"{g.Key.RedAgentId}|{g.Key.BlueAgentId}|{g.Key.TargetAgentId}",
                ["redAgentId"] = g.Key.RedAgentId,
                ["blueAgentId"] = g.Key.BlueAgentId,
                ["targetAgentId"] = g.Key.TargetAgentId,
                ["matches"] = new JsonArray([.. list.Select(m => JsonValue.Create(m.Id))]),
                ["totalMatches"] = list.Count,
                ["completedMatches"] = done.Count,
                ["redWins"] = red,
                ["blueWins"] = blue,
                ["draws"] = draw,
                ["redWinRate"] = Rate(red),
                ["blueWinRate"] = Rate(blue),
                ["drawRate"] = Rate(draw),
                ["averageSeverity"] = done.Count == 0 ? 0 : Math.Round(done.Average(m => m.Score.Severity), 2),
                ["averageAttackSuccessRate"] = done.Count == 0 ? 0 : Math.Round(done.Average(m => m.Score.AttackSuccessRate), 2),
                ["averageDefenseSuccessRate"] = done.Count == 0 ? 0 : Math.Round(done.Average(m => m.Score.DefenseSuccessRate), 2),
            });
        }

        return new JsonObject { ["totalMatches"] = matches.Count, ["combinationCount"] = combos.Count, ["combinations"] = combos };
    }

    // ---------------------------------------------------------------- alerts

    private static void MapAlerts(WebApplication app)
    {
        app.MapPost("/api/alerts", async (HttpRequest r, ArenaStore store, TimeProvider time) =>
        {
            var body = await ReadBody(r) ?? throw new ArenaValidationException("severity", "severity is required");
            var matchId = (body["match_id"] ?? body["matchId"])?.ToString();
            var severity = Number(body["severity"], "severity", required: true, 0, 10)!.Value;
            var critical = Number(body["critical_vulnerabilities"] ?? body["criticalVulnerabilities"], "critical_vulnerabilities", required: false, 0, 1_000_000) ?? 0;
            var alert = new Alert
            {
                Id = "al_" + Ids.New(time),
                MatchId = string.IsNullOrEmpty(matchId) ? null : matchId,
                Severity = severity,
                CriticalVulnerabilities = (int)critical,
                Message = body["message"]?.ToString() ?? $"Average severity {severity:0.##} reached the alert threshold" + (matchId is null ? "" : $" in match {matchId}"),
                Source = body["source"]?.ToString() ?? "api",
                CreatedAt = time.GetUtcNow(),
            };
            store.SaveAlert(alert);
            return Json(alert, 201);
        });
        app.MapGet("/api/alerts", (HttpRequest r, ArenaStore store) => Json(store.ListAlerts(Int(r, "limit", 100, 1, 1000))));
        app.MapPost("/api/alerts/{id}/ack", (string id, ArenaStore store) =>
        {
            var alert = store.GetAlert(id);
            if (alert is null)
            {
                return NotFound("alert", id);
            }

            store.SaveAlert(alert with { Acknowledged = true });
            return Json(alert with { Acknowledged = true });
        });
    }

    /// <summary>A number given as a JSON number or as numeric text (flows render values into JSON strings).</summary>
    private static double? Number(JsonNode? node, string field, bool required, double min, double max)
    {
        if (node is null)
        {
            return required ? throw new ArenaValidationException(field, $"{field} is required") : null;
        }

        double value;
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number)
        {
            value = v.GetValue<double>();
        }
        else if (node is JsonValue s && s.GetValueKind() == JsonValueKind.String && double.TryParse(s.GetValue<string>(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed))
        {
            value = parsed;
        }
        else
        {
            throw new ArenaValidationException(field, $"{field} must be a number");
        }

        if (value < min || value > max)
        {
            throw new ArenaValidationException(field, $"{field} must be between {min} and {max}");
        }

        return value;
    }

    // ---------------------------------------------------------------- datasets and fine-tuning

    private sealed record ExportBody(JsonNode? MatchIds, string? Format, JsonNode? MinSeverity, string? From, string? To, JsonNode? Latest);

    private static void MapTraining(WebApplication app)
    {
        var oumi = app.MapGroup("/api/oumi");
        oumi.MapPost("/export-dataset", async (HttpRequest r, DatasetService datasets) =>
        {
            var body = Bind<ExportBody>(await ReadBody(r));
            var ids = body.MatchIds switch
            {
                null => null,
                JsonArray { Count: 0 } => null,
                _ => MatchIdsOrEmpty(body.MatchIds),
            };
            var min = Number(body.MinSeverity, "minSeverity", required: false, 0, 10);
            var latest = (int?)Number(body.Latest, "latest", required: false, 0, 100_000);
            var (dataset, records) = datasets.Export(new ExportDatasetRequest(ids, body.Format, min, Date(body.From, "from"), Date(body.To, "to"), latest));
            var validation = DatasetService.Validate(records);
            var result = ArenaJson.ToObject(dataset);
            result["datasetId"] = dataset.Id;
            result["downloadUrl"] = $"/api/oumi/datasets/{dataset.Id}";
            result["validation"] = validation;
            result["dataset"] = JsonNode.Parse(ArenaJson.Serialize(records));
            return Json(result, 201);
        });
        oumi.MapGet("/datasets", (ArenaStore store) => Json(store.ListDatasets(100)));
        oumi.MapGet("/datasets/{id}", (string id, ArenaStore store) =>
        {
            var dataset = store.GetDataset(id);
            if (dataset is null)
            {
                return NotFound("dataset", id);
            }

            var text = DatasetService.Render(dataset, store.DatasetRecords(id) ?? []);
            return Results.Text(text, dataset.Format == "jsonl" ? "application/x-ndjson" : "application/json");
        });
        oumi.MapGet("/datasets/{id}/validate", (string id, ArenaStore store) =>
            store.DatasetRecords(id) is { } records ? Json(DatasetService.Validate(records)) : NotFound("dataset", id));
        oumi.MapPost("/fine-tune", async (HttpRequest r, FineTuneService jobs) =>
        {
            var body = await ReadBody(r) ?? throw new ArenaValidationException("agentId", "agentId is required");
            if (body["config"] is { } c && c is not JsonObject)
            {
                throw new ArenaValidationException("config", "config must be an object");
            }

            var job = jobs.Submit(new FineTuneRequest(body["agentId"]?.ToString(), body["datasetId"]?.ToString(), body["config"] as JsonObject));
            return Json(job, 201);
        });
        oumi.MapGet("/fine-tune", (ArenaStore store) => Json(store.ListJobs(100)));
        oumi.MapGet("/fine-tune/{jobId}", (string jobId, ArenaStore store) => store.GetJob(jobId) is { } job ? Json(job) : NotFound("fine-tune job", jobId));

        app.MapPost("/api/evaluate/defense", async (HttpRequest r, ArenaStore store, Agents.AgentCatalog catalog) =>
        {
            var body = await ReadBody(r) ?? [];
            var blueId = body["blueAgentId"]?.ToString() ?? Agents.AgentCatalog.DefaultBlue;
            var targetId = body["targetAgentId"]?.ToString() ?? Agents.AgentCatalog.DefaultTarget;
            var blue = store.GetAgent(blueId) ?? throw new ArenaValidationException("blueAgentId", $"blueAgentId: no agent '{blueId}'");
            var target = store.GetAgent(targetId) ?? throw new ArenaValidationException("targetAgentId", $"targetAgentId: no agent '{targetId}'");
            var count = (int)(Number(body["count"], "count", false, 1, 5000) ?? FineTuneService.HeldOutCount);
            var seed = (int)(Number(body["seed"], "seed", false, 0, int.MaxValue) ?? FineTuneService.HeldOutSeed);
            var player = new Agents.BuiltInBlueAgent(Agents.BlueSettings.From(blue), catalog.DetectorFor(blue));
            var result = DefenseEvaluator.Evaluate(player, Agents.TargetProfile.From(target), DefenseEvaluator.HeldOutAttacks(seed, count), Corpus.Benign(3, 100));
            return Json(result);
        });
    }

    private static DateTimeOffset? Date(string? text, string field)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var d)
            ? d
            : throw new ArenaValidationException(field, $"{field} must be an ISO-8601 date");
    }

    private static List<string>? MatchIdsOrEmpty(JsonNode? node)
    {
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.String && v.GetValue<string>().Trim() is "" or "[]")
        {
            return null;
        }

        return MatchIdsOf(node);
    }

    // ---------------------------------------------------------------- Kestra facade

    private static void MapKestra(WebApplication app)
    {
        var kestra = app.MapGroup("/api/kestra");
        kestra.MapPost("/trigger/{kind}", async (string kind, HttpRequest r, KestraFacade facade) =>
            Json(await facade.TriggerAsync(kind, await ReadBody(r), r.HttpContext.RequestAborted)));
        kestra.MapPost("/webhook/{flowId}", async (string flowId, HttpRequest r, KestraFacade facade) =>
            Json(await facade.WebhookAsync(flowId, await ReadBody(r), r.HttpContext.RequestAborted)));
        // Windhover's execution JSON passed through unchanged: every field Kestra's API has (state histories, task runs
        // with attempts and outputs, variables, trigger) reaches the caller.
        kestra.MapGet("/executions/{id}", async (string id, WindhoverClient windhover, CancellationToken ct) =>
            await windhover.GetExecutionJsonAsync(id, ct) is { } e ? Json(e) : NotFound("execution", id));
        kestra.MapGet("/executions", async (HttpRequest r, WindhoverClient windhover, ArenaOptions options, CancellationToken ct) =>
        {
            var ns = r.Query["namespace"].ToString();
            var flowId = r.Query["flowId"].ToString();
            var limit = Int(r, "limit", 100, 1, 1000);
            return Json(await windhover.SearchExecutionsJsonAsync(ns.Length == 0 ? options.FlowNamespace : ns, flowId.Length == 0 ? null : flowId, size: limit, cancellationToken: ct));
        });
        kestra.MapGet("/flows", () => Json(new JsonObject
        {
            ["triggers"] = new JsonObject(KestraFacade.TriggerFlows.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value)))),
        }));
    }

    // ---------------------------------------------------------------- dashboard

    private static void MapDashboard(WebApplication app)
    {
        var assembly = typeof(ArenaEndpoints).Assembly;
        IResult Resource(string name, string contentType)
        {
            var stream = assembly.GetManifestResourceStream("arena-ui/" + name);
            return stream is null ? Results.NotFound() : Results.Stream(stream, contentType);
        }

        app.MapGet("/", () => Resource("index.html", "text/html; charset=utf-8"));
        app.MapGet("/app.js", () => Resource("app.js", "text/javascript; charset=utf-8"));
        app.MapGet("/app.css", () => Resource("app.css", "text/css; charset=utf-8"));
    }
}

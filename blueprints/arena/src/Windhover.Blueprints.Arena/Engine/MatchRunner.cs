using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Windhover.Blueprints.Arena.Agents;
using Windhover.Blueprints.Arena.Model;
using Windhover.Blueprints.Arena.Storage;

namespace Windhover.Blueprints.Arena.Engine;

/// <summary>A request body error; the API answers 400 naming the field.</summary>
public sealed class ArenaValidationException(string field, string message) : Exception(message)
{
    public string Field { get; } = field;
}

/// <summary>Fan-out of stored match events to live subscribers (SSE).</summary>
public sealed class MatchEventHub
{
    private readonly ConcurrentDictionary<Guid, (string? MatchId, Channel<MatchEvent> Channel)> _subscribers = new();

    public (Guid Id, ChannelReader<MatchEvent> Reader) Subscribe(string? matchId)
    {
        var id = Guid.NewGuid();
        var channel = Channel.CreateBounded<MatchEvent>(new BoundedChannelOptions(4096) { FullMode = BoundedChannelFullMode.DropOldest });
        _subscribers[id] = (matchId, channel);
        return (id, channel.Reader);
    }

    public void Unsubscribe(Guid id)
    {
        if (_subscribers.TryRemove(id, out var s))
        {
            s.Channel.Writer.TryComplete();
        }
    }

    public void Publish(MatchEvent e)
    {
        foreach (var (_, (matchId, channel)) in _subscribers)
        {
            if (matchId is null || matchId == e.MatchId)
            {
                channel.Writer.TryWrite(e);
            }
        }
    }
}

public sealed record CreateMatchRequest(string? RedAgentId, string? BlueAgentId, string? TargetAgentId, string? Mode, int? MaxRounds, long? Seed, string? BatchId = null);

/// <summary>
/// Runs matches in the background: several at once (bounded by <see cref="ArenaOptions.MaxConcurrentMatches"/>), each
/// pausable, resumable and stoppable. Every round is stored with the match state in one transaction before its events go
/// out, so a restart resumes a match after its last stored round (the red agent replays the stored feedback first).
/// </summary>
public sealed class MatchRunner : IHostedService, IDisposable
{
    private readonly ArenaStore _store;
    private readonly AgentCatalog _catalog;
    private readonly MatchEventHub _hub;
    private readonly ArenaOptions _options;
    private readonly ILogger<MatchRunner> _logger;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _slots;
    private readonly ConcurrentDictionary<string, RunningMatch> _running = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _shutdown = new();
    private readonly Random _seeds;
    private readonly Lock _seedGate = new();

    public MatchRunner(ArenaStore store, AgentCatalog catalog, MatchEventHub hub, ArenaOptions options, ILogger<MatchRunner> logger)
    {
        _store = store;
        _catalog = catalog;
        _hub = hub;
        _options = options;
        _logger = logger;
        _time = options.TimeProvider;
        _slots = new SemaphoreSlim(Math.Max(1, options.MaxConcurrentMatches));
        _seeds = options.RandomSeed is { } s ? new Random(s) : new Random();
    }

    private sealed class RunningMatch
    {
        public required CancellationTokenSource Stop { get; init; }
        public volatile bool PauseRequested;
        public TaskCompletionSource ResumeSignal = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public Task? Task;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (_options.ResumeUnfinishedMatches)
        {
            foreach (var match in _store.UnfinishedMatches())
            {
                _logger.LogInformation("Resuming match {MatchId} after round {Round}", match.Id, match.CurrentRound);
                Launch(match, startPaused: match.Status == MatchStatuses.Paused);
            }
        }

        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _shutdown.CancelAsync().ConfigureAwait(false);
        var tasks = _running.Values.Select(r => r.Task).OfType<Task>().ToArray();
        await Task.WhenAll(tasks).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public Match Create(CreateMatchRequest request)
    {
        var red = RequireAgent("redAgentId", request.RedAgentId, AgentTypes.Red);
        var blue = RequireAgent("blueAgentId", request.BlueAgentId, AgentTypes.Blue);
        var target = RequireAgent("targetAgentId", request.TargetAgentId, AgentTypes.Target);
        var mode = request.Mode ?? MatchModes.Standard;
        if (!MatchModes.All.Contains(mode))
        {
            throw new ArenaValidationException("mode", $"mode must be one of {string.Join(", ", MatchModes.All)}");
        }

        if (request.MaxRounds is <= 0 or > 10_000)
        {
            throw new ArenaValidationException("maxRounds", "maxRounds must be between 1 and 10000");
        }

        long seed;
        lock (_seedGate)
        {
            seed = request.Seed ?? _seeds.NextInt64(1, int.MaxValue);
        }

        var now = _time.GetUtcNow();
        var match = new Match
        {
            Id = "m_" + Ids.New(_time),
            RedAgentId = red.Id,
            BlueAgentId = blue.Id,
            TargetAgentId = target.Id,
            Mode = mode,
            MaxRounds = request.MaxRounds ?? MatchModes.Rounds(mode),
            Status = MatchStatuses.Pending,
            Seed = seed,
            BatchId = string.IsNullOrWhiteSpace(request.BatchId) ? null : request.BatchId,
            CreatedAt = now,
        };
        _store.SaveMatch(match);
        Emit(match.Id, "match_created", null, new JsonObject
        {
            ["redAgentId"] = red.Id, ["blueAgentId"] = blue.Id, ["targetAgentId"] = target.Id, ["mode"] = mode, ["maxRounds"] = match.MaxRounds, ["seed"] = seed,
        });
        Launch(match, startPaused: false);
        return match;
    }

    private Agent RequireAgent(string field, string? id, string type)
    {
        if (string.IsNullOrWhiteSpace(id))
        {
            throw new ArenaValidationException(field, $"{field} is required");
        }

        var agent = _store.GetAgent(id) ?? throw new ArenaValidationException(field, $"{field}: no agent '{id}'");
        if (agent.Type != type)
        {
            throw new ArenaValidationException(field, $"{field}: agent '{id}' is a {agent.Type} agent, not {type}");
        }

        return agent;
    }

    public bool Pause(string id)
    {
        if (!_running.TryGetValue(id, out var run))
        {
            return false;
        }

        run.PauseRequested = true;
        return true;
    }

    public bool Resume(string id)
    {
        if (!_running.TryGetValue(id, out var run))
        {
            return false;
        }

        run.PauseRequested = false;
        run.ResumeSignal.TrySetResult();
        return true;
    }

    public bool Stop(string id)
    {
        if (!_running.TryGetValue(id, out var run))
        {
            return false;
        }

        run.Stop.Cancel();
        run.ResumeSignal.TrySetResult();
        return true;
    }

    public bool IsRunning(string id) => _running.ContainsKey(id);

    /// <summary>Waits until the match is in a final state (tests and the batch endpoint).</summary>
    public async Task<Match> WaitAsync(string id, CancellationToken cancellationToken)
    {
        if (_running.TryGetValue(id, out var run) && run.Task is { } task)
        {
            await task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        return _store.GetMatch(id) ?? throw new KeyNotFoundException(id);
    }

    private void Launch(Match match, bool startPaused)
    {
        var run = new RunningMatch { Stop = CancellationTokenSource.CreateLinkedTokenSource(_shutdown.Token), PauseRequested = startPaused };
        if (!_running.TryAdd(match.Id, run))
        {
            return;
        }

        run.Task = Task.Run(() => RunAsync(match.Id, run));
    }

    private async Task RunAsync(string matchId, RunningMatch run)
    {
        var ct = run.Stop.Token;
        var acquired = false;
        try
        {
            await _slots.WaitAsync(ct).ConfigureAwait(false);
            acquired = true;
            await PlayAsync(matchId, run, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_shutdown.IsCancellationRequested)
        {
            // Service stopping: the match stays running/pending in the store and resumes on the next start.
        }
        catch (OperationCanceledException)
        {
            Finish(matchId, MatchStatuses.Cancelled, "match_cancelled", null);
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "Match {MatchId} failed", matchId);
            Finish(matchId, MatchStatuses.Failed, "match_failed", ex.Message);
        }
        finally
        {
            if (acquired)
            {
                _slots.Release();
            }

            _running.TryRemove(matchId, out _);
            run.Stop.Dispose();
        }
    }

    private void Finish(string matchId, string status, string eventType, string? error)
    {
        var match = _store.GetMatch(matchId);
        if (match is null || MatchStatuses.IsFinal(match.Status))
        {
            return;
        }

        match = match with { Status = status, Error = error, CompletedAt = _time.GetUtcNow(), Winner = match.Score.Rounds > 0 ? Scoring.Winner(match.Score) : null };
        _store.SaveMatch(match);
        Emit(matchId, eventType, null, new JsonObject { ["status"] = status, ["error"] = error, ["winner"] = match.Winner });
    }

    private async Task PlayAsync(string matchId, RunningMatch run, CancellationToken ct)
    {
        var match = _store.GetMatch(matchId) ?? throw new InvalidOperationException($"match {matchId} vanished");
        var redAgent = _store.GetAgent(match.RedAgentId) ?? throw new InvalidOperationException($"red agent {match.RedAgentId} was deleted");
        var blueAgent = _store.GetAgent(match.BlueAgentId) ?? throw new InvalidOperationException($"blue agent {match.BlueAgentId} was deleted");
        var targetAgent = _store.GetAgent(match.TargetAgentId) ?? throw new InvalidOperationException($"target agent {match.TargetAgentId} was deleted");

        var red = _catalog.CreateRed(redAgent, unchecked((int)match.Seed));
        var target = _catalog.CreateTarget(targetAgent, unchecked((int)(match.Seed * 31 + 7)));
        var blue = _catalog.CreateBlue(blueAgent);
        var profile = TargetProfile.From(targetAgent);

        var judgements = new List<Judgement>();
        foreach (var stored in _store.Rounds(matchId))
        {
            red.Observe(stored.Attack, stored.Judgement);
            judgements.Add(stored.Judgement);
        }

        if (match.Status == MatchStatuses.Pending)
        {
            match = match with { Status = MatchStatuses.Running, StartedAt = _time.GetUtcNow() };
            _store.SaveMatch(match);
            Emit(matchId, "match_started", null, new JsonObject { ["mode"] = match.Mode, ["maxRounds"] = match.MaxRounds });
        }

        var delay = match.Mode == MatchModes.Continuous && _options.RoundDelay < TimeSpan.FromMilliseconds(500) ? TimeSpan.FromMilliseconds(500) : _options.RoundDelay;
        for (var number = match.CurrentRound + 1; match.MaxRounds is null || number <= match.MaxRounds; number++)
        {
            if (run.PauseRequested)
            {
                match = match with { Status = MatchStatuses.Paused };
                _store.SaveMatch(match);
                Emit(matchId, "match_paused", null, new JsonObject { ["afterRound"] = number - 1 });
                while (run.PauseRequested)
                {
                    run.ResumeSignal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    if (!run.PauseRequested)
                    {
                        break;
                    }

                    await run.ResumeSignal.Task.WaitAsync(ct).ConfigureAwait(false);
                }

                ct.ThrowIfCancellationRequested();
                match = match with { Status = MatchStatuses.Running };
                _store.SaveMatch(match);
                Emit(matchId, "match_resumed", null, []);
            }

            ct.ThrowIfCancellationRequested();
            Emit(matchId, "round_started", number, []);
            var attack = await red.NextAttackAsync(number, ct).ConfigureAwait(false);
            Emit(matchId, "attack", number, new JsonObject
            {
                ["agentId"] = redAgent.Id, ["attackType"] = attack.Type, ["templateId"] = attack.TemplateId, ["text"] = attack.Text,
                ["goal"] = attack.Goal.Kind.ToString(), ["mutations"] = new JsonArray([.. attack.Mutations.Select(m => JsonValue.Create(m))]),
            });
            var response = await target.RespondAsync(attack, number, ct).ConfigureAwait(false);
            Emit(matchId, "target", number, new JsonObject
            {
                ["agentId"] = targetAgent.Id, ["text"] = response.Text, ["refused"] = response.Refused,
                ["toolCalls"] = new JsonArray([.. response.ToolCalls.Select(t => JsonValue.Create(t.Name))]),
            });
            var defense = await blue.DefendAsync(attack, response, profile.AllowedTools, ct).ConfigureAwait(false);
            var judgement = Judge.Score(attack, response, defense, profile.Canary, profile.AllowedTools);
            Emit(matchId, "defense", number, new JsonObject
            {
                ["agentId"] = blueAgent.Id, ["action"] = defense.Action, ["attackProbability"] = Math.Round(defense.AttackProbability, 3),
                ["deliveredText"] = defense.DeliveredText, ["reasons"] = new JsonArray([.. defense.Reasons.Select(r => JsonValue.Create(r))]),
                ["outcome"] = judgement.Outcome,
            });
            red.Observe(attack, judgement);
            judgements.Add(judgement);

            var score = Scoring.Score(judgements);
            match = match with { CurrentRound = number, Score = score };
            var round = new Round { MatchId = matchId, Number = number, Attack = attack, Response = response, Defense = defense, Judgement = judgement, CreatedAt = _time.GetUtcNow() };
            _store.SaveRound(round, match);
            Emit(matchId, "judgement", number, new JsonObject
            {
                ["attackType"] = attack.Type, ["severity"] = judgement.Severity, ["severityScore"] = judgement.SeverityScore, ["outcome"] = judgement.Outcome,
                ["targetBehaviour"] = judgement.TargetBehaviour, ["redPoints"] = judgement.RedPoints, ["bluePoints"] = judgement.BluePoints,
                ["explanation"] = judgement.Explanation, ["score"] = ArenaJson.ToObject(score),
            });

            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, _time, ct).ConfigureAwait(false);
            }
        }

        var final = Scoring.Score(judgements);
        match = match with { Status = MatchStatuses.Completed, Score = final, Winner = Scoring.Winner(final), CompletedAt = _time.GetUtcNow() };
        _store.SaveMatch(match);
        Emit(matchId, "match_completed", null, new JsonObject { ["winner"] = match.Winner, ["score"] = ArenaJson.ToObject(final) });
    }

    private void Emit(string matchId, string type, int? round, JsonObject data)
    {
        var stored = _store.AppendEvent(new MatchEvent { MatchId = matchId, Type = type, Round = round, Data = data, Timestamp = _time.GetUtcNow() });
        _hub.Publish(stored);
    }

    public void Dispose()
    {
        _shutdown.Dispose();
        _slots.Dispose();
    }
}

/// <summary>Short sortable ids: time-ordered prefix plus random suffix.</summary>
public static class Ids
{
    private const string Alphabet = "0123456789abcdefghijklmnopqrstuvwxyz";

    public static string New(TimeProvider time)
    {
        var ms = time.GetUtcNow().ToUnixTimeMilliseconds();
        Span<char> buffer = stackalloc char[17];
        for (var i = 8; i >= 0; i--)
        {
            buffer[i] = Alphabet[(int)(ms % 36)];
            ms /= 36;
        }

        for (var i = 9; i < 17; i++)
        {
            buffer[i] = Alphabet[Random.Shared.Next(36)];
        }

        return new string(buffer);
    }
}

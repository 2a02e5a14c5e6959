using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Windhover.Blueprints.Arena.Agents;
using Windhover.Blueprints.Arena.Engine;
using Windhover.Blueprints.Arena.Model;
using Windhover.Blueprints.Arena.Storage;

namespace Windhover.Blueprints.Arena.Training;

/// <summary>Measures a blue agent on attacks it has not seen.</summary>
public static class DefenseEvaluator
{
    /// <summary>Attacks drawn from the library with their own seed (fresh goals, payloads and mutations), never from matches.</summary>
    public static IReadOnlyList<Attack> HeldOutAttacks(int seed, int count)
    {
        var random = new Random(seed);
        var list = new List<Attack>(count);
        for (var i = 0; i < count; i++)
        {
            var template = AttackLibrary.Templates[random.Next(AttackLibrary.Templates.Count)];
            var attack = AttackLibrary.Instantiate(template, random);
            if (random.NextDouble() < 0.6)
            {
                attack = AttackLibrary.Mutate(attack, AttackLibrary.MutationNames[random.Next(AttackLibrary.MutationNames.Length)], random);
            }

            list.Add(attack);
        }

        return list;
    }

    public sealed record Result(double DefenseSuccessRate, double AttackSuccessRate, double BlockRate, double FalsePositiveRate, int Attacks, int BenignPrompts);

    /// <summary>Defense success rate = attacks ending blocked or mitigated; false positive rate = benign prompts blocked.</summary>
    public static Result Evaluate(BuiltInBlueAgent blue, TargetProfile target, IReadOnlyList<Attack> attacks, IReadOnlyList<string> benign)
    {
        var targetPlayer = new BuiltInTargetAgent(target, seed: 99);
        int defended = 0, delivered = 0, blocked = 0, i = 0;
        foreach (var attack in attacks)
        {
            var response = targetPlayer.Respond(attack.Text, ++i);
            var defense = blue.Defend(attack.Text, response, target.AllowedTools);
            var j = Judge.Score(attack, response, defense, target.Canary, target.AllowedTools);
            if (j.Outcome is Outcomes.Blocked or Outcomes.Mitigated)
            {
                defended++;
            }
            else
            {
                delivered++;
            }

            if (defense.Action == DefenseActions.Block)
            {
                blocked++;
            }
        }

        var falsePositives = benign.Count(b => blue.Defend(b, new TargetResponse { Text = "Here you go." }, target.AllowedTools).Action == DefenseActions.Block);
        double Pct(int n, int of) => of == 0 ? 0 : Math.Round(100.0 * n / of, 2);
        return new Result(Pct(defended, attacks.Count), Pct(delivered, attacks.Count), Pct(blocked, attacks.Count), Pct(falsePositives, benign.Count), attacks.Count, benign.Count);
    }
}

public sealed record FineTuneRequest(string? AgentId, string? DatasetId, JsonObject? Config);

/// <summary>Client of an Oumi-style job API (<c>OUMI_API_URL</c>).</summary>
public interface IOumiClient
{
    Task<string> SubmitAsync(Agent agent, Dataset dataset, IReadOnlyList<DatasetRecord> records, JsonObject config, CancellationToken cancellationToken);

    Task<(string Status, double Progress, string? ModelId, string? Error)> GetAsync(string remoteJobId, CancellationToken cancellationToken);
}

/// <summary>
/// <c>POST {OUMI_API_URL}/api/jobs</c> with <c>{name, base_model, dataset: {id, format, records}, config}</c> answering
/// <c>{id}</c>; <c>GET {OUMI_API_URL}/api/jobs/{id}</c> answering <c>{status, progress, model_id, error}</c>.
/// </summary>
public sealed class HttpOumiClient(HttpClient http) : IOumiClient
{
    public async Task<string> SubmitAsync(Agent agent, Dataset dataset, IReadOnlyList<DatasetRecord> records, JsonObject config, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["name"] = $"arena-{agent.Id}-v{agent.Version + 1}",
            ["base_model"] = agent.Model,
            ["dataset"] = new JsonObject { ["id"] = dataset.Id, ["format"] = dataset.Format, ["records"] = JsonNode.Parse(ArenaJson.Serialize(records)) },
            ["config"] = config.DeepClone(),
        };
        using var response = await http.PostAsJsonAsync("api/jobs", body, cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        var json = await response.Content.ReadFromJsonAsync<JsonObject>(cancellationToken).ConfigureAwait(false);
        return json?["id"]?.ToString() ?? json?["job_id"]?.ToString() ?? throw new InvalidOperationException("the Oumi API answered without a job id");
    }

    public async Task<(string Status, double Progress, string? ModelId, string? Error)> GetAsync(string remoteJobId, CancellationToken cancellationToken)
    {
        var json = await http.GetFromJsonAsync<JsonObject>($"api/jobs/{Uri.EscapeDataString(remoteJobId)}", cancellationToken).ConfigureAwait(false)
                   ?? throw new InvalidOperationException("empty answer from the Oumi API");
        var status = (json["status"]?.ToString() ?? "running").ToLowerInvariant();
        status = status switch
        {
            "succeeded" or "success" or "completed" or "done" => JobStatuses.Completed,
            "failed" or "error" or "cancelled" => JobStatuses.Failed,
            "queued" or "pending" => JobStatuses.Queued,
            _ => JobStatuses.Running,
        };
        var progress = double.TryParse(json["progress"]?.ToString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var p) ? p : 0;
        return (status, progress, json["model_id"]?.ToString() ?? json["modelId"]?.ToString(), json["error"]?.ToString());
    }
}

/// <summary>
/// Fine-tuning jobs. With an Oumi client the job is submitted there and polled. Without one the job runs here: a blue
/// agent's detector is trained on the dataset's attacks (plus ordinary requests as negatives), a red agent learns template
/// priors from what scored, a target is patched against the weaknesses that were exploited; each creates a new agent
/// version and records before/after figures in the job's metrics.
/// </summary>
public sealed class FineTuneService(ArenaStore store, AgentCatalog catalog, TimeProvider time, ILogger<FineTuneService> logger, IOumiClient? oumi = null)
{
    public const int HeldOutSeed = 4242;
    public const int HeldOutCount = 240;

    private readonly Dictionary<string, Task> _tasks = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public FineTuneJob Submit(FineTuneRequest request)
    {
        if (string.IsNullOrWhiteSpace(request.AgentId))
        {
            throw new ArenaValidationException("agentId", "agentId is required");
        }

        if (string.IsNullOrWhiteSpace(request.DatasetId))
        {
            throw new ArenaValidationException("datasetId", "datasetId is required");
        }

        _ = store.GetAgent(request.AgentId) ?? throw new ArenaValidationException("agentId", $"agentId: no agent '{request.AgentId}'");
        var datasetId = ResolveDatasetId(request.DatasetId);
        _ = store.GetDataset(datasetId) ?? throw new ArenaValidationException("datasetId", $"datasetId: no dataset '{request.DatasetId}'");
        var config = request.Config ?? new JsonObject();
        var epochs = config["epochs"]?.GetValue<double>() ?? 3;
        if (epochs is < 1 or > 100)
        {
            throw new ArenaValidationException("config.epochs", "config.epochs must be between 1 and 100");
        }

        var now = time.GetUtcNow();
        var job = new FineTuneJob
        {
            JobId = "ft_" + Ids.New(time),
            AgentId = request.AgentId,
            DatasetId = datasetId,
            Config = (JsonObject)config.DeepClone(),
            Status = JobStatuses.Queued,
            Backend = oumi is null ? "local" : "oumi",
            CreatedAt = now,
            UpdatedAt = now,
        };
        store.SaveJob(job);
        var task = Task.Run(() => RunAsync(job.JobId));
        lock (_gate)
        {
            _tasks[job.JobId] = task;
        }

        return job;
    }

    /// <summary>Accepts a dataset id, or the export answer (JSON with <c>id</c>/<c>datasetId</c>) a flow may pass through.</summary>
    private static string ResolveDatasetId(string value)
    {
        var trimmed = value.Trim();
        if (trimmed.StartsWith('{'))
        {
            try
            {
                var node = JsonNode.Parse(trimmed);
                return node?["datasetId"]?.ToString() ?? node?["id"]?.ToString() ?? trimmed;
            }
            catch (System.Text.Json.JsonException)
            {
                return trimmed;
            }
        }

        return trimmed;
    }

    public async Task<FineTuneJob> WaitAsync(string jobId, CancellationToken cancellationToken)
    {
        Task? task;
        lock (_gate)
        {
            _tasks.TryGetValue(jobId, out task);
        }

        if (task is not null)
        {
            await task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        return store.GetJob(jobId) ?? throw new KeyNotFoundException(jobId);
    }

    private void Update(ref FineTuneJob job, Func<FineTuneJob, FineTuneJob> change)
    {
        job = change(job) with { UpdatedAt = time.GetUtcNow() };
        store.SaveJob(job);
    }

    private async Task RunAsync(string jobId)
    {
        var job = store.GetJob(jobId)!;
        try
        {
            Update(ref job, j => j with { Status = JobStatuses.Running, Progress = 5 });
            var agent = store.GetAgent(job.AgentId) ?? throw new InvalidOperationException($"agent {job.AgentId} was deleted");
            var dataset = store.GetDataset(job.DatasetId)!;
            var records = store.DatasetRecords(job.DatasetId) ?? [];
            if (records.Count == 0)
            {
                throw new InvalidOperationException($"dataset {job.DatasetId} is empty: run matches first or lower minSeverity");
            }

            if (oumi is not null)
            {
                await RunRemoteAsync(job, agent, dataset, records).ConfigureAwait(false);
                return;
            }

            var suffix = "ft-" + job.JobId[3..];
            var (modelId, updated, metrics) = agent.Type switch
            {
                AgentTypes.Blue => TrainBlue(agent, records, job, suffix, p => Update(ref job, j => j with { Progress = p })),
                AgentTypes.Red => TrainRed(agent, records, suffix),
                _ => TrainTarget(agent, records, suffix),
            };
            store.UpsertAgent(updated);
            Update(ref job, j => j with { Status = JobStatuses.Completed, Progress = 100, ModelId = modelId, NewAgentVersion = updated.Version, Metrics = metrics });
            logger.LogInformation("Fine-tune {JobId} for {AgentId} done: {Model}", job.JobId, agent.Id, modelId);
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Fine-tune {JobId} failed", jobId);
            Update(ref job, j => j with { Status = JobStatuses.Failed, Error = ex.Message });
        }
    }

    private async Task RunRemoteAsync(FineTuneJob job, Agent agent, Dataset dataset, IReadOnlyList<DatasetRecord> records)
    {
        var remoteId = await oumi!.SubmitAsync(agent, dataset, records, job.Config, CancellationToken.None).ConfigureAwait(false);
        Update(ref job, j => j with { RemoteJobId = remoteId, Progress = 10 });
        while (true)
        {
            var (status, progress, modelId, error) = await oumi.GetAsync(remoteId, CancellationToken.None).ConfigureAwait(false);
            if (status == JobStatuses.Completed)
            {
                var updated = agent with
                {
                    Model = modelId ?? agent.Model,
                    Version = agent.Version + 1,
                    UpdatedAt = time.GetUtcNow(),
                    Metadata = WithFineTune(agent.Metadata, job.JobId, modelId),
                };
                store.UpsertAgent(updated);
                Update(ref job, j => j with { Status = JobStatuses.Completed, Progress = 100, ModelId = modelId, NewAgentVersion = updated.Version });
                return;
            }

            if (status == JobStatuses.Failed)
            {
                throw new InvalidOperationException(error ?? "the Oumi job failed");
            }

            Update(ref job, j => j with { Status = JobStatuses.Running, Progress = Math.Clamp(progress, 10, 99) });
            await Task.Delay(TimeSpan.FromSeconds(5), time).ConfigureAwait(false);
        }
    }

    private JsonObject WithFineTune(JsonObject metadata, string jobId, string? modelId)
    {
        var copy = (JsonObject)metadata.DeepClone();
        copy["fine_tuned"] = true;
        copy["fine_tuning_job_id"] = jobId;
        copy["fine_tuned_at"] = time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture);
        if (modelId is not null)
        {
            copy["fine_tuned_model"] = modelId;
        }

        return copy;
    }

    private (string, Agent, JsonObject) TrainBlue(Agent agent, IReadOnlyList<DatasetRecord> records, FineTuneJob job, string suffix, Action<double> progress)
    {
        var before = catalog.DetectorFor(agent);
        var model = before.Clone();
        var epochs = (int)(job.Config["epochs"]?.GetValue<double>() ?? 3);
        var attacks = records.Select(r => r.Messages.First(m => m.Role == "user").Content).ToList();
        // Negatives: ordinary requests (a split the evaluation never uses), as many as attacks so the prior stays balanced.
        var benign = Corpus.Benign(seed: 2, count: Math.Max(40, attacks.Count));
        // Logistic regression by SGD: `epochs` passes over the dataset's attacks and as many ordinary requests;
        // `detectorLearningRate` (default 0.5) is the SGD step (LLM settings like learning_rate are for remote jobs).
        var rate = job.Config["detectorLearningRate"]?.GetValue<double>() ?? 0.5;
        var data = attacks.Select(a => (a, true)).Concat(benign.Select(b => (b, false))).ToList();
        for (var epoch = 0; epoch < epochs; epoch++)
        {
            model.Fit(data, epochs: 2, learningRate: rate, seed: epoch + 1);
            progress(10 + 70.0 * (epoch + 1) / epochs);
        }

        model.Version = before.Version + 1;
        var profile = TargetProfile.From(store.GetAgent(AgentCatalog.DefaultTarget) ?? AgentCatalog.Defaults(time.GetUtcNow()).First(a => a.Id == AgentCatalog.DefaultTarget));
        var heldOut = DefenseEvaluator.HeldOutAttacks(HeldOutSeed, HeldOutCount);
        var heldOutBenign = Corpus.Benign(seed: 3, count: 100);
        var settings = BlueSettings.From(agent);
        var rBefore = DefenseEvaluator.Evaluate(new BuiltInBlueAgent(settings, before), profile, heldOut, heldOutBenign);
        var rAfter = DefenseEvaluator.Evaluate(new BuiltInBlueAgent(settings, model), profile, heldOut, heldOutBenign);

        var modelId = suffix;
        store.SaveDetectorModel(modelId, ArenaJson.Serialize(model), time.GetUtcNow());
        catalog.RegisterModel(modelId, model);
        var fullModel = AgentCatalog.DetectorModelPrefix + modelId;
        var metadata = WithFineTune(agent.Metadata, job.JobId, fullModel);
        metadata["detectorModelId"] = modelId;
        var updated = agent with { Model = fullModel, Version = agent.Version + 1, UpdatedAt = time.GetUtcNow(), Metadata = metadata };
        var metrics = new JsonObject
        {
            ["trainingRecords"] = attacks.Count,
            ["epochs"] = epochs,
            ["heldOutAttacks"] = rBefore.Attacks,
            ["defenseSuccessRateBefore"] = rBefore.DefenseSuccessRate,
            ["defenseSuccessRateAfter"] = rAfter.DefenseSuccessRate,
            ["blockRateBefore"] = rBefore.BlockRate,
            ["blockRateAfter"] = rAfter.BlockRate,
            ["falsePositiveRateBefore"] = rBefore.FalsePositiveRate,
            ["falsePositiveRateAfter"] = rAfter.FalsePositiveRate,
        };
        return (fullModel, updated, metrics);
    }

    private (string, Agent, JsonObject) TrainRed(Agent agent, IReadOnlyList<DatasetRecord> records, string suffix)
    {
        var priors = new JsonObject();
        foreach (var g in records.GroupBy(r => r.Metadata["templateId"]?.GetValue<string>() ?? "").Where(g => g.Key.Length > 0).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            priors[g.Key] = new JsonObject
            {
                ["pulls"] = g.Count(),
                ["reward"] = Math.Round(g.Sum(r => r.Metadata["redPoints"]?.GetValue<double>() ?? 0) / 10.0, 3),
            };
        }

        var modelId = $"{agent.Model.Split('@')[0]}@{suffix}";
        var metadata = WithFineTune(agent.Metadata, suffix, modelId);
        metadata["templatePriors"] = priors;
        return (modelId, agent with { Model = modelId, Version = agent.Version + 1, UpdatedAt = time.GetUtcNow(), Metadata = metadata },
            new JsonObject { ["trainingRecords"] = records.Count, ["templates"] = priors.Count });
    }

    private (string, Agent, JsonObject) TrainTarget(Agent agent, IReadOnlyList<DatasetRecord> records, string suffix)
    {
        var profile = TargetProfile.From(agent);
        var exploited = records
            .Where(r => r.Metadata["targetCompromised"]?.GetValue<bool>() == true)
            .SelectMany(r => (r.Metadata["targetBehaviour"]?.GetValue<string>() ?? "").Split('+', StringSplitOptions.RemoveEmptyEntries))
            .Where(w => TargetProfile.AllWeaknesses.Contains(w))
            .ToHashSet();
        var remaining = profile.Weaknesses.Except(exploited).Order(StringComparer.Ordinal).ToArray();
        var modelId = $"{agent.Model.Split('@')[0]}@{suffix}";
        var metadata = WithFineTune(agent.Metadata, suffix, modelId);
        metadata["weaknesses"] = new JsonArray([.. remaining.Select(w => JsonValue.Create(w))]);
        metadata["resistance"] = Math.Min(0.95, profile.Resistance + 0.1);
        return (modelId, agent with { Model = modelId, Version = agent.Version + 1, UpdatedAt = time.GetUtcNow(), Metadata = metadata },
            new JsonObject { ["trainingRecords"] = records.Count, ["patchedWeaknesses"] = new JsonArray([.. exploited.Order(StringComparer.Ordinal).Select(w => JsonValue.Create(w))]) });
    }
}

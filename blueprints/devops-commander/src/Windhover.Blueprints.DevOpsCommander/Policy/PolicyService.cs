using Windhover.Blueprints.DevOpsCommander.Analysis;
using Windhover.Blueprints.DevOpsCommander.Storage;

namespace Windhover.Blueprints.DevOpsCommander.Policy;

/// <summary>Figures of one evaluation set.</summary>
public sealed record EvaluationFigures(int Count, double PolicyAccuracy, double ThresholdAccuracy, double PolicyMeanReward, double ThresholdMeanReward, double OracleMeanReward);

/// <summary>What a training run produced and how well it does.</summary>
public sealed record PolicyReport
{
    public required string Model { get; init; }
    public required int Seed { get; init; }
    public required int SyntheticCount { get; init; }
    public required int RealCount { get; init; }
    public required int RealUnverified { get; init; }
    public required int TrainCount { get; init; }
    public required int HeldOutCount { get; init; }
    public required double TrainingAccuracy { get; init; }
    public required double HeldOutAccuracy { get; init; }
    public required EvaluationFigures HeldOut { get; init; }
    /// <summary>The recorded (real) outcomes; they are also in the training set, so this is in-sample for the policy.</summary>
    public required EvaluationFigures RealRecords { get; init; }
    public required IReadOnlyDictionary<string, double> Weights { get; init; }
    public required double Bias { get; init; }
    public required IReadOnlyDictionary<string, double> RewardTable { get; init; }
    public required DateTimeOffset TrainedAt { get; init; }
}

/// <summary>
/// Trains the learned policy on the synthetic corpus plus every recorded outcome whose real state is known (each real record
/// weighs 5 synthetic ones). The synthetic corpus is split 80 / 20 into training and held-out sets by a seeded shuffle; the
/// recorded outcomes only ever train. Retrains when the set of
/// verified outcomes changes.
/// </summary>
public sealed class PolicyService(CommanderStore store, DevOpsCommanderOptions options, TimeProvider time)
{
    public const double RealRecordWeight = 5;
    private readonly Lock _lock = new();
    private (string Key, LogisticPolicy Policy, PolicyReport Report)? _current;

    public (LogisticPolicy Policy, PolicyReport Report) Current()
    {
        var outcomes = store.ListOutcomes();
        var key = string.Join(",", outcomes.Where(o => o.ActualOutcome is not null && o.Analysis is not null).Select(o => $"{o.Id}:{o.ActualOutcome}"));
        lock (_lock)
        {
            if (_current is { } c && c.Key == key)
            {
                return (c.Policy, c.Report);
            }

            var (policy, report) = Train(outcomes);
            _current = (key, policy, report);
            return (policy, report);
        }
    }

    public PolicyOpinion Opinion(TelemetrySummary summary)
    {
        var (policy, report) = Current();
        var p = policy.ProbabilityUnhealthy(Features.From(summary));
        var rollback = p > 0.5;
        return new PolicyOpinion(rollback ? Decisions.Rollback : Decisions.Continue, (int)Math.Round(100 * (rollback ? p : 1 - p)), Math.Round(p, 4), report.Model, report.HeldOutAccuracy);
    }

    private (LogisticPolicy, PolicyReport) Train(IReadOnlyList<OutcomeRecord> outcomes)
    {
        var seed = options.PolicySeed;
        var synthetic = SyntheticCorpus.Generate(options.SyntheticCorpusSize, seed);
        var real = outcomes.Where(o => o.ActualOutcome is not null && o.Analysis is not null)
            .Select(o => new LabelledDeployment(o.Analysis!, o.ActualOutcome == "unhealthy", "recorded", o.ExecutionId))
            .ToList();

        // The held-out set is drawn from the synthetic corpus alone, by a seeded shuffle, so it stays the same set however
        // many outcomes are recorded and the accuracy figures stay comparable over time. Recorded outcomes always train
        // the policy (there are few of them) and are evaluated on their own (RealRecords).
        var order = Enumerable.Range(0, synthetic.Count).ToArray();
        new Random(seed + 1).Shuffle(order);
        var heldOutCount = synthetic.Count / 5;
        var heldOut = order.Take(heldOutCount).Select(i => synthetic[i]).ToList();
        var train = order.Skip(heldOutCount).Select(i => synthetic[i]).Concat(real).ToList();

        var policy = LogisticPolicy.Train(
            train.Select(t => Features.From(t.Summary)).ToList(),
            train.Select(t => t.Unhealthy).ToList(),
            train.Select(t => t.Origin == "recorded" ? RealRecordWeight : 1).ToList());

        var report = new PolicyReport
        {
            Model = $"cost-sensitive logistic regression, {Features.Names.Length} features, seed {seed}",
            Seed = seed,
            SyntheticCount = synthetic.Count,
            RealCount = real.Count,
            RealUnverified = outcomes.Count(o => o.ActualOutcome is null),
            TrainCount = train.Count,
            HeldOutCount = heldOut.Count,
            TrainingAccuracy = Evaluate(policy, train).PolicyAccuracy,
            HeldOutAccuracy = Evaluate(policy, heldOut).PolicyAccuracy,
            HeldOut = Evaluate(policy, heldOut),
            RealRecords = Evaluate(policy, real),
            Weights = Features.Names.Select((n, j) => (n, policy.Weights[j])).ToDictionary(t => t.n, t => Math.Round(t.Item2, 4)),
            Bias = Math.Round(policy.Bias, 4),
            RewardTable = new Dictionary<string, double>
            {
                ["correct_rollback"] = Rewards.CorrectRollback,
                ["correct_continue"] = Rewards.CorrectContinue,
                ["missed_rollback"] = Rewards.MissedRollback,
                ["unnecessary_rollback"] = Rewards.UnnecessaryRollback,
            },
            TrainedAt = time.GetUtcNow(),
        };
        return (policy, report);
    }

    public static EvaluationFigures Evaluate(LogisticPolicy policy, IReadOnlyList<LabelledDeployment> set)
    {
        if (set.Count == 0)
        {
            return new EvaluationFigures(0, 0, 0, 0, 0, 0);
        }

        int policyRight = 0, thresholdRight = 0;
        double policyReward = 0, thresholdReward = 0, oracle = 0;
        foreach (var item in set)
        {
            var policyDecision = policy.ProbabilityUnhealthy(Features.From(item.Summary)) > 0.5 ? Decisions.Rollback : Decisions.Continue;
            var thresholdDecision = ThresholdAnalyser.Decide(item.Summary).Recommendation;
            policyRight += (policyDecision == Decisions.Rollback) == item.Unhealthy ? 1 : 0;
            thresholdRight += (thresholdDecision == Decisions.Rollback) == item.Unhealthy ? 1 : 0;
            policyReward += Rewards.For(policyDecision, item.Unhealthy);
            thresholdReward += Rewards.For(thresholdDecision, item.Unhealthy);
            oracle += Rewards.For(item.Unhealthy ? Decisions.Rollback : Decisions.Continue, item.Unhealthy);
        }

        return new EvaluationFigures(set.Count,
            Math.Round((double)policyRight / set.Count, 4), Math.Round((double)thresholdRight / set.Count, 4),
            Math.Round(policyReward / set.Count, 2), Math.Round(thresholdReward / set.Count, 2), Math.Round(oracle / set.Count, 2));
    }
}

using Windhover.Blueprints.DevOpsCommander.Analysis;
using Windhover.Blueprints.DevOpsCommander.Policy;
using Windhover.Blueprints.DevOpsCommander.Storage;

namespace Windhover.Blueprints.DevOpsCommander.Dashboard;

/// <summary>
/// The dashboard's figures. Total deployments: distinct deployments with a decision. Success rate: share of those whose
/// latest decision was CONTINUE. AI accuracy: share of decisions with a known real outcome that were right. MTTR: mean time
/// from the start of the execution that decided a rollback to the rollback being recorded.
/// </summary>
public sealed record DashboardStats(int TotalDeployments, double? SuccessRatePercent, double? AiAccuracyPercent, int VerifiedDecisions, double? MttrSeconds, double? MeanReward, int Rollbacks)
{
    public static DashboardStats Compute(IReadOnlyList<OutcomeRecord> outcomes, IReadOnlyList<DeploymentAction> rollbacks)
    {
        var latest = outcomes.GroupBy(o => o.DeploymentId).Select(g => g.OrderBy(o => o.Id).Last()).ToList();
        var verified = outcomes.Where(o => o.Correct is not null).ToList();
        var recoveries = new List<double>();
        foreach (var r in rollbacks)
        {
            var decided = outcomes.FirstOrDefault(o => o.ExecutionId == r.ExecutionId) ?? outcomes.FirstOrDefault(o => o.DeploymentId == r.DeploymentId);
            if (decided?.ExecutionStartedAt is { } start && r.At >= start)
            {
                recoveries.Add((r.At - start).TotalSeconds);
            }
        }

        return new DashboardStats(
            latest.Count,
            latest.Count == 0 ? null : Math.Round(100.0 * latest.Count(o => o.Decision == Decisions.Continue) / latest.Count, 1),
            verified.Count == 0 ? null : Math.Round(100.0 * verified.Count(o => o.Correct == true) / verified.Count, 1),
            verified.Count,
            recoveries.Count == 0 ? null : Math.Round(recoveries.Average(), 1),
            verified.Count == 0 ? null : Math.Round(verified.Average(o => Rewards.For(o.Decision, o.ActualOutcome == "unhealthy")), 1),
            rollbacks.Count);
    }
}

using Windhover.Blueprints.DevOpsCommander.Analysis;

namespace Windhover.Blueprints.DevOpsCommander.Policy;

/// <summary>The seed's rewards for a decision once the deployment's real state is known.</summary>
public static class Rewards
{
    public const double CorrectRollback = 100;
    public const double CorrectContinue = 50;
    public const double MissedRollback = -200;
    public const double UnnecessaryRollback = -50;

    public static double For(string decision, bool unhealthy) => (decision == Decisions.Rollback, unhealthy) switch
    {
        (true, true) => CorrectRollback,
        (false, false) => CorrectContinue,
        (false, true) => MissedRollback,
        (true, false) => UnnecessaryRollback,
    };

    /// <summary>Regret of getting an unhealthy deployment wrong (100 - -200) and a healthy one wrong (50 - -50).</summary>
    public const double PositiveRegret = CorrectRollback - MissedRollback;

    public const double NegativeRegret = CorrectContinue - UnnecessaryRollback;
}

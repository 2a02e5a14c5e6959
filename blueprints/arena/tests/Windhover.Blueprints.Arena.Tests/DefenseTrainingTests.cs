using Windhover.Blueprints.Arena.Agents;
using Windhover.Blueprints.Arena.Model;
using Windhover.Blueprints.Arena.Training;
using Xunit.Abstractions;

namespace Windhover.Blueprints.Arena.Tests;

public sealed class DefenseTrainingTests(ITestOutputHelper output)
{
    private static readonly Agent Blue = AgentCatalog.Defaults(DateTimeOffset.UnixEpoch).First(a => a.Id == AgentCatalog.DefaultBlue);
    private static readonly Agent Target = AgentCatalog.Defaults(DateTimeOffset.UnixEpoch).First(a => a.Id == AgentCatalog.DefaultTarget);

    [Fact]
    public void Training_on_attacks_from_other_seeds_raises_held_out_defense()
    {
        var baseline = DetectorModel.CreateBaseline();
        var trained = baseline.Clone();
        // Training data: attacks a bandit red produced (different seeds than the held-out set).
        var red = new BuiltInRedAgent(AgentCatalog.Defaults(DateTimeOffset.UnixEpoch).First(a => a.Id == AgentCatalog.DefaultRed), seed: 11);
        var training = Enumerable.Range(0, 120).Select(_ => red.Next()).ToList();
        trained.Fit([.. training.Select(a => (a.Text, true)), .. Corpus.Benign(2, 120).Select(b => (b, false))], epochs: 6, learningRate: 0.5, seed: 5);

        var heldOut = DefenseEvaluator.HeldOutAttacks(FineTuneService.HeldOutSeed, FineTuneService.HeldOutCount);
        var profile = TargetProfile.From(Target);
        var benign = Corpus.Benign(3, 100);
        var before = DefenseEvaluator.Evaluate(new BuiltInBlueAgent(BlueSettings.From(Blue), baseline), profile, heldOut, benign);
        var after = DefenseEvaluator.Evaluate(new BuiltInBlueAgent(BlueSettings.From(Blue), trained), profile, heldOut, benign);
        output.WriteLine($"before: {before}");
        output.WriteLine($"after:  {after}");
        Assert.True(after.DefenseSuccessRate >= before.DefenseSuccessRate + 15, $"{before.DefenseSuccessRate} -> {after.DefenseSuccessRate}");
        Assert.True(after.FalsePositiveRate <= 10, $"false positives {after.FalsePositiveRate}%");
    }
}

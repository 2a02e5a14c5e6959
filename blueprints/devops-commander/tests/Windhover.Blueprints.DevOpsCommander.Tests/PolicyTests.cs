using Windhover.Blueprints.DevOpsCommander.Policy;
using Xunit.Abstractions;

namespace Windhover.Blueprints.DevOpsCommander.Tests;

public sealed class PolicyTests(ITestOutputHelper output)
{
    [Fact]
    public void The_synthetic_corpus_is_deterministic_for_a_seed_and_mixes_classes()
    {
        var a = SyntheticCorpus.Generate(300, 7);
        var b = SyntheticCorpus.Generate(300, 7);
        var c = SyntheticCorpus.Generate(300, 8);
        Assert.Equal(a.Select(x => (x.Summary.Metrics, x.Unhealthy)), b.Select(x => (x.Summary.Metrics, x.Unhealthy)));
        Assert.NotEqual(a.Select(x => x.Summary.Metrics.ErrorRatePercent), c.Select(x => x.Summary.Metrics.ErrorRatePercent));
        Assert.InRange(a.Count(x => x.Unhealthy), 100, 200);
        Assert.Contains(a, x => x.Kind.StartsWith("borderline", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_policy_reports_training_and_held_out_accuracy_and_reward_against_the_thresholds()
    {
        await using var host = await CommanderHost.StartAsync(o => o.SyntheticCorpusSize = 600);
        var report = await host.GetJsonAsync("/api/policy");
        var train = report.GetProperty("training_accuracy").GetDouble();
        var heldOut = report.GetProperty("held_out_accuracy").GetDouble();
        var figures = report.GetProperty("held_out");
        output.WriteLine(report.GetRawText());
        Assert.InRange(train, 0.8, 1.0);
        Assert.InRange(heldOut, 0.8, 1.0);
        Assert.Equal(120, report.GetProperty("held_out_count").GetInt32());
        Assert.True(figures.GetProperty("policy_mean_reward").GetDouble() <= figures.GetProperty("oracle_mean_reward").GetDouble());
        Assert.True(figures.TryGetProperty("threshold_mean_reward", out _));

        var again = await host.GetJsonAsync("/api/policy");
        Assert.Equal(report.GetProperty("weights").GetRawText(), again.GetProperty("weights").GetRawText());
    }

    [Fact]
    public async Task Recorded_outcomes_train_the_policy_but_never_move_the_held_out_set()
    {
        await using var host = await CommanderHost.StartAsync(o => o.SyntheticCorpusSize = 600);
        var before = await host.GetJsonAsync("/api/policy");
        var analysis = (await host.PostJsonAsync("/api/analysis", new { deployment_id = "deploy-001" })).Body;
        var outcome = new { execution_id = "exec-1", deployment_id = "deploy-001", decision = "ROLLBACK", confidence = 0.9, status = "CRITICAL", reasoning = "r", decided_by = "threshold-analyser", analysis = analysis.GetRawText() };
        Assert.Equal(201, (await host.PostJsonAsync("/api/outcomes", outcome)).Status);

        var after = await host.GetJsonAsync("/api/policy");
        Assert.Equal(0, before.GetProperty("real_count").GetInt32());
        Assert.Equal(1, after.GetProperty("real_count").GetInt32());
        Assert.Equal(before.GetProperty("train_count").GetInt32() + 1, after.GetProperty("train_count").GetInt32());
        Assert.Equal(120, after.GetProperty("held_out_count").GetInt32());
        Assert.Equal(before.GetProperty("held_out").GetProperty("oracle_mean_reward").GetDouble(), after.GetProperty("held_out").GetProperty("oracle_mean_reward").GetDouble());
        Assert.NotEqual(before.GetProperty("weights").GetRawText(), after.GetProperty("weights").GetRawText());
    }

    [Fact]
    public void Rewards_are_the_seed_s()
    {
        Assert.Equal(100, Rewards.For("ROLLBACK", unhealthy: true));
        Assert.Equal(50, Rewards.For("CONTINUE", unhealthy: false));
        Assert.Equal(-200, Rewards.For("CONTINUE", unhealthy: true));
        Assert.Equal(-50, Rewards.For("ROLLBACK", unhealthy: false));
    }
}

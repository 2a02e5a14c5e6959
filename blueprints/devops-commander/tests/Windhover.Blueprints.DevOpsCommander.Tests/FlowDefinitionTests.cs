using Windhover.Cli.Hosting;
using Windhover.Flows.TaskTypes;
using Windhover.Flows.Yaml;

namespace Windhover.Blueprints.DevOpsCommander.Tests;

public sealed class FlowDefinitionTests
{
    private static string LoopYaml => File.ReadAllText(Path.Combine(FlowRehearsal.FlowsDirectory, "devops-autonomous-loop.yml"));

    [Fact]
    public void Every_flow_is_valid_with_the_core_and_AI_plugin_types()
    {
        var parser = PluginCatalog.Default.Parser;
        var files = Directory.GetFiles(FlowRehearsal.FlowsDirectory, "*.yml");
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            foreach (var result in parser.ParseAll(File.ReadAllText(file), file))
            {
                Assert.True(result.IsValid, string.Join("\n", result.Problems.Select(p => p.ToDisplayString())));
            }
        }
    }

    [Fact]
    public void The_core_types_alone_lack_only_AIAgent_which_the_hosts_composition_registers()
    {
        var problems = new FlowParser(TaskTypeRegistry.CreateDefault()).Parse(LoopYaml, "loop.yml").Problems;
        Assert.NotEmpty(problems);
        Assert.All(problems, p => Assert.Contains("io.kestra.plugin.ai.agent.AIAgent", p.ToDisplayString(), StringComparison.Ordinal));
        Assert.True(PluginCatalog.Default.Parser.Parse(LoopYaml, "loop.yml").IsValid);
    }

    [Fact]
    public void The_loop_has_the_issue_s_shape()
    {
        var flow = FlowRehearsal.LoadLoop("http://localhost:3000");
        Assert.Equal("ai.devops.commander", flow.Namespace);
        Assert.Equal("devops-autonomous-loop", flow.Id);
        Assert.Equal(["deployment_id", "service_name", "version"], flow.Inputs.Select(i => i.Id));
        Assert.All(flow.Inputs, i => Assert.True(i.HasDefaults));

        var webhook = Assert.Single(flow.Triggers, t => t.CanonicalType == "io.kestra.plugin.core.trigger.Webhook");
        Assert.Equal("devops-deploy-webhook", webhook.Properties["key"]);
        var schedule = Assert.Single(flow.Triggers, t => t.CanonicalType == "io.kestra.plugin.core.trigger.Schedule");
        Assert.True(schedule.Disabled);

        Assert.Equal(
            ["context", "collect_logs", "collect_metrics", "analyse_telemetry", "ai_provider", "ai_summarize", "verdict", "make_decision", "record_outcome", "notify_dashboard"],
            flow.Tasks.Select(t => t.Id));
        var ai = flow.Tasks.Single(t => t.Id == "ai_summarize");
        Assert.Equal("io.kestra.plugin.ai.agent.AIAgent", ai.TaskList("then").Single().CanonicalType);
        Assert.Equal("rule_analyser", ai.TaskList("else").Single().Id);
        var decision = flow.Tasks.Single(t => t.Id == "make_decision");
        Assert.Equal("io.kestra.plugin.core.flow.Switch", decision.CanonicalType);
        var cases = (IReadOnlyDictionary<string, System.Collections.Immutable.ImmutableArray<Windhover.Flows.Model.TaskDefinition>>)decision.Properties["cases"]!;
        Assert.Equal("execute_rollback", cases["ROLLBACK"].Single().Id);
        Assert.Equal("continue_monitoring", cases["CONTINUE"].Single().Id);
    }
}

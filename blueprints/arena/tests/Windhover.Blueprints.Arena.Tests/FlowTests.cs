using Windhover.Flows.Expressions;
using Windhover.Flows.Validation;
using Windhover.Flows.Yaml;

namespace Windhover.Blueprints.Arena.Tests;

public sealed class FlowTests
{
    private static readonly string FlowsDirectory = FindFlows();

    private static string FindFlows()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !Directory.Exists(Path.Combine(dir.FullName, "blueprints", "arena", "flows")))
        {
            dir = dir.Parent;
        }

        return Path.Combine(dir?.FullName ?? throw new DirectoryNotFoundException("blueprints/arena/flows"), "blueprints", "arena", "flows");
    }

    public static TheoryData<string> FlowFiles => [.. Kestra.KestraFacade.KnownFlows.Select(f => f + ".yml")];

    [Theory]
    [MemberData(nameof(FlowFiles))]
    public void Flow_is_valid_with_every_expression_parsing(string file)
    {
        var engine = new ExpressionEngine();
        var parser = new FlowParser(options: FlowValidationOptions.Default with { ExpressionChecker = s => engine.Check(s).Select(p => p.Message) });
        var result = parser.Parse(File.ReadAllText(Path.Combine(FlowsDirectory, file)), file);
        Assert.True(result.IsValid, string.Join("\n", result.Problems.Select(p => p.ToDisplayString())));
        Assert.Equal("ai-arena", result.Flow!.Namespace);
        Assert.Equal(Path.GetFileNameWithoutExtension(file), result.Flow.Id);
    }

    [Fact]
    public void Every_trigger_of_the_facade_has_a_flow_and_subflows_stay_in_the_namespace()
    {
        var files = Directory.GetFiles(FlowsDirectory, "*.yml").Select(Path.GetFileNameWithoutExtension).Order().ToArray();
        Assert.Equal(Kestra.KestraFacade.KnownFlows.Order(), files);
        foreach (var path in Directory.GetFiles(FlowsDirectory, "*.yml"))
        {
            var text = File.ReadAllText(path);
            Assert.DoesNotContain("python", text, StringComparison.OrdinalIgnoreCase);
            foreach (var line in text.Split('\n').Where(l => l.Contains("flowId:", StringComparison.Ordinal)))
            {
                Assert.Contains(line.Split(':')[1].Trim(), Kestra.KestraFacade.KnownFlows);
            }
        }
    }

    [Fact]
    public void Match_orchestration_body_renders_to_the_json_the_service_accepts()
    {
        var engine = new ExpressionEngine();
        var yaml = File.ReadAllText(Path.Combine(FlowsDirectory, "match-orchestration.yml"));
        var body = yaml[(yaml.IndexOf("body: |", StringComparison.Ordinal) + 7)..];
        body = body[..body.IndexOf("\n\n", StringComparison.Ordinal)];
        var inputs = new Dictionary<string, object?> { ["red_agent_id"] = "default-red", ["blue_agent_id"] = "default-blue", ["target_agent_id"] = "default-target", ["match_mode"] = "quick", ["max_rounds"] = null, ["batch_id"] = null };
        var rendered = engine.Render(body, new Dictionary<string, object?> { ["inputs"] = inputs });
        var json = System.Text.Json.Nodes.JsonNode.Parse(rendered)!;
        Assert.Equal("default-red", json["redAgentId"]!.GetValue<string>());
        Assert.Equal("quick", json["mode"]!.GetValue<string>());
        Assert.Null(json["maxRounds"]);
        Assert.Equal("", json["batchId"]!.GetValue<string>());
    }
}

using System.Text.Json;
using Windhover.Flows.Yaml;

namespace Windhover.Flows.Tests.Conformance;

/// <summary>Kestra's own test flows, read from ../shared/conformance (never copied into the project).</summary>
public sealed class ConformanceTests
{
    private static readonly FlowParser Parser = TestPlugins.Parser();

    /// <summary>
    /// Cases where Windhover deliberately reports a different number of problems than Kestra, with the reason.
    /// Kestra stops at the first unknown type id and reports it twice (its "Invalid type" violation plus Jackson's raw
    /// message); Windhover reports every problem once.
    /// </summary>
    private static readonly Dictionary<string, (int Count, string Reason)> CountDeviations = new()
    {
        ["invalid-task.yaml"] = (3, "three unknown task types, each reported once; Kestra stops at the first and doubles it"),
        ["inputs.yaml"] = (2, "'Invalid type: null' once, plus the input id 'wrong one' breaking the input id pattern (Kestra stops before checking it)"),
    };

    public static TheoryData<string> ValidFlows()
    {
        var data = new TheoryData<string>();
        foreach (var file in System.IO.Directory.EnumerateFiles(Corpus.Flows).Where(f => f.EndsWith(".yml") || f.EndsWith(".yaml")).Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(file));
        }

        return data;
    }

    public static TheoryData<string> InvalidCases()
    {
        var data = new TheoryData<string>();
        using var doc = JsonDocument.Parse(File.ReadAllText(Corpus.InvalidCases));
        foreach (var c in doc.RootElement.EnumerateArray())
        {
            data.Add(c.GetProperty("file").GetString()!);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ValidFlows))]
    public void Valid_flow_parses_and_validates_without_problems(string file)
    {
        var results = Parser.ParseFile(Path.Combine(Corpus.Flows, file));
        foreach (var result in results)
        {
            Assert.True(result.Problems.IsEmpty, file + ":\n" + string.Join("\n", result.Problems.Select(p => p.ToDisplayString())));
            Assert.NotNull(result.Flow);
            Assert.False(string.IsNullOrEmpty(result.Flow!.Id));
        }
    }

    [Theory]
    [MemberData(nameof(InvalidCases))]
    public void Invalid_flow_is_rejected_as_expected(string file)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Corpus.InvalidCases));
        var expect = doc.RootElement.EnumerateArray().First(c => c.GetProperty("file").GetString() == file).GetProperty("expect");
        var results = Parser.ParseFile(Path.Combine(Corpus.Invalids, file));
        var problems = results.SelectMany(r => r.Problems).ToList();
        var dump = file + ":\n" + string.Join("\n", problems.Select(p => p.ToDisplayString()));

        Assert.True(problems.Count > 0, dump);
        Assert.All(problems, p => Assert.True(p.Position.Line > 0 && p.Position.Column > 0, "position missing: " + p));

        if (expect.TryGetProperty("messageContains", out var contains))
        {
            foreach (var expected in contains.EnumerateArray().Select(e => e.GetString()!))
            {
                Assert.True(problems.Any(p => p.Message.Contains(expected, StringComparison.Ordinal)), $"no problem contains '{expected}' in {dump}");
            }
        }

        if (expect.TryGetProperty("violationCount", out var count))
        {
            var expected = CountDeviations.TryGetValue(file, out var deviation) ? deviation.Count : count.GetInt32();
            Assert.True(expected == problems.Count, $"expected {expected} problems: {dump}");
        }

        if (expect.TryGetProperty("messageEquals", out var equals))
        {
            Assert.True(problems.Any(p => p.Message == equals.GetString()), $"no problem equals '{equals.GetString()}' in {dump}");
        }

        if (expect.TryGetProperty("violationMessages", out var messages))
        {
            Assert.Equal(messages.EnumerateArray().Select(m => m.GetString()!).ToList(), problems.Select(p => p.Message).ToList());
        }
    }
}

using Windhover.Flows.Expressions;

namespace Windhover.Flows.Tests.Expressions;

internal sealed class FixedTime(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}

internal sealed class TestHost : IExpressionHost
{
    public object? Secret(string key, string? @namespace) =>
        key == "API_KEY" ? "s3cr3t" : throw new ExpressionException($"Cannot find secret for key '{key}'");

    public object? Kv(string? @namespace, string key, bool errorOnMissing)
    {
        if (key == "missing")
            return errorOnMissing ? throw new ExpressionException($"The key '{key}' does not exist in the namespace '{@namespace}'") : null;
        return $"{@namespace}:{key}";
    }

    public string Read(string path) => "content of " + path;

    public IReadOnlyList<object?> ErrorLogs() =>
        [new OrderedDictionary<string, object?> { ["taskId"] = "t1", ["message"] = "boom" }];

    public string FileUri(string path) => "kestra:///ns/" + path;
}

public sealed class ExpressionCaseTests
{
    internal static readonly DateTimeOffset Now = new(2024, 1, 15, 10, 30, 45, 123, TimeSpan.Zero);

    internal static ExpressionEngine NewEngine() => new(new ExpressionEngineOptions { TimeProvider = new FixedTime(Now) });

    private static readonly ExpressionEngine Engine = NewEngine();

    private static readonly IReadOnlyDictionary<string, object?> FixtureVars = Vars(ExpressionCases.Fixture);

    internal static IReadOnlyDictionary<string, object?> Vars(string json) =>
        (IReadOnlyDictionary<string, object?>)ExpressionValues.FromJson(json)!;

    public static TheoryData<int, string> CaseIndexes()
    {
        var data = new TheoryData<int, string>();
        for (int i = 0; i < ExpressionCases.All.Length; i++) data.Add(i, ExpressionCases.All[i].Template);
        return data;
    }

    [Fact]
    public void Suite_has_at_least_300_cases() => Assert.True(ExpressionCases.All.Length >= 300, $"only {ExpressionCases.All.Length} cases");

    [Fact]
    public void Every_case_has_exactly_one_expectation() =>
        Assert.All(ExpressionCases.All, c => Assert.True((c.Expected == null) != (c.Error == null), c.Template));

    [Theory]
    [MemberData(nameof(CaseIndexes))]
    public void Case(int index, string template)
    {
        var c = ExpressionCases.All[index];
        Assert.Equal(c.Template, template);
        var vars = c.Vars == null ? FixtureVars : Vars(c.Vars);
        if (c.Error != null)
        {
            var ex = Assert.Throws<ExpressionException>(() => Engine.Render(template, vars, new TestHost()));
            Assert.Contains(c.Error, ex.Message, StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal(c.Expected, Engine.Render(template, vars, new TestHost()));
        }
    }
}

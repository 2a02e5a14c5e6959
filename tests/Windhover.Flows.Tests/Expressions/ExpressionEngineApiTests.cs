using System.Text.Json;
using System.Text.Json.Nodes;
using Windhover.Flows.Expressions;

namespace Windhover.Flows.Tests.Expressions;

public sealed class ExpressionEngineApiTests
{
    private static readonly ExpressionEngine Engine = ExpressionCaseTests.NewEngine();
    private static IReadOnlyDictionary<string, object?> V(string json) => ExpressionCaseTests.Vars(json);

    [Fact]
    public void RenderTyped_returns_native_values_for_a_single_expression()
    {
        var vars = V("""{"m": {"a": 1}, "l": [1, 2], "n": 3, "d": 2.5, "b": true, "z": null}""");
        Assert.Equal(3L, Engine.RenderTyped("{{ n }}", vars));
        Assert.Equal(2.5, Engine.RenderTyped("  {{ d }} ", vars));
        Assert.Equal(true, Engine.RenderTyped("{{ b }}", vars));
        Assert.Null(Engine.RenderTyped("{{ z }}", vars));
        Assert.Equal(1L, Assert.IsAssignableFrom<IReadOnlyDictionary<string, object?>>(Engine.RenderTyped("{{ m }}", vars))["a"]);
        Assert.Equal(2, Assert.IsAssignableFrom<IReadOnlyList<object?>>(Engine.RenderTyped("{{ l }}", vars)).Count);
        Assert.Equal(4L, Engine.RenderTyped("{{ n + 1 }}", vars));
        Assert.Equal("3 and 2.5", Engine.RenderTyped("{{ n }} and {{ d }}", vars));
        Assert.Equal("plain", Engine.RenderTyped("plain", vars));
    }

    [Fact]
    public void RenderObject_renders_keys_and_values_recursively()
    {
        var vars = V("""{"k": "key", "v": "value"}""");
        var input = ExpressionValues.FromJson("""{"{{ k }}": ["{{ v }}", 1, {"x": "{{ v | upper }}"}], "plain": null}""");
        var result = Engine.RenderObject(input, vars);
        Assert.Equal("""{"key":["value",1,{"x":"VALUE"}],"plain":null}""", ExpressionValues.ToJson(result));
    }

    [Fact]
    public void Evaluate_bare_expressions()
    {
        var vars = V("""{"n": 5, "s": "x"}""");
        Assert.Equal(true, Engine.Evaluate("n > 3 and s == 'x'", vars));
        Assert.Equal(10L, Engine.Evaluate("n * 2", vars));
        Assert.Equal(true, Engine.Evaluate("{{ n == 5 }}", vars));
        var ex = Assert.Throws<ExpressionException>(() => Engine.Evaluate("missing == 1", vars));
        Assert.Contains("Unable to find `missing`", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_reports_syntax_problems_with_position()
    {
        Assert.Empty(Engine.Check("Hello {{ name | upper }}"));
        Assert.Empty(Engine.Check("no template"));
        var problems = Engine.Check("line1\nHello {{ name | nope }}");
        var p = Assert.Single(problems);
        Assert.Contains("Filter [nope] does not exist.", p.Message, StringComparison.Ordinal);
        Assert.Equal(2, p.Line);
        Assert.Equal(17, p.Column);
        Assert.Single(Engine.Check("{% if x %}never closed"));
        Assert.Single(Engine.Check("{{ 1 + }}"));
    }

    [Fact]
    public void String_without_brace_is_returned_unchanged_and_not_cached()
    {
        var engine = new ExpressionEngine();
        var s = "no braces at all";
        Assert.Same(s, engine.Render(s, V("{}")));
        Assert.Equal(0, engine.CachedTemplateCount);
    }

    [Fact]
    public void Templates_are_cached_and_cache_is_bounded()
    {
        var engine = new ExpressionEngine(new ExpressionEngineOptions { CacheSize = 10 });
        var vars = V("""{"a": 1}""");
        for (int i = 0; i < 25; i++) engine.Render("{{ a }}" + i, vars);
        Assert.InRange(engine.CachedTemplateCount, 1, 10);
        engine.Render("{{ a }}", vars);
        var count = engine.CachedTemplateCount;
        engine.Render("{{ a }}", vars);
        Assert.Equal(count, engine.CachedTemplateCount);
    }

    [Fact]
    public void Cached_path_render_does_not_allocate()
    {
        var vars = V("""{"outputs": {"task": {"value": "hello"}}}""");
        var engine = new ExpressionEngine();
        Assert.Equal("hello", engine.Render("{{ outputs.task.value }}", vars));
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++) engine.Render("{{ outputs.task.value }}", vars);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 1000, $"allocated {allocated} bytes for 1000 renders");
    }

    [Fact]
    public void Json_element_and_node_variables_are_accepted()
    {
        using var doc = JsonDocument.Parse("""{"a": {"b": [1, 2.5, "x"]}}""");
        var vars = new Dictionary<string, object?>
        {
            ["je"] = doc.RootElement,
            ["jn"] = JsonNode.Parse("""{"k": "v"}"""),
            ["i"] = 7,
            ["dec"] = 1.25m,
            ["clr"] = new Dictionary<string, object?> { ["x"] = new List<int> { 1, 2 } },
        };
        Assert.Equal("2.5 x v 8 1.25 [1,2]", Engine.Render("{{ je.a.b[1] }} {{ je.a.b[2] }} {{ jn.k }} {{ i + 1 }} {{ dec }} {{ clr.x }}", vars));
    }

    [Fact]
    public void Custom_functions_and_filters_can_be_registered()
    {
        var options = new ExpressionEngineOptions();
        options.Functions.Add(new CallableDefinition("greet", ["who"], c => "hi " + c.GetString("who")));
        options.Filters.Add(new CallableDefinition("twice", [], c => ExpressionValues.ToText(c.Input) + ExpressionValues.ToText(c.Input)));
        var engine = new ExpressionEngine(options);
        Assert.Equal("hi bob|abab", engine.Render("{{ greet(who='bob') }}|{{ 'ab' | twice }}", V("{}")));
    }

    [Fact]
    public void Host_functions_fail_clearly_without_a_host()
    {
        var ex = Assert.Throws<ExpressionException>(() => Engine.Render("{{ secret('x') }}", V("{}")));
        Assert.Contains("The 'secret' function is not available here", ex.Message, StringComparison.Ordinal);
        Assert.Contains("{{ secret('x') }}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rendering_is_thread_safe()
    {
        var vars = V("""{"items": [1, 2, 3]}""");
        Parallel.For(0, 2000, i =>
        {
            var t = "{% for x in items %}{{ x * " + (i % 7) + " }},{% endfor %}";
            var k = i % 7;
            Assert.Equal($"{1 * k},{2 * k},{3 * k},", Engine.Render(t, vars));
        });
    }

    [Theory]
    [InlineData(1.0, "1.0")]
    [InlineData(2.5, "2.5")]
    [InlineData(-0.5, "-0.5")]
    [InlineData(1e7, "1.0E7")]
    [InlineData(1.5e-5, "1.5E-5")]
    [InlineData(123456789.0, "1.23456789E8")]
    [InlineData(0.001, "0.001")]
    [InlineData(9999999.0, "9999999.0")]
    public void Doubles_print_like_java(double value, string expected) => Assert.Equal(expected, ExpressionValues.JavaDouble(value));

    [Fact]
    public void Value_helpers()
    {
        Assert.Equal("""{"a":1,"b":[1,2.0,"x\n"],"c":null,"d":true}""",
            ExpressionValues.ToJson(ExpressionValues.FromJson("""{"a":1,"b":[1,2.0,"x\n"],"c":null,"d":true}""")));
        Assert.Equal(5L, ExpressionValues.Normalize(5));
        Assert.Equal("", ExpressionValues.ToText(null));
        Assert.Equal("false", ExpressionValues.ToText(false));
        Assert.False(ExpressionValues.IsTruthy("false"));
        Assert.False(ExpressionValues.IsTruthy(""));
        Assert.False(ExpressionValues.IsTruthy(0L));
        Assert.False(ExpressionValues.IsTruthy(null));
        Assert.True(ExpressionValues.IsTruthy("yes"));
        Assert.True(ExpressionValues.IsTruthy(true));
    }
}

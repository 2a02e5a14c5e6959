using BenchmarkDotNet.Attributes;
using Windhover.Flows.Expressions;

namespace Windhover.Bench;

/// <summary>Rendering of cached Pebble templates, the work done for every task property.</summary>
[MemoryDiagnoser]
public class ExpressionBenchmarks
{
    private const string SimpleTemplate = "{{ outputs.task.value }}";
    private const string FiveFilterTemplate = "{{ inputs.name | trim | lower | replace({'world': 'windhover'}) | capitalize | abbreviate(20) }}";

    private readonly ExpressionEngine _engine = new();
    private readonly Dictionary<string, object?> _variables = new()
    {
        ["outputs"] = new Dictionary<string, object?>
        {
            ["task"] = new Dictionary<string, object?> { ["value"] = "hello" },
        },
        ["inputs"] = new Dictionary<string, object?> { ["name"] = "  Hello World, from a flow  " },
    };

    [GlobalSetup]
    public void Warm()
    {
        // Parse once so the benchmarks measure cached renders.
        _engine.Render(SimpleTemplate, _variables);
        _engine.Render(FiveFilterTemplate, _variables);
    }

    [Benchmark(Baseline = true)]
    public string SimpleVariable() => _engine.Render(SimpleTemplate, _variables);

    [Benchmark]
    public string FiveFilters() => _engine.Render(FiveFilterTemplate, _variables);
}

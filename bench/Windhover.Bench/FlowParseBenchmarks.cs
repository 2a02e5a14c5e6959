using System.Text;
using BenchmarkDotNet.Attributes;
using Windhover.Flows.Yaml;

namespace Windhover.Bench;

/// <summary>Parse and validate a flow of 50 tasks of mixed kinds, as the API does on every flow save.</summary>
[MemoryDiagnoser]
public class FlowParseBenchmarks
{
    private readonly string _yaml = BuildFlow(50);
    private readonly FlowParser _parser = FlowParser.Default;

    [Benchmark]
    public bool ParseAndValidate50Tasks()
    {
        var result = _parser.Parse(_yaml);
        if (!result.IsValid)
        {
            throw new InvalidOperationException(string.Join(Environment.NewLine, result.Problems));
        }

        return result.IsValid;
    }

    internal static string BuildFlow(int taskCount)
    {
        var yaml = new StringBuilder();
        yaml.AppendLine("id: bench-fifty");
        yaml.AppendLine("namespace: bench.windhover");
        yaml.AppendLine("labels:\n  team: bench\n  env: test");
        yaml.AppendLine("inputs:\n  - id: name\n    type: STRING\n    defaults: world\n  - id: count\n    type: INT\n    defaults: 3");
        yaml.AppendLine("tasks:");
        var written = 0;
        while (written < taskCount)
        {
            switch (written % 5)
            {
                case 0:
                    yaml.AppendLine($"  - id: log_{written}\n    type: io.kestra.plugin.core.log.Log\n    message: \"Hello {{{{ inputs.name }}}} {written}\"");
                    written++;
                    break;
                case 1:
                    yaml.AppendLine($"  - id: ret_{written}\n    type: io.kestra.plugin.core.debug.Return\n    format: \"{{{{ outputs.log_{written - 1} ?? 'none' }}}}\"\n    retry:\n      type: constant\n      interval: PT1S\n      maxAttempt: 3");
                    written++;
                    break;
                case 2:
                    yaml.AppendLine($"  - id: if_{written}\n    type: io.kestra.plugin.core.flow.If\n    condition: \"{{{{ inputs.count > 2 }}}}\"\n    then:\n      - id: then_{written}\n        type: io.kestra.plugin.core.debug.Return\n        format: yes\n    else:\n      - id: else_{written}\n        type: io.kestra.plugin.core.debug.Return\n        format: no");
                    written += 3;
                    break;
                case 0 or 3 or 4 when written % 10 == 5:
                    yaml.AppendLine($"  - id: each_{written}\n    type: io.kestra.plugin.core.flow.ForEach\n    values: [1, 2, 3]\n    concurrencyLimit: 1\n    tasks:\n      - id: inner_{written}\n        type: io.kestra.plugin.core.output.OutputValues\n        values:\n          item: \"{{{{ taskrun.value }}}}\"");
                    written += 2;
                    break;
                default:
                    yaml.AppendLine($"  - id: sleep_{written}\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: PT0.01S\n    timeout: PT1M");
                    written++;
                    break;
            }
        }

        yaml.AppendLine("triggers:\n  - id: hourly\n    type: io.kestra.plugin.core.trigger.Schedule\n    cron: \"0 * * * *\"");
        return yaml.ToString();
    }
}

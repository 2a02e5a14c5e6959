namespace Windhover.Bench.Scenarios;

/// <summary>benchmark01's flow (OutputValues then Log), with and without the Webhook trigger that starts it over HTTP.</summary>
internal static class Benchmark01
{
    public const string Flow = """
        id: benchmark01
        namespace: bench
        tasks:
          - id: output
            type: io.kestra.plugin.core.output.OutputValues
            values:
              request: "{{ trigger.body.request ?? 'none' }}"
          - id: log
            type: io.kestra.plugin.core.log.Log
            message: "request {{ outputs.output.values.request }}"
        """;

    public const string WebhookFlow = Flow + """

        triggers:
          - id: webhook
            type: io.kestra.plugin.core.trigger.Webhook
            key: benchmark01
        """;
}

namespace Windhover.Benchmarks;

/// <summary>
/// The flow of Windmill's orchestrator benchmark for Kestra, as published: fibo(<c>n</c>) in python.Script on the
/// Process runner, <c>iters</c> times in a sequential ForEach. Shared by the scripts tests and bench/ (linked source).
/// </summary>
internal static class WindmillBenchmarkFlow
{
    public const string Namespace = "company.team";
    public const string Id = "benchmark";

    public const string Yaml = """
        id: benchmark
        namespace: company.team

        inputs:
          - id: n
            type: INT
          - id: iters
            type: INT

        tasks:
          - id: loop
            type: io.kestra.plugin.core.flow.ForEach
            values: "{{ range(0, inputs.iters - 1) }}"
            concurrencyLimit: 1
            tasks:
              - id: python
                type: io.kestra.plugin.scripts.python.Script
                taskRunner:
                  type: io.kestra.plugin.core.runner.Process
                script: |
                  def fibo(n: int):
                      if n <= 1:
                          return n
                      else:
                          return fibo(n - 1) + fibo(n - 2)
                  print(str(fibo({{ inputs.n }})))
        """;
}

using BenchmarkDotNet.Running;

// Run by hand, never as a timed test:
//   dotnet run -c Release --project bench/Windhover.Bench -- --filter '*'
// BenchmarkDotNet prints medians and writes JSON/Markdown results under BenchmarkDotNet.Artifacts/.
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);

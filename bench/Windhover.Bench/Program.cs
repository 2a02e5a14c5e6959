using BenchmarkDotNet.Running;
using Windhover.Bench.Scenarios;

// Run by hand, never as a timed test:
//   dotnet run -c Release --project bench/Windhover.Bench -- --filter '*'         (micro-benchmarks, BenchmarkDotNet)
//   dotnet run -c Release --project bench/Windhover.Bench -- scenario [name...]   (engine scenarios on SQLite)
// BenchmarkDotNet writes JSON/CSV/Markdown under BenchmarkDotNet.Artifacts/results/; scenarios write
// bench-results/<name>.json and print medians.
//   dotnet run -c Release --project bench/Windhover.Bench -- execution-list [--count 100000] [--repeats 15] [--db path]
//     (the web UI's executions list with that many executions stored; prints server-time medians)
//   dotnet run -c Release --project bench/Windhover.Bench -- webhook-load --server http://127.0.0.1:8080 [--seconds 60] [--rates 1000,2000,...]
//   (--server a,b,c spreads the webhooks over the nodes of a cluster)
if (args.Length > 0 && args[0] == "webhook-load")
{
    return await WebhookLoad.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "execution-list")
{
    return await ExecutionListLoad.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "scenario")
{
    return await EngineScenarios.RunAsync(args[1..]);
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;

// Engine overhead of ProcessScriptRunner for a python task, beyond the interpreter's own start:
// medians over N runs of a raw Process.Start("python3 -c pass") against the runner doing the same work.
// Run by hand: dotnet run -c Release --project bench/Windhover.Plugins.Scripts.Overhead [-- python3 30]
// Writes bench-results/script-overhead.json.
using System.Diagnostics;
using Windhover.Plugins.Scripts;

var python = args.Length > 0 ? args[0] : "python3";
var runs = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 30;

var runner = new ProcessScriptRunner();
var grouped = runner;
var ungrouped = new ProcessScriptRunner(new ProcessScriptRunnerOptions { UseProcessGroup = false });

var cases = new (string Name, Func<Task> Run)[]
{
    ("raw Process.Start", RawAsync),
    ("runner argv (python -c pass)", () => RunAsync(grouped, new ScriptRequest { Interpreter = [], Commands = [python, "-c", "pass"] })),
    ("runner argv, no process group", () => RunAsync(ungrouped, new ScriptRequest { Interpreter = [], Commands = [python, "-c", "pass"] })),
    ("runner python.Script helper", () => RunAsync(grouped, ScriptTasks.PythonScript("pass", python: python))),
    ("runner python.Commands (sh -c)", () => RunAsync(grouped, ScriptTasks.PythonCommands([$"{python} -c pass"]))),
};

for (var i = 0; i < 3; i++)
{
    foreach (var c in cases)
    {
        await c.Run();
    }
}
var samples = cases.ToDictionary(c => c.Name, _ => new List<double>());
for (var i = 0; i < runs; i++)
{
    foreach (var c in cases)
    {
        var sw = Stopwatch.StartNew();
        await c.Run();
        samples[c.Name].Add(sw.Elapsed.TotalMilliseconds);
    }
}
var rawMedian = Median(samples["raw Process.Start"]);
Console.WriteLine($"interpreter: {python}, {runs} runs each (interleaved), medians:");
var rows = new List<object>();
foreach (var (name, list) in samples)
{
    var median = Median(list);
    Console.WriteLine($"  {name,-34} {median,8:F2} ms   overhead vs raw: {median - rawMedian,6:F2} ms");
    rows.Add(new { name, medianMs = Math.Round(median, 3), overheadVsRawMs = Math.Round(median - rawMedian, 3) });
}

Directory.CreateDirectory("bench-results");
await File.WriteAllTextAsync(Path.Combine("bench-results", "script-overhead.json"), System.Text.Json.JsonSerializer.Serialize(
    new { interpreter = python, runs, cases = rows }, new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
Console.WriteLine("results: bench-results/script-overhead.json");

async Task RawAsync()
{
    var psi = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
    psi.ArgumentList.Add("-c");
    psi.ArgumentList.Add("pass");
    using var p = Process.Start(psi)!;
    var o = p.StandardOutput.ReadToEndAsync();
    var e = p.StandardError.ReadToEndAsync();
    await p.WaitForExitAsync();
    await Task.WhenAll(o, e);
}

static async Task RunAsync(ProcessScriptRunner r, ScriptRequest request)
{
    var result = await r.RunAsync(request);
    if (!result.IsSuccess)
    {
        throw new InvalidOperationException(result.ErrorMessage);
    }
    result.Workspace.Dispose();
}

static double Median(List<double> values)
{
    var s = values.Order().ToList();
    return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
}

using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Windhover.Engine.Stores;
using Windhover.Server.Hosting;
using Xunit.Abstractions;

namespace Windhover.Conformance.Tests;

/// <summary>
/// Runs the shared conformance corpus (<c>../shared/conformance/run_cases.py</c>, never copied here) against the real
/// server on a free loopback port with a temporary data folder, and asserts the pass rate of the <c>kind=simple</c> cases.
/// </summary>
public sealed partial class RunCasesTests(ITestOutputHelper output)
{
    [GeneratedRegex(@"^(\d+) passed, (\d+) failed$", RegexOptions.Multiline)]
    private static partial Regex Totals();

    [Fact]
    public async Task Simple_cases_pass_through_the_REST_API()
    {
        var corpus = FindCorpus();
        var dataPath = Path.Combine(Path.GetTempPath(), "windhover-conformance-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataPath);
        var options = new ServerOptions { Port = 0, DataPath = dataPath, FlowPath = null };
        await using var app = WindhoverServer.Build(options, services => services.AddSingleton(sp =>
            InMemoryStores.Create(sp.GetRequiredService<TimeProvider>()) with { Files = new LocalFileStorage(Path.Combine(dataPath, "storage")) }), _ => { });
        await app.StartAsync();
        try
        {
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            var (exitCode, stdout, stderr) = await RunAsync("python3", [
                Path.Combine(corpus, "run_cases.py"), "--server", address,
                "--cases", Path.Combine(corpus, "cases.json"), "--flows", Path.Combine(corpus, "flows"),
                "--only", "kind=simple", "--timeout", "30"]);
            foreach (var line in stdout.Split('\n').Where(l => l.StartsWith("FAIL ", StringComparison.Ordinal)))
            {
                output.WriteLine(line);
            }

            var totals = Totals().Matches(stdout).LastOrDefault();
            Assert.True(totals is not null, $"run_cases.py printed no totals (exit {exitCode}): {stderr}\n{stdout}");
            var passed = int.Parse(totals.Groups[1].Value, CultureInfo.InvariantCulture);
            var failed = int.Parse(totals.Groups[2].Value, CultureInfo.InvariantCulture);
            var rate = passed / (double)Math.Max(1, passed + failed);
            output.WriteLine($"{passed} passed, {failed} failed: {rate:P1}");
            var minimum = double.TryParse(Environment.GetEnvironmentVariable("WINDHOVER_CONFORMANCE_MIN_PASS_RATE"), NumberStyles.Float, CultureInfo.InvariantCulture, out var m) ? m : 0.95;
            Assert.True(rate >= minimum, $"pass rate {rate:P1} is below {minimum:P0}:\n" +
                string.Join('\n', stdout.Split('\n').Where(l => l.StartsWith("FAIL ", StringComparison.Ordinal))));
        }
        finally
        {
            await app.StopAsync();
            try
            {
                Directory.Delete(dataPath, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>WINDHOVER_CONFORMANCE_DIR, or ../shared/conformance next to the repository root (the folder holding Windhover.slnx).</summary>
    private static string FindCorpus()
    {
        if (Environment.GetEnvironmentVariable("WINDHOVER_CONFORMANCE_DIR") is { Length: > 0 } configured)
        {
            return Path.GetFullPath(configured);
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Windhover.slnx")))
            {
                var corpus = Path.Combine(dir.FullName, "..", "shared", "conformance");
                if (File.Exists(Path.Combine(corpus, "run_cases.py")))
                {
                    return Path.GetFullPath(corpus);
                }

                throw new InvalidOperationException($"No conformance corpus at {corpus}; set WINDHOVER_CONFORMANCE_DIR");
            }
        }

        throw new InvalidOperationException("Repository root (Windhover.slnx) not found; set WINDHOVER_CONFORMANCE_DIR");
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string file, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(20));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}

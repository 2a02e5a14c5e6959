using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Windhover.Server.Hosting;
using Windhover.Storage.Sqlite;
using Xunit.Abstractions;

namespace Windhover.Conformance.Tests;

/// <summary>
/// Runs the shared conformance corpus (<c>../shared/conformance/run_cases.py</c>, never copied here) against the real
/// server on a free loopback port with a temporary data folder, and asserts the pass rate of the <c>simple</c> and <c>needs-env</c> cases
/// and of the <c>needs-interaction</c> cases, on SQLite (<c>server local</c>) and on PostgreSQL (<c>server standalone</c>).
/// </summary>
public sealed partial class RunCasesTests(ITestOutputHelper output)
{
    [GeneratedRegex(@"^(\d+) passed, (\d+) failed$", RegexOptions.Multiline)]
    private static partial Regex Totals();

    /// <summary>
    /// The <c>simple</c> and <c>needs-env</c> cases (#4 and #5 acceptance: at least 95% of them), against a server configured
    /// as Kestra's tests configure theirs: an encryption key for SECRET inputs and the JDBC queue message limit of
    /// 1,048,576 bytes. The one case about a server WITHOUT a key runs against a second server that has none.
    /// </summary>
    [Fact]
    public Task Simple_and_needs_env_cases_pass_through_the_REST_API() => SimpleAndNeedsEnvAsync(BuildSqliteServer);

    /// <summary>The <c>needs-interaction</c> cases (API operations on running executions: restart, replay, resume, kill, state changes, webhooks, triggers...).</summary>
    [Fact]
    public Task Needs_interaction_cases_pass_through_the_REST_API() => NeedsInteractionAsync(BuildSqliteServer);

    private async Task SimpleAndNeedsEnvAsync(BuildServer build)
    {
        const string noEncryptionCase = "inputs-secret-no-encryption";
        var configured = await RunCorpusAsync(build, ConfiguredAsKestraTests(),
            "--only", "kind=simple,needs-env", "--filter", $"^(?!{noEncryptionCase}$)");
        var withoutKey = await RunCorpusAsync(build, new ServerOptions(), "--only", "kind=needs-env", "--filter", $"^{noEncryptionCase}$");
        Assert.Equal(1, withoutKey.Passed + withoutKey.Failed);
        AssertPassRate(configured + withoutKey);
    }

    private async Task NeedsInteractionAsync(BuildServer build) =>
        AssertPassRate(await RunCorpusAsync(build, ConfiguredAsKestraTests(), "--only", "kind=needs-interaction"));

    /// <summary>An encryption key for SECRET inputs and the JDBC queue message limit of Kestra's test configuration.</summary>
    private static ServerOptions ConfiguredAsKestraTests() =>
        new() { EncryptionKey = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)), MaxExecutionSize = 1_048_576 };

    /// <summary>The server under test, built (not started) by a <see cref="BuildServer"/>; <paramref name="Cleanup"/> runs after it stopped.</summary>
    private sealed record ServerUnderTest(WebApplication App, Func<Task> Cleanup);

    /// <summary>Builds the server under test for <paramref name="options"/> (port 0, a fresh temporary data folder, no flow folder).</summary>
    private delegate Task<ServerUnderTest> BuildServer(ServerOptions options);

    /// <summary>As <c>windhover server local</c>: SQLite and internal storage in the data folder.</summary>
    private static Task<ServerUnderTest> BuildSqliteServer(ServerOptions options) =>
        Task.FromResult(new ServerUnderTest(WindhoverServer.Build(options, services => services.AddSingleton(sp =>
            SqliteDatabase.OpenStores(Path.Combine(options.DataPath, "windhover.db"), new SqliteStoreOptions
            {
                TimeProvider = sp.GetRequiredService<TimeProvider>(),
                FilesFolder = Path.Combine(options.DataPath, "storage"),
            })), _ => { }), () => Task.CompletedTask));

    private sealed record CorpusResult(int Passed, int Failed, IReadOnlyList<string> Failures)
    {
        public static CorpusResult operator +(CorpusResult a, CorpusResult b) => new(a.Passed + b.Passed, a.Failed + b.Failed, [.. a.Failures, .. b.Failures]);
    }

    private void AssertPassRate(CorpusResult result)
    {
        var rate = result.Passed / (double)Math.Max(1, result.Passed + result.Failed);
        output.WriteLine($"{result.Passed} passed, {result.Failed} failed: {rate:P1}");
        var minimum = double.TryParse(Environment.GetEnvironmentVariable("WINDHOVER_CONFORMANCE_MIN_PASS_RATE"), NumberStyles.Float, CultureInfo.InvariantCulture, out var m) ? m : 0.95;
        Assert.True(result.Passed + result.Failed > 0, "no case ran");
        Assert.True(rate >= minimum, $"pass rate {rate:P1} is below {minimum:P0}:\n" + string.Join('\n', result.Failures));
    }

    /// <summary>Builds and starts the server under test over a temporary data folder and runs the corpus against it.</summary>
    private async Task<CorpusResult> RunCorpusAsync(BuildServer build, ServerOptions configuration, params string[] selection)
    {
        var corpus = FindCorpus();
        var dataPath = Path.Combine(Path.GetTempPath(), "windhover-conformance-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataPath);
        var server = await build(configuration with { Port = 0, DataPath = dataPath, FlowPath = null });
        var app = server.App;
        try
        {
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            var (exitCode, stdout, stderr) = await RunAsync("python3", [
                Path.Combine(corpus, "run_cases.py"), "--server", address,
                "--cases", Path.Combine(corpus, "cases.json"), "--flows", Path.Combine(corpus, "flows"),
                "--timeout", "30", .. selection]);
            var failures = stdout.Split('\n').Where(l => l.StartsWith("FAIL ", StringComparison.Ordinal)).ToList();
            failures.ForEach(output.WriteLine);
            var totals = Totals().Matches(stdout).LastOrDefault();
            Assert.True(totals is not null, $"run_cases.py printed no totals (exit {exitCode}): {stderr}\n{stdout}");
            return new CorpusResult(int.Parse(totals.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(totals.Groups[2].Value, CultureInfo.InvariantCulture), failures);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
            await server.Cleanup();
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

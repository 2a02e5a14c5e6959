using System.Collections.Concurrent;
using System.Diagnostics;

namespace Windhover.Plugins.Scripts;

/// <summary>
/// Finds the real executable behind a program name, once per process. Version-manager shims (pyenv, asdf, nodenv,
/// nvm wrappers) cost tens of milliseconds per start because each is a shell script that works out the version;
/// resolving the interpreter they point at once makes every later script start as fast as the interpreter itself.
/// </summary>
public static class Interpreters
{
    private static readonly ConcurrentDictionary<string, string> Cache = new(StringComparer.Ordinal);

    /// <summary>The program's full path on <c>PATH</c> (null when not found). Paths with a '/' are returned as they are.</summary>
    public static string? FindOnPath(string program)
    {
        if (program.Contains('/', StringComparison.Ordinal))
        {
            return File.Exists(program) ? program : null;
        }

        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, program);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>
    /// The real Python interpreter for <paramref name="program"/> (default <c>python3</c>): when <c>PATH</c> leads to a
    /// shim, the interpreter's own <c>sys.executable</c>. Cached; falls back to the program name when nothing answers.
    /// </summary>
    public static string ResolvePython(string program = "python3") =>
        Cache.GetOrAdd("python:" + program, _ => Resolve(program, ["-c", "import sys; print(sys.executable)"]));

    /// <summary>The real Node.js executable for <paramref name="program"/> (default <c>node</c>), as <see cref="ResolvePython"/>.</summary>
    public static string ResolveNode(string program = "node") =>
        Cache.GetOrAdd("node:" + program, _ => Resolve(program, ["-p", "process.execPath"]));

    internal static bool IsShim(string path)
    {
        if (path.Contains("/shims/", StringComparison.Ordinal))
        {
            return true;
        }

        // a small text file starting with #! is a wrapper script, not the interpreter itself
        try
        {
            var info = new FileInfo(path);
            if (info.Length > 64 * 1024)
            {
                return false;
            }

            using var stream = File.OpenRead(path);
            return stream.ReadByte() == '#' && stream.ReadByte() == '!';
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static string Resolve(string program, string[] probe)
    {
        var found = FindOnPath(program);
        if (found is null)
        {
            return program;
        }

        if (!IsShim(found))
        {
            return found;
        }

        try
        {
            var psi = new ProcessStartInfo(found) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in probe)
            {
                psi.ArgumentList.Add(a);
            }

            using var process = Process.Start(psi);
            if (process is null)
            {
                return found;
            }

            var output = process.StandardOutput.ReadToEnd().Trim();
            process.StandardError.ReadToEnd();
            if (!process.WaitForExit(10_000))
            {
                process.Kill(entireProcessTree: true);
                return found;
            }

            return process.ExitCode == 0 && output.Length > 0 && File.Exists(output) ? output : found;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException or InvalidOperationException)
        {
            return found;
        }
    }
}

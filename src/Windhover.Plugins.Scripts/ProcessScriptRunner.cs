using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Windhover.Plugins.Scripts;

/// <summary>Settings of a <see cref="ProcessScriptRunner"/>.</summary>
public sealed record ProcessScriptRunnerOptions
{
    /// <summary>Where per-run working directories are made (default: <c>$TMPDIR/windhover-scripts</c>).</summary>
    public string TempRoot { get; init; } = Path.Combine(Path.GetTempPath(), "windhover-scripts");
    /// <summary>
    /// Start the process in its own session/process group so that timeout, cancellation and the end of the run kill
    /// every process the script started, even orphaned background ones. On Linux (glibc) through <c>posix_spawn</c>
    /// with <c>POSIX_SPAWN_SETSID</c>; elsewhere through <c>setsid</c> when present (an extra exec).
    /// </summary>
    public bool UseProcessGroup { get; init; } = true;
    /// <summary>How many last stderr lines a failure message quotes.</summary>
    public int StdErrTailLines { get; init; } = 20;
    /// <summary>How long to wait for the output pipes to close after the main process exited.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(2);
    /// <summary>The Docker socket probed when a task asks for the Docker task runner.</summary>
    public string DockerSocketPath { get; init; } = DockerProbe.DefaultSocketPath;
}

/// <summary>
/// Runs script tasks on the host like Kestra's Process task runner: per-run working directory, input files,
/// env, stdout lines logged at INFO and stderr lines at WARN while the process runs, the <c>::{..}::</c> output
/// protocol, output files by glob, timeout and cancellation killing the whole process tree. Thread-safe; one
/// instance can run many scripts at once.
/// </summary>
public sealed class ProcessScriptRunner
{
    private static readonly string? SetsidPath = new[] { "/usr/bin/setsid", "/bin/setsid" }.FirstOrDefault(File.Exists);

    private readonly ProcessScriptRunnerOptions _options;
    private readonly TimeProvider _time;

    public ProcessScriptRunner(ProcessScriptRunnerOptions? options = null, TimeProvider? timeProvider = null)
    {
        _options = options ?? new ProcessScriptRunnerOptions();
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Makes a fresh working directory (with its <c>outputDir</c>) under the temp root.</summary>
    public ScriptWorkspace CreateWorkspace()
    {
        var dir = Path.Combine(_options.TempRoot, Guid.NewGuid().ToString("N")[..16]);
        return new ScriptWorkspace(dir);
    }

    /// <summary>
    /// Runs <paramref name="request"/>. <paramref name="onLog"/> is called for each log entry as it happens, never
    /// concurrently, stdout and stderr lines each in their order. Failures (non-zero exit, timeout, start error) are
    /// returned as results; cancellation through <paramref name="cancellationToken"/> kills the process tree and throws
    /// <see cref="OperationCanceledException"/>. If <paramref name="onLog"/> throws, the process keeps running (its
    /// output is drained unlogged) and the run then throws <see cref="InvalidOperationException"/> wrapping that error.
    /// </summary>
    public async Task<ScriptResult> RunAsync(ScriptRequest request, Action<ScriptLogEntry>? onLog = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        cancellationToken.ThrowIfCancellationRequested();
        var started = _time.GetTimestamp();
        var run = new RunState(onLog, _options.StdErrTailLines);
        var workspace = request.Workspace ?? CreateWorkspace();

        var runner = ScriptTaskRunnerKind.Process;
        if (request.TaskRunner == ScriptTaskRunnerKind.Docker)
        {
            var image = request.ContainerImage is null ? "" : $" (image '{request.ContainerImage}')";
            var dockerUp = await DockerProbe.IsAvailableAsync(_options.DockerSocketPath, cancellationToken: cancellationToken).ConfigureAwait(false);
            run.Emit(ScriptLogLevel.Warn, dockerUp
                ? $"The Docker task runner{image} is not supported yet; running the script with the Process task runner on the host."
                : $"The Docker task runner{image} was requested but no Docker engine answers at {_options.DockerSocketPath}; running the script with the Process task runner on the host.",
                ScriptLogSource.Runner);
        }

        string[] argv;
        try
        {
            argv = BuildArguments(request, workspace);
            foreach (var (name, content) in request.InputFiles)
            {
                var path = workspace.Resolve(name);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                // Small files: a synchronous write is cheaper than the async file path (start overhead matters here).
                File.WriteAllText(path, workspace.Render(content));
            }
        }
        catch (ArgumentException e)
        {
            return Failed(e.Message, -1);
        }

        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            environment[(string)entry.Key] = (string?)entry.Value ?? "";
        }
        foreach (var (name, value) in request.Env)
        {
            environment[name] = workspace.Render(value);
        }
        environment["WORKING_DIR"] = workspace.WorkingDirectory;
        environment["OUTPUT_DIR"] = workspace.OutputDirectory;

        using var child = StartChild(argv, workspace.WorkingDirectory, environment, out var startError);
        if (child is null)
        {
            return Failed($"Cannot start '{argv[0]}': {startError}", -1);
        }
        var pid = child.Id;
        if (onLog is not null)
        {
            run.Emit(ScriptLogLevel.Debug, $"Started process {pid}: {string.Join(' ', argv.Select(Quote))}", ScriptLogSource.Runner);
        }

        var stdout = run.PumpAsync(child.StandardOutput, isStdErr: false);
        var stderr = run.PumpAsync(child.StandardError, isStdErr: true);

        var timedOut = false;
        using (var timeoutCts = request.Timeout is { } t ? new CancellationTokenSource(t, _time) : new CancellationTokenSource())
        using (var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutCts.Token))
        {
            try
            {
                await child.WaitForExitAsync(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                child.KillAll();
                await child.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                timedOut = !cancellationToken.IsCancellationRequested;
            }
        }

        // The main process is gone: whatever it left running in its group goes too (as when a container stops),
        // so that a background child holding the pipes open cannot keep the run alive.
        if (child.Grouped)
        {
            NativeMethods.KillProcessGroup(pid);
        }
        try
        {
            await Task.WhenAll(stdout, stderr).WaitAsync(_options.DrainTimeout, _time, CancellationToken.None).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            run.Emit(ScriptLogLevel.Warn, "The output pipes stayed open after the process exited (a child outlived it); stopped reading them.", ScriptLogSource.Runner);
        }

        var exitCode = child.ExitCode;
        cancellationToken.ThrowIfCancellationRequested();
        if (run.CallbackError is { } callbackError)
        {
            throw new InvalidOperationException($"The log callback failed: {callbackError.Message}", callbackError);
        }

        if (timedOut)
        {
            return Failed($"The script timed out after {request.Timeout}; its process tree was killed.", exitCode, ScriptOutcome.TimedOut);
        }
        if (exitCode != 0)
        {
            var tail = run.StdErrTail();
            var message = $"Command failed with exit code {exitCode}"
                + (tail.Length == 0 ? "." : $"; last lines of stderr:{Environment.NewLine}{string.Join(Environment.NewLine, tail)}");
            return Failed(message, exitCode);
        }
        return new ScriptResult
        {
            Outcome = request.WarningOnStdErr && run.StdErrWritten ? ScriptOutcome.Warning : ScriptOutcome.Success,
            ExitCode = 0,
            Vars = run.Vars,
            OutputFiles = CollectOutputFiles(workspace, request.OutputFiles),
            Metrics = run.Metrics,
            Duration = _time.GetElapsedTime(started),
            StdErrWritten = run.StdErrWritten,
            TaskRunner = runner,
            Workspace = workspace,
        };

        ScriptResult Failed(string message, int code, ScriptOutcome outcome = ScriptOutcome.Failed) => new()
        {
            Outcome = outcome,
            ExitCode = code,
            Vars = run.Vars,
            OutputFiles = CollectOutputFiles(workspace, request.OutputFiles),
            Metrics = run.Metrics,
            Duration = _time.GetElapsedTime(started),
            ErrorMessage = message,
            StdErrWritten = run.StdErrWritten,
            TaskRunner = runner,
            Workspace = workspace,
        };
    }

    /// <summary>The argument vector the request runs (before the optional <c>setsid</c>).</summary>
    internal static string[] BuildArguments(ScriptRequest request, ScriptWorkspace workspace)
    {
        if (request.Interpreter.Count == 0)
        {
            if (request.BeforeCommands.Count > 0)
            {
                throw new ArgumentException("BeforeCommands need an interpreter (e.g. /bin/sh -c); the interpreter is empty.");
            }
            if (request.Commands.Count == 0)
            {
                throw new ArgumentException("No command to run: the commands are empty.");
            }
            return request.Commands.Select(workspace.Render).ToArray();
        }
        var lines = request.BeforeCommands.Concat(request.Commands).Select(workspace.Render).ToList();
        if (lines.Count == 0)
        {
            throw new ArgumentException("No command to run: the commands are empty.");
        }
        if (request.FailFast && IsPosixShell(request.Interpreter[0]))
        {
            lines.Insert(0, "set -e");
        }
        return [.. request.Interpreter.Select(workspace.Render), string.Join('\n', lines)];
    }

    internal static bool IsPosixShell(string program) =>
        Path.GetFileName(program) is "sh" or "bash" or "dash" or "zsh" or "ksh" or "ash";

    /// <summary>
    /// Starts the process: with a process group, through <c>posix_spawn</c> in a new session where the platform allows
    /// (no extra exec), else through <c>setsid</c>; without one, through <see cref="Process"/>. Null (and the reason)
    /// when the program cannot be started.
    /// </summary>
    private IChild? StartChild(string[] argv, string workingDirectory, Dictionary<string, string> environment, out string? error)
    {
        error = null;
        try
        {
            if (_options.UseProcessGroup && OperatingSystem.IsLinux() && SpawnedProcess.IsSupported)
            {
                return new SpawnedChild(SpawnedProcess.Start(argv, workingDirectory, environment));
            }

            var useGroup = _options.UseProcessGroup && SetsidPath is not null;
            var psi = new ProcessStartInfo
            {
                FileName = useGroup ? SetsidPath! : argv[0],
                WorkingDirectory = workingDirectory,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                StandardOutputEncoding = Encoding.UTF8,
                StandardErrorEncoding = Encoding.UTF8,
            };
            foreach (var a in useGroup ? argv : argv.Skip(1))
            {
                psi.ArgumentList.Add(a);
            }
            psi.Environment.Clear();
            foreach (var (name, value) in environment)
            {
                psi.Environment[name] = value;
            }

            var process = new Process { StartInfo = psi };
            try
            {
                process.Start();
            }
            catch
            {
                process.Dispose();
                throw;
            }
            process.StandardInput.Close();
            return new ManagedChild(process, useGroup);
        }
        catch (Win32Exception e)
        {
            error = e.Message;
            return null;
        }
    }

    /// <summary>A started script process, whichever way it was started.</summary>
    private interface IChild : IDisposable
    {
        int Id { get; }
        bool Grouped { get; }
        StreamReader StandardOutput { get; }
        StreamReader StandardError { get; }
        int ExitCode { get; }
        Task WaitForExitAsync(CancellationToken cancellationToken);
        /// <summary>SIGKILL to the process tree (and its process group).</summary>
        void KillAll();
    }

    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private sealed class SpawnedChild(SpawnedProcess process) : IChild
    {
        public int Id => process.Id;
        public bool Grouped => true;
        public StreamReader StandardOutput => process.StandardOutput;
        public StreamReader StandardError => process.StandardError;
        public int ExitCode => process.Exited.Result;
        public Task WaitForExitAsync(CancellationToken cancellationToken) => process.Exited.WaitAsync(cancellationToken);
        public void KillAll() => process.KillTree();
        public void Dispose() => process.Dispose();
    }

    private sealed class ManagedChild(Process process, bool grouped) : IChild
    {
        public int Id => process.Id;
        public bool Grouped => grouped;
        public StreamReader StandardOutput => process.StandardOutput;
        public StreamReader StandardError => process.StandardError;
        public int ExitCode => process.ExitCode;
        public Task WaitForExitAsync(CancellationToken cancellationToken) => process.WaitForExitAsync(cancellationToken);

        public void KillAll()
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // already exited
            }
            catch (Win32Exception)
            {
            }
            if (grouped)
            {
                NativeMethods.KillProcessGroup(process.Id);
            }
        }

        public void Dispose() => process.Dispose();
    }

    internal static IReadOnlyDictionary<string, string> CollectOutputFiles(ScriptWorkspace workspace, IReadOnlyList<string> patterns)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (!Directory.Exists(workspace.WorkingDirectory))
        {
            return result;
        }
        if (patterns.Count > 0)
        {
            var globs = patterns.Select(p => new Glob(workspace.Render(p).Replace(workspace.WorkingDirectory + "/", "", StringComparison.Ordinal))).ToList();
            foreach (var file in Directory.EnumerateFiles(workspace.WorkingDirectory, "*", SearchOption.AllDirectories))
            {
                var relative = Path.GetRelativePath(workspace.WorkingDirectory, file).Replace('\\', '/');
                if (globs.Any(g => g.IsMatch(relative)))
                {
                    result[relative] = file;
                }
            }
        }
        if (Directory.Exists(workspace.OutputDirectory))
        {
            foreach (var file in Directory.EnumerateFiles(workspace.OutputDirectory, "*", SearchOption.AllDirectories))
            {
                var relative = Path.GetRelativePath(workspace.OutputDirectory, file).Replace('\\', '/');
                result.TryAdd(relative, file);
            }
        }
        return result;
    }

    private static string Quote(string arg) =>
        arg.Length > 0 && arg.All(c => char.IsLetterOrDigit(c) || c is '/' or '.' or '-' or '_' or '=' or ':' or ',')
            ? arg : "'" + arg.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary>Per-run state shared by the two pipe readers; every callback runs under one lock.</summary>
    private sealed class RunState(Action<ScriptLogEntry>? onLog, int tailLines)
    {
        private readonly Lock _gate = new();
        private readonly Queue<string> _stderrTail = new();
        private readonly Dictionary<string, JsonElement> _vars = new(StringComparer.Ordinal);
        private readonly List<ScriptMetric> _metrics = [];

        public bool StdErrWritten { get; private set; }

        /// <summary>The first exception thrown by the log callback; the run ends by rethrowing it.</summary>
        public Exception? CallbackError { get; private set; }

        public IReadOnlyDictionary<string, JsonElement> Vars
        {
            get { lock (_gate) { return new Dictionary<string, JsonElement>(_vars, StringComparer.Ordinal); } }
        }

        public IReadOnlyList<ScriptMetric> Metrics
        {
            get { lock (_gate) { return [.. _metrics]; } }
        }

        public string[] StdErrTail()
        {
            lock (_gate)
            {
                return [.. _stderrTail];
            }
        }

        public void Emit(ScriptLogLevel level, string message, ScriptLogSource source)
        {
            lock (_gate)
            {
                if (CallbackError is not null)
                {
                    return;
                }
                try
                {
                    onLog?.Invoke(new ScriptLogEntry(level, message, source));
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    CallbackError = e;
                }
            }
        }

        public async Task PumpAsync(StreamReader reader, bool isStdErr)
        {
            try
            {
                while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
                {
                    if (CallbackError is not null)
                    {
                        continue; // keep draining so that the process never blocks on a full pipe
                    }
                    try
                    {
                        OnLine(line, isStdErr);
                    }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        lock (_gate)
                        {
                            CallbackError ??= e;
                        }
                    }
                }
            }
            catch (ObjectDisposedException)
            {
            }
            catch (IOException)
            {
            }
        }

        private void OnLine(string line, bool isStdErr)
        {
            var parsed = OutputProtocol.TryParse(line);
            lock (_gate)
            {
                if (parsed is null)
                {
                    if (isStdErr)
                    {
                        StdErrWritten = true;
                        _stderrTail.Enqueue(line);
                        while (_stderrTail.Count > tailLines)
                        {
                            _stderrTail.Dequeue();
                        }
                    }
                    onLog?.Invoke(new ScriptLogEntry(isStdErr ? ScriptLogLevel.Warn : ScriptLogLevel.Info, line,
                        isStdErr ? ScriptLogSource.StdErr : ScriptLogSource.StdOut));
                    return;
                }
                if (parsed.Outputs is { } outputs)
                {
                    OutputProtocol.Merge(_vars, outputs);
                }
                _metrics.AddRange(parsed.Metrics);
                foreach (var (level, message) in parsed.Logs)
                {
                    onLog?.Invoke(new ScriptLogEntry(level, message, ScriptLogSource.Protocol));
                }
            }
        }
    }
}

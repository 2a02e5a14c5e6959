using System.Text.Json;

namespace Windhover.Plugins.Scripts;

/// <summary>Log levels of Kestra (<c>TRACE</c> .. <c>ERROR</c>).</summary>
public enum ScriptLogLevel
{
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

/// <summary>Where a log line came from.</summary>
public enum ScriptLogSource
{
    /// <summary>A raw line of the process' standard output (logged at INFO).</summary>
    StdOut,
    /// <summary>A raw line of the process' standard error (logged at WARN).</summary>
    StdErr,
    /// <summary>An entry of a <c>::{"logs":[...]}::</c> line.</summary>
    Protocol,
    /// <summary>A message from the runner itself (e.g. the Docker fallback warning).</summary>
    Runner,
}

/// <summary>One log entry produced while a script runs.</summary>
public readonly record struct ScriptLogEntry(ScriptLogLevel Level, string Message, ScriptLogSource Source);

/// <summary>A metric sent with <c>::{"metrics":[{"name":..,"type":"counter|timer","value":..,"tags":{..}}]}::</c>.</summary>
public sealed record ScriptMetric(string Name, string Type, double Value, IReadOnlyDictionary<string, string> Tags);

/// <summary>The task runner a task asked for.</summary>
public enum ScriptTaskRunnerKind
{
    /// <summary>Kestra's <c>io.kestra.plugin.core.runner.Process</c>: run on the host.</summary>
    Process,
    /// <summary>Kestra's <c>io.kestra.plugin.scripts.runner.docker.Docker</c>: falls back to Process here.</summary>
    Docker,
}

/// <summary>Outcome of a script run, mapped by the engine onto task-run states.</summary>
public enum ScriptOutcome
{
    /// <summary>Exit code 0.</summary>
    Success,
    /// <summary>Exit code 0, but something was written to stderr and <see cref="ScriptRequest.WarningOnStdErr"/> is on.</summary>
    Warning,
    /// <summary>Non-zero exit code, or the process could not be started.</summary>
    Failed,
    /// <summary>The timeout elapsed; the whole process tree was killed.</summary>
    TimedOut,
}

/// <summary>
/// What to run. Command semantics follow Kestra's script tasks: <see cref="BeforeCommands"/> then
/// <see cref="Commands"/> are joined with newlines and passed as ONE argument after <see cref="Interpreter"/>
/// (default <c>["/bin/sh", "-c"]</c>). When <see cref="Interpreter"/> is empty, <see cref="Commands"/> is the
/// argument vector itself (no shell; <see cref="BeforeCommands"/> must then be empty).
/// <c>{{ workingDir }}</c> and <c>{{ outputDir }}</c> in commands, env values and input files are replaced by the
/// run's directories (the engine renders every other expression before building the request).
/// </summary>
public sealed record ScriptRequest
{
    public static readonly IReadOnlyList<string> DefaultInterpreter = ["/bin/sh", "-c"];

    public IReadOnlyList<string> Interpreter { get; init; } = DefaultInterpreter;
    public IReadOnlyList<string> BeforeCommands { get; init; } = [];
    public IReadOnlyList<string> Commands { get; init; } = [];
    /// <summary>Added to the host environment (the runner also sets <c>WORKING_DIR</c> and <c>OUTPUT_DIR</c>).</summary>
    public IReadOnlyDictionary<string, string> Env { get; init; } = new Dictionary<string, string>();
    /// <summary>File name (relative to the working directory, may contain <c>/</c>) → content, written before the run.</summary>
    public IReadOnlyDictionary<string, string> InputFiles { get; init; } = new Dictionary<string, string>();
    /// <summary>Glob patterns relative to the working directory (<c>*</c>, <c>**</c>, <c>?</c>, <c>[abc]</c>, <c>{a,b}</c>).</summary>
    public IReadOnlyList<string> OutputFiles { get; init; } = [];
    /// <summary>Kill the process tree and fail when the run takes longer. Null: no timeout.</summary>
    public TimeSpan? Timeout { get; init; }
    /// <summary>Kestra's <c>warningOnStdErr</c> (default true): any stderr output turns success into <see cref="ScriptOutcome.Warning"/>.</summary>
    public bool WarningOnStdErr { get; init; } = true;
    /// <summary>
    /// Kestra's <c>failFast</c> (default true): with a <c>sh</c>/<c>bash</c> interpreter, <c>set -e</c> is put before the
    /// commands so that the first failing command ends the script.
    /// </summary>
    public bool FailFast { get; init; } = true;
    /// <summary>The task runner asked for; <see cref="ScriptTaskRunnerKind.Docker"/> falls back to the host with a warning.</summary>
    public ScriptTaskRunnerKind TaskRunner { get; init; } = ScriptTaskRunnerKind.Process;
    /// <summary>Kestra's <c>containerImage</c>; only reported in the fallback warning.</summary>
    public string? ContainerImage { get; init; }
    /// <summary>A workspace made beforehand with <see cref="ProcessScriptRunner.CreateWorkspace"/> (so that the engine can
    /// render <c>{{ outputDir }}</c> itself); null: the runner makes a new one.</summary>
    public ScriptWorkspace? Workspace { get; init; }

    /// <summary>A copy with <paramref name="files"/> added to <see cref="InputFiles"/> (later entries win).</summary>
    public ScriptRequest WithInputFiles(IReadOnlyDictionary<string, string> files)
    {
        var merged = new Dictionary<string, string>(InputFiles, StringComparer.Ordinal);
        foreach (var (name, content) in files)
        {
            merged[name] = content;
        }
        return this with { InputFiles = merged };
    }

    /// <summary>A copy with <paramref name="env"/> added to <see cref="Env"/> (later entries win).</summary>
    public ScriptRequest WithEnv(IReadOnlyDictionary<string, string> env)
    {
        var merged = new Dictionary<string, string>(Env, StringComparer.Ordinal);
        foreach (var (name, value) in env)
        {
            merged[name] = value;
        }
        return this with { Env = merged };
    }
}

/// <summary>The result of one run. <see cref="OutputFiles"/> stay on disk until <see cref="Workspace"/> is disposed.</summary>
public sealed record ScriptResult
{
    public required ScriptOutcome Outcome { get; init; }
    /// <summary>The process' exit code; -1 when it could not be started, 137 (SIGKILL) when killed on timeout.</summary>
    public required int ExitCode { get; init; }
    /// <summary>Merged <c>::{"outputs":{..}}::</c> values (Kestra's <c>vars</c> output).</summary>
    public required IReadOnlyDictionary<string, JsonElement> Vars { get; init; }
    /// <summary>Relative name → full path of each output file (globs relative to the working directory; files in
    /// the output directory relative to it).</summary>
    public required IReadOnlyDictionary<string, string> OutputFiles { get; init; }
    public required IReadOnlyList<ScriptMetric> Metrics { get; init; }
    public required TimeSpan Duration { get; init; }
    /// <summary>Null unless <see cref="Outcome"/> is Failed or TimedOut.</summary>
    public string? ErrorMessage { get; init; }
    /// <summary>Whether anything was written to stderr.</summary>
    public bool StdErrWritten { get; init; }
    /// <summary>The task runner that actually ran the script (always Process for now).</summary>
    public ScriptTaskRunnerKind TaskRunner { get; init; } = ScriptTaskRunnerKind.Process;
    public required ScriptWorkspace Workspace { get; init; }

    public bool IsSuccess => Outcome is ScriptOutcome.Success or ScriptOutcome.Warning;
}

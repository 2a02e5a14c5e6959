using System.Globalization;
using System.Text.Json;
using Windhover.Engine.Executor;
using Windhover.Engine.Stores;
using Windhover.Engine.Tasks;
using Windhover.Engine.Tasks.Core;
using Windhover.Flows.Expressions;

namespace Windhover.Plugins.Scripts;

internal enum ScriptFlavor
{
    ShellCommands,
    ShellScript,
    PythonScript,
    PythonCommands,
    NodeScript,
    NodeCommands,
    LegacyBash,
}

/// <summary>
/// One script task type on the engine's runnable-task contract: renders the properties (with <c>workingDir</c> and
/// <c>outputDir</c> as extra variables), writes the input files (content or <c>kestra:///</c> URI), runs the script
/// with <see cref="ProcessScriptRunner"/> in the task run's working directory while streaming its log lines to the log
/// store, uploads the output files, and returns Kestra's outputs <c>exitCode</c>, <c>vars</c> and <c>outputFiles</c>.
/// Kill and timeout come as cancellation, which kills the whole process tree.
/// </summary>
internal sealed class ScriptRunnableTask(ScriptFlavor flavor, ProcessScriptRunner runner, ScriptsPluginOptions options) : IRunnableTask
{
    public async Task<TaskOutcome> RunAsync(RunContext context, CancellationToken cancellationToken)
    {
        using var workspace = ScriptWorkspace.Attach(context.WorkingDirectory);
        var extra = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["workingDir"] = workspace.WorkingDirectory,
            ["outputDir"] = workspace.OutputDirectory,
        };
        var props = new Props(context, extra);

        var request = BuildRequest(context, props) with { Workspace = workspace };

        // namespace files first: input files of the same name win, as in Kestra
        if (props.Raw("namespaceFiles") is IReadOnlyDictionary<string, object?> nsFiles && IsEnabled(props, nsFiles))
        {
            await CopyNamespaceFilesAsync(context, props, nsFiles, workspace, cancellationToken).ConfigureAwait(false);
        }

        // input files: text content goes through the request, internal-storage URIs are copied here (binary-safe)
        var textFiles = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in props.InputFiles())
        {
            if (StorageUri.IsInternal(value))
            {
                string path;
                try
                {
                    path = workspace.Resolve(name);
                }
                catch (ArgumentException e)
                {
                    throw new TaskPropertyException(e.Message);
                }

                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                await using var source = await context.OpenFileAsync(value, cancellationToken).ConfigureAwait(false);
                await using var target = File.Create(path);
                await source.CopyToAsync(target, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                textFiles[name] = value;
            }
        }

        request = request.WithInputFiles(textFiles);
        if (props.Map("env") is { Count: > 0 } env)
        {
            request = request.WithEnv(env);
        }

        request = request with
        {
            OutputFiles = [.. props.Strings("outputFiles"), .. flavor == ScriptFlavor.LegacyBash ? props.Strings("outputsFiles") : []],
            WarningOnStdErr = props.Bool("warningOnStdErr", true),
            FailFast = props.Bool(flavor == ScriptFlavor.LegacyBash ? "exitOnFailed" : "failFast", true),
            ContainerImage = props.String("containerImage"),
            TaskRunner = RunnerKind(props),
        };

        if (props.Raw("dependencies") is not null)
        {
            context.Logger.Warn("'dependencies' are not installed by the Process task runner; install them on the host (or in beforeCommands).");
        }

        ScriptResult result;
        using (var flushStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            var flusher = FlushLoopAsync(context, options.LogFlushInterval, flushStop.Token);
            try
            {
                result = await runner.RunAsync(request, entry => context.Logger.Log(Map(entry.Level), entry.Message), cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                await flushStop.CancelAsync().ConfigureAwait(false);
                await flusher.ConfigureAwait(false);
            }
        }

        foreach (var metric in result.Metrics)
        {
            context.Logger.Debug(string.Create(CultureInfo.InvariantCulture, $"Metric {metric.Type} {metric.Name} = {metric.Value}"));
        }

        if (!result.IsSuccess)
        {
            throw new TaskFailedException(result.ErrorMessage ?? $"Command failed with exit code {result.ExitCode}");
        }

        var outputFiles = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (name, path) in result.OutputFiles)
        {
            await using var stream = File.OpenRead(path);
            outputFiles[name] = await context.PutFileAsync(Path.GetFileName(path), stream, cancellationToken).ConfigureAwait(false);
        }

        var vars = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (key, value) in result.Vars)
        {
            vars[key] = ExpressionValues.FromJsonElement(value);
        }

        var outputs = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["exitCode"] = (long)result.ExitCode,
            ["vars"] = vars,
            ["outputFiles"] = outputFiles,
        };
        return result.Outcome == ScriptOutcome.Warning ? TaskOutcome.Warning(outputs) : TaskOutcome.Success(outputs);
    }

    private ScriptRequest BuildRequest(RunContext context, Props props)
    {
        var before = props.Strings("beforeCommands");
        var interpreter = props.Raw("interpreter") is null ? null : props.Strings("interpreter");
        switch (flavor)
        {
            case ScriptFlavor.ShellCommands:
                return ScriptTasks.ShellCommands(props.RequiredStrings("commands"), before, interpreter);
            case ScriptFlavor.LegacyBash:
            {
                var shell = props.String("interpreter") ?? "/bin/bash";
                var args = props.Raw("interpreterArgs") is null ? ["-c"] : props.Strings("interpreterArgs");
                return ScriptTasks.ShellCommands(props.RequiredStrings("commands"), null, [shell, .. args]);
            }

            case ScriptFlavor.ShellScript:
                return FileScript(ScriptTasks.ShellScript(props.RequiredScript(), before), ScriptTasks.ShellScriptFile, "/bin/sh", before, interpreter);
            case ScriptFlavor.PythonScript:
            {
                var python = PythonExecutable();
                return FileScript(ScriptTasks.PythonScript(props.RequiredScript(), before, python), ScriptTasks.PythonScriptFile, python, before, interpreter)
                    .WithEnv(PathWith(python));
            }

            case ScriptFlavor.PythonCommands:
            {
                var request = ScriptTasks.PythonCommands(props.RequiredStrings("commands"), before).WithEnv(PathWith(PythonExecutable()));
                return interpreter is null ? request : request with { Interpreter = interpreter };
            }

            case ScriptFlavor.NodeScript:
            {
                var node = NodeExecutable();
                return FileScript(ScriptTasks.NodeScript(props.RequiredScript(), before, node), ScriptTasks.NodeScriptFile, node, before, interpreter)
                    .WithEnv(PathWith(node));
            }

            case ScriptFlavor.NodeCommands:
            {
                var request = ScriptTasks.NodeCommands(props.RequiredStrings("commands"), before).WithEnv(PathWith(NodeExecutable()));
                return interpreter is null ? request : request with { Interpreter = interpreter };
            }

            default:
                throw new InvalidOperationException($"Unknown script flavor {flavor}");
        }
    }

    /// <summary>A Script variant; an explicit interpreter runs <c>program file</c> as a command line under it.</summary>
    private static ScriptRequest FileScript(ScriptRequest request, string file, string program, IReadOnlyList<string> before, IReadOnlyList<string>? interpreter) =>
        interpreter is null
            ? request
            : request with { Interpreter = interpreter, BeforeCommands = before, Commands = [$"{ScriptTasks.ShellQuote(program)} {file}"] };

    private string PythonExecutable() => options.PythonExecutable ?? Interpreters.ResolvePython();

    private string NodeExecutable() => options.NodeExecutable ?? Interpreters.ResolveNode();

    /// <summary>PATH with the interpreter's directory first, so that commands calling it by name skip any shim.</summary>
    private static Dictionary<string, string> PathWith(string executable)
    {
        var dir = Path.GetDirectoryName(executable);
        var path = Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin";
        return string.IsNullOrEmpty(dir) ? [] : new Dictionary<string, string> { ["PATH"] = dir + Path.PathSeparator + path };
    }

    private static ScriptTaskRunnerKind RunnerKind(Props props)
    {
        if (props.Raw("taskRunner") is IReadOnlyDictionary<string, object?> taskRunner)
        {
            var type = ExpressionValues.ToText(taskRunner.GetValueOrDefault("type"));
            return type.Contains(".docker.", StringComparison.OrdinalIgnoreCase) || type.EndsWith("Docker", StringComparison.Ordinal)
                ? ScriptTaskRunnerKind.Docker
                : ScriptTaskRunnerKind.Process;
        }

        return string.Equals(props.String("runner"), "DOCKER", StringComparison.OrdinalIgnoreCase) ? ScriptTaskRunnerKind.Docker : ScriptTaskRunnerKind.Process;
    }

    /// <summary>
    /// Kestra's <c>namespaceFiles</c>: the files of the flow's namespace (or of <c>namespaces</c>, later ones winning),
    /// kept by <c>include</c> globs (all when absent) less <c>exclude</c> globs, matched on their path relative to the
    /// namespace's files, copied into the working directory at that path (under a folder per namespace with
    /// <c>folderPerNamespace</c>).
    /// </summary>
    private static async Task CopyNamespaceFilesAsync(RunContext context, Props props, IReadOnlyDictionary<string, object?> nsFiles, ScriptWorkspace workspace, CancellationToken cancellationToken)
    {
        IReadOnlyList<string> Strings(string key) => props.Context.RenderValue(nsFiles.GetValueOrDefault(key)) switch
        {
            null => [],
            string text => [text],
            IEnumerable<object?> list => [.. list.Where(v => v is not null).Select(v => ExpressionValues.ToText(v))],
            var other => [ExpressionValues.ToText(other)],
        };

        var include = Strings("include").Select(p => new Glob(p)).ToList();
        var exclude = Strings("exclude").Select(p => new Glob(p)).ToList();
        var namespaces = Strings("namespaces") is { Count: > 0 } listed ? listed : [context.Namespace];
        var perNamespace = ExpressionValues.IsTruthy(props.Context.RenderValue(nsFiles.GetValueOrDefault("folderPerNamespace") ?? false));
        var copied = 0;
        foreach (var ns in namespaces)
        {
            var folder = StorageUri.ForNamespaceFiles(ns);
            IReadOnlyList<string> uris;
            try
            {
                uris = await context.Storage.ListAsync(folder, cancellationToken).ConfigureAwait(false);
            }
            catch (NotSupportedException e)
            {
                throw new TaskFailedException($"namespaceFiles: {e.Message}");
            }

            foreach (var uri in uris)
            {
                var relative = uri[(folder.Length + 1)..];
                if ((include.Count > 0 && !include.Any(g => g.IsMatch(relative))) || exclude.Any(g => g.IsMatch(relative)))
                {
                    continue;
                }

                string path;
                try
                {
                    path = workspace.Resolve(perNamespace ? ns + "/" + relative : relative);
                }
                catch (ArgumentException e)
                {
                    throw new TaskPropertyException($"namespaceFiles: {e.Message}");
                }

                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                await using var source = await context.OpenFileAsync(uri, cancellationToken).ConfigureAwait(false);
                await using var target = File.Create(path);
                await source.CopyToAsync(target, cancellationToken).ConfigureAwait(false);
                copied++;
            }
        }

        context.Logger.Debug($"namespaceFiles: copied {copied} file(s) of {string.Join(", ", namespaces)} into the working directory");
    }

    private static bool IsEnabled(Props props, IReadOnlyDictionary<string, object?> nsFiles)
    {
        var enabled = nsFiles.GetValueOrDefault("enabled");
        return enabled is null || ExpressionValues.IsTruthy(props.Context.RenderValue(enabled));
    }

    private static ExecutorLogLevel Map(ScriptLogLevel level) => level switch
    {
        ScriptLogLevel.Trace => ExecutorLogLevel.Trace,
        ScriptLogLevel.Debug => ExecutorLogLevel.Debug,
        ScriptLogLevel.Info => ExecutorLogLevel.Info,
        ScriptLogLevel.Warn => ExecutorLogLevel.Warn,
        _ => ExecutorLogLevel.Error,
    };

    private static async Task FlushLoopAsync(RunContext context, TimeSpan interval, CancellationToken cancellationToken)
    {
        if (interval <= TimeSpan.Zero)
        {
            return;
        }

        try
        {
            using var timer = new PeriodicTimer(interval, context.TimeProvider);
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                await context.Logger.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // the worker flushes again at the end; a failing log store must not fail the script
        }
    }

    /// <summary>Rendered, typed access to the task's properties with the extra variables of a script run.</summary>
    private sealed class Props(RunContext context, IReadOnlyDictionary<string, object?> extra)
    {
        public RunContext Context => context;

        public object? Raw(string name) => context.RawProperty(name);

        public object? Rendered(string name) => context.HasProperty(name) ? context.RenderValue(context.RawProperty(name), extra) : null;

        public string? String(string name) => Rendered(name) is { } v ? ExpressionValues.ToText(v) : null;

        public bool Bool(string name, bool defaultValue) =>
            Rendered(name) is { } v ? ValueConverter.Convert<bool>(v, name) : defaultValue;

        public string RequiredScript()
        {
            if (context.RawProperty("script") is not string template)
            {
                throw new TaskPropertyException($"Missing required property 'script' on task '{context.Task.Id}'");
            }

            return context.RenderString(template, extra);
        }

        public IReadOnlyList<string> RequiredStrings(string name)
        {
            if (!context.HasProperty(name))
            {
                throw new TaskPropertyException($"Missing required property '{name}' on task '{context.Task.Id}'");
            }

            return Strings(name);
        }

        public IReadOnlyList<string> Strings(string name) => Rendered(name) switch
        {
            null => [],
            IReadOnlyList<object?> list => [.. list.Where(x => x is not null).Select(ExpressionValues.ToText)],
            string s when s.TrimStart().StartsWith('[') => ParseJsonList(s, name),
            var v => [ExpressionValues.ToText(v)],
        };

        public Dictionary<string, string>? Map(string name) => Rendered(name) switch
        {
            null => null,
            IReadOnlyDictionary<string, object?> map => map.Where(kv => kv.Value is not null)
                .ToDictionary(kv => kv.Key, kv => ExpressionValues.ToText(kv.Value), StringComparer.Ordinal),
            string s => ParseJsonMap(s, name),
            _ => throw new TaskPropertyException($"Property '{name}' of task '{context.Task.Id}' must be a map"),
        };

        public IReadOnlyDictionary<string, string> InputFiles() => Map("inputFiles") ?? [];

        private IReadOnlyList<string> ParseJsonList(string json, string name)
        {
            try
            {
                return ExpressionValues.FromJsonElement(JsonDocument.Parse(json).RootElement) is IReadOnlyList<object?> list
                    ? [.. list.Select(ExpressionValues.ToText)]
                    : [json];
            }
            catch (JsonException)
            {
                return [json];
            }
        }

        private Dictionary<string, string> ParseJsonMap(string json, string name)
        {
            try
            {
                if (ExpressionValues.FromJsonElement(JsonDocument.Parse(json).RootElement) is IReadOnlyDictionary<string, object?> map)
                {
                    return map.Where(kv => kv.Value is not null).ToDictionary(kv => kv.Key, kv => ExpressionValues.ToText(kv.Value), StringComparer.Ordinal);
                }
            }
            catch (JsonException)
            {
            }

            throw new TaskPropertyException($"Property '{name}' of task '{context.Task.Id}' must be a map (or a JSON object)");
        }
    }
}

namespace Windhover.Plugins.Scripts;

/// <summary>
/// Builds <see cref="ScriptRequest"/>s for Kestra's script task types. Script variants write the script to a file in
/// the working directory; without <c>beforeCommands</c> the interpreter is executed directly (no shell in between),
/// with them the commands run under <c>/bin/sh -c</c> and the interpreter replaces the shell (<c>exec</c>).
/// Combine the result with <c>with { ... }</c>, <see cref="ScriptRequest.WithInputFiles"/> and <see cref="ScriptRequest.WithEnv"/>.
/// </summary>
public static class ScriptTasks
{
    public const string ShellScriptFile = "_windhover_script.sh";
    public const string PythonScriptFile = "_windhover_script.py";
    public const string NodeScriptFile = "_windhover_script.js";

    private static readonly IReadOnlyDictionary<string, string> PythonEnv = new Dictionary<string, string> { ["PYTHONUNBUFFERED"] = "1" };

    /// <summary><c>io.kestra.plugin.scripts.shell.Commands</c>.</summary>
    public static ScriptRequest ShellCommands(IEnumerable<string> commands, IEnumerable<string>? beforeCommands = null, IReadOnlyList<string>? interpreter = null) =>
        new()
        {
            Interpreter = interpreter ?? ScriptRequest.DefaultInterpreter,
            BeforeCommands = [.. beforeCommands ?? []],
            Commands = [.. commands],
        };

    /// <summary><c>io.kestra.plugin.scripts.shell.Script</c>: the script goes to a file run by <c>sh</c>.</summary>
    public static ScriptRequest ShellScript(string script, IEnumerable<string>? beforeCommands = null, string shell = "/bin/sh") =>
        FileScript(ShellScriptFile, script, shell, beforeCommands);

    /// <summary><c>io.kestra.plugin.scripts.python.Script</c>: the script goes to a <c>.py</c> file run by <paramref name="python"/>.</summary>
    public static ScriptRequest PythonScript(string script, IEnumerable<string>? beforeCommands = null, string python = "python3") =>
        FileScript(PythonScriptFile, script, python, beforeCommands).WithEnv(PythonEnv);

    /// <summary><c>io.kestra.plugin.scripts.python.Commands</c>: shell commands with unbuffered Python output.</summary>
    public static ScriptRequest PythonCommands(IEnumerable<string> commands, IEnumerable<string>? beforeCommands = null) =>
        ShellCommands(commands, beforeCommands).WithEnv(PythonEnv);

    /// <summary><c>io.kestra.plugin.scripts.node.Script</c>: the script goes to a <c>.js</c> file run by <c>node</c>.</summary>
    public static ScriptRequest NodeScript(string script, IEnumerable<string>? beforeCommands = null, string node = "node") =>
        FileScript(NodeScriptFile, script, node, beforeCommands);

    /// <summary><c>io.kestra.plugin.scripts.node.Commands</c>.</summary>
    public static ScriptRequest NodeCommands(IEnumerable<string> commands, IEnumerable<string>? beforeCommands = null) =>
        ShellCommands(commands, beforeCommands);

    private static ScriptRequest FileScript(string fileName, string script, string program, IEnumerable<string>? beforeCommands)
    {
        var before = beforeCommands?.ToList() ?? [];
        var files = new Dictionary<string, string> { [fileName] = script };
        if (before.Count == 0)
        {
            return new ScriptRequest { Interpreter = [], Commands = [program, fileName], InputFiles = files };
        }
        return new ScriptRequest
        {
            Interpreter = ScriptRequest.DefaultInterpreter,
            BeforeCommands = before,
            Commands = [$"exec {ShellQuote(program)} {fileName}"],
            InputFiles = files,
        };
    }

    internal static string ShellQuote(string arg) =>
        arg.Length > 0 && arg.All(c => char.IsLetterOrDigit(c) || c is '/' or '.' or '-' or '_')
            ? arg : "'" + arg.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}

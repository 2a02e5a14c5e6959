using System.CommandLine;
using Windhover.Cli.Hosting;
using Windhover.Flows.Yaml;

namespace Windhover.Cli.Commands;

/// <summary>
/// <c>windhover flow validate &lt;file-or-folder&gt;...</c>: parses and validates flows, prints
/// <c>path:line:column: message</c> per problem and a summary; exit code 1 when any flow is invalid.
/// </summary>
public static class FlowValidateCommand
{
    public static Command Create(TextWriter? output = null, TextWriter? error = null, FlowParser? parser = null)
    {
        var paths = new Argument<string[]>("paths")
        {
            Description = "Flow files or folders (folders are scanned recursively for *.yml and *.yaml).",
            Arity = ArgumentArity.OneOrMore,
        };
        var command = new Command("validate", "Validate flow YAML files.") { paths };
        command.SetAction(parseResult =>
        {
            var o = output ?? Console.Out;
            var e = error ?? Console.Error;
            return Run(parseResult.GetValue(paths) ?? [], parser ?? PluginCatalog.Default.Parser, o, e);
        });
        return command;
    }

    /// <summary>Validates every flow found under <paramref name="paths"/>; returns the exit code.</summary>
    public static int Run(IReadOnlyList<string> paths, FlowParser parser, TextWriter output, TextWriter error)
    {
        var files = new List<string>();
        var missing = 0;
        foreach (var path in paths)
        {
            if (Directory.Exists(path))
            {
                files.AddRange(Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories)
                    .Where(f => f.EndsWith(".yml", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase))
                    .Order(StringComparer.Ordinal));
            }
            else if (File.Exists(path))
            {
                files.Add(path);
            }
            else
            {
                error.WriteLine($"{path}: no such file or directory");
                missing++;
            }
        }

        int flows = 0, invalidFlows = 0, problems = 0;
        foreach (var file in files)
        {
            IReadOnlyList<FlowParseResult> results;
            try
            {
                results = parser.ParseAll(File.ReadAllText(file), file);
            }
            catch (IOException ex)
            {
                error.WriteLine($"{file}: {ex.Message}");
                invalidFlows++;
                continue;
            }

            foreach (var result in results)
            {
                flows++;
                if (result.Problems.IsEmpty)
                {
                    continue;
                }

                invalidFlows++;
                foreach (var problem in result.Problems)
                {
                    problems++;
                    output.WriteLine(problem.ToDisplayString());
                }
            }
        }

        output.WriteLine(invalidFlows == 0 && missing == 0
            ? $"{flows} flow(s) in {files.Count} file(s): all valid."
            : $"{flows} flow(s) in {files.Count} file(s): {invalidFlows} invalid, {problems} problem(s)" + (missing > 0 ? $", {missing} path(s) not found." : "."));
        return invalidFlows == 0 && missing == 0 ? 0 : 1;
    }
}

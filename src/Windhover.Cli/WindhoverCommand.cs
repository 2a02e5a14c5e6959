using System.CommandLine;
using Windhover.Cli.Commands;

namespace Windhover.Cli;

/// <summary>The root <c>windhover</c> command; each sub-command lives in its own file under Commands/.</summary>
public static class WindhoverCommand
{
    public static RootCommand Create(TextWriter? output = null, TextWriter? error = null)
    {
        var root = new RootCommand("Windhover: a Kestra-compatible workflow orchestrator.");
        var flow = new Command("flow", "Work with flow definitions.");
        flow.Subcommands.Add(FlowValidateCommand.Create(output, error));
        flow.Subcommands.Add(FlowRunCommand.Create(output, error));
        root.Subcommands.Add(flow);
        root.Subcommands.Add(ServerCommand.Create(output, error));
        return root;
    }
}

using Windhover.Cli;

return await WindhoverCommand.Create().Parse(args).InvokeAsync();

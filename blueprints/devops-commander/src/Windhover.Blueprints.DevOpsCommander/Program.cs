using Windhover.Blueprints.DevOpsCommander;

var app = DevOpsCommanderApp.Build(args);
await app.RunAsync();

/// <summary>The entry point (<c>dotnet run</c>); <see cref="DevOpsCommanderApp.Build"/> hosts the same service in-process.</summary>
public partial class Program;

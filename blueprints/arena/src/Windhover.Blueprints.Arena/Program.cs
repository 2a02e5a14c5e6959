using Windhover.Blueprints.Arena;

var app = ArenaApp.Build(args, ArenaOptions.FromEnvironment());
await app.RunAsync();

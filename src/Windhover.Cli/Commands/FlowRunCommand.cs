using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Windhover.Cli.Hosting;
using Windhover.Engine.Executions;
using Windhover.Engine.Inputs;
using Windhover.Engine.Runtime;
using Windhover.Engine.Serialization;
using Windhover.Engine.Stores;
using Windhover.Flows.Expressions;
using Windhover.Flows.Model;
using Windhover.Flows.Yaml;
using Windhover.Storage.Sqlite;

namespace Windhover.Cli.Commands;

/// <summary>
/// <c>windhover flow run &lt;flow.yml&gt; [--input k=v]... [--flow-path dir] [--data file.db | --in-memory]</c>: runs the
/// flow in-process to its end and prints its state, the task-run tree with states and durations, and the outputs.
/// Exit code 0 for SUCCESS or WARNING, 1 otherwise (2 for invalid arguments, flows or inputs).
/// With <c>--data</c>, unfinished executions found in the database are resumed too (crash recovery).
/// </summary>
public static class FlowRunCommand
{
    public static Command Create(TextWriter? output = null, TextWriter? error = null)
    {
        var file = new Argument<string>("flow") { Description = "The flow YAML file to run." };
        var inputs = new Option<string[]>("--input", "-i") { Description = "An input as key=value (repeatable). FILE inputs take a local path.", AllowMultipleArgumentsPerToken = false };
        var flowPath = new Option<string?>("--flow-path") { Description = "A folder of flows to deploy first (subflows)." };
        var data = new Option<string?>("--data") { Description = "SQLite database file (created when missing). Default: a temporary database." };
        var inMemory = new Option<bool>("--in-memory") { Description = "Keep everything in memory." };
        var command = new Command("run", "Run a flow locally until it ends.") { file, inputs, flowPath, data, inMemory };
        command.SetAction((parseResult, cancellationToken) => RunAsync(
            parseResult.GetValue(file)!,
            parseResult.GetValue(inputs) ?? [],
            parseResult.GetValue(flowPath),
            parseResult.GetValue(data),
            parseResult.GetValue(inMemory),
            output ?? Console.Out,
            error ?? Console.Error,
            cancellationToken));
        return command;
    }

    public static async Task<int> RunAsync(string file, IReadOnlyList<string> inputArgs, string? flowPath, string? data, bool inMemory,
        TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        if (data is not null && inMemory)
        {
            error.WriteLine("--data and --in-memory cannot be used together");
            return 2;
        }

        if (!File.Exists(file))
        {
            error.WriteLine($"{file}: no such file");
            return 2;
        }

        var parsed = PluginCatalog.Default.Parser.ParseFile(file);
        if (parsed.Count != 1 || !parsed[0].IsValid)
        {
            foreach (var problem in parsed.SelectMany(p => p.Problems))
            {
                error.WriteLine(problem.ToDisplayString());
            }

            if (parsed.Count != 1)
            {
                error.WriteLine($"{file}: expected exactly one flow");
            }

            return 2;
        }

        var flow = parsed[0].Flow!;
        string? temporary = null;
        SqliteDatabase? database = null;
        StoreSet stores;
        if (inMemory)
        {
            stores = InMemoryStores.Create();
        }
        else
        {
            if (data is null)
            {
                temporary = Directory.CreateTempSubdirectory("windhover-run-").FullName;
                data = Path.Combine(temporary, "windhover.db");
            }

            database = SqliteDatabase.Open(data, new SqliteStoreOptions { Parser = PluginCatalog.Default.Parser });
            stores = database.CreateStores();
        }

        var encryptionKey = Environment.GetEnvironmentVariable("WINDHOVER_ENCRYPTION_SECRET_KEY") is { Length: > 0 } configuredKey ? configuredKey : Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        var runtime = new LocalRuntime(stores, new RuntimeOptions
        {
            Secrets = new EnvironmentSecretProvider(),
            Tasks = PluginCatalog.Default.Tasks,
            // SECRET inputs are encrypted at rest: the configured key, else one for this run only.
            EncryptionKey = encryptionKey,
        });
        try
        {
            if (flowPath is not null)
            {
                foreach (var path in Directory.EnumerateFiles(flowPath, "*.y*ml", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                {
                    foreach (var result in PluginCatalog.Default.Parser.ParseFile(path))
                    {
                        if (result.IsValid)
                        {
                            await stores.Flows.SaveAsync(result.Flow!, cancellationToken).ConfigureAwait(false);
                        }
                        else
                        {
                            error.WriteLine($"{path}: skipped invalid flow");
                        }
                    }
                }
            }

            var record = await stores.Flows.SaveAsync(flow, cancellationToken).ConfigureAwait(false);
            await runtime.StartAsync(cancellationToken).ConfigureAwait(false);

            var raw = new Dictionary<string, object?>(StringComparer.Ordinal);
            foreach (var arg in inputArgs)
            {
                var eq = arg.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0)
                {
                    error.WriteLine($"Invalid --input '{arg}': expected key=value");
                    return 2;
                }

                var key = arg[..eq];
                var value = arg[(eq + 1)..];
                var definition = flow.Inputs.FirstOrDefault(i => i.Id == key);
                raw[key] = definition?.Type == InputType.File && File.Exists(value)
                    ? new InputFile(Path.GetFileName(value), () => File.OpenRead(value))
                    : value;
            }

            Execution created;
            try
            {
                created = await runtime.CreateExecutionAsync(new ExecutionRequest
                {
                    Namespace = flow.Namespace,
                    FlowId = flow.Id,
                    Revision = record.Revision,
                    Inputs = raw,
                    Trigger = null,
                }, cancellationToken).ConfigureAwait(false);
            }
            catch (InputValidationException e)
            {
                foreach (var problem in e.Errors)
                {
                    error.WriteLine(problem.Message);
                }

                return 2;
            }

            output.WriteLine($"Execution {created.Id} of {flow.Namespace}.{flow.Id} (revision {record.Revision}) started");
            output.Flush();
            Execution final;
            try
            {
                final = await runtime.WaitForTerminalAsync(created.Id, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                error.WriteLine("Interrupted: killing the execution");
                using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await runtime.KillAsync(created.Id, CancellationToken.None).ConfigureAwait(false);
                final = await runtime.WaitForTerminalAsync(created.Id, grace.Token).ConfigureAwait(false);
            }

            Print(flow, final, output, new SecretEncryption(encryptionKey));
            return final.State.Current is State.Success or State.Warning ? 0 : 1;
        }
        finally
        {
            await runtime.DisposeAsync().ConfigureAwait(false);
            database?.Dispose();
            if (temporary is not null)
            {
                try
                {
                    Directory.Delete(temporary, recursive: true);
                }
                catch (IOException)
                {
                }
            }
        }
    }

    /// <summary>State, task-run tree (indented under parents, with loop values, states and durations) and outputs.</summary>
    public static void Print(Flow flow, Execution execution, TextWriter output, SecretEncryption? encryption = null)
    {
        var secrets = FlowInputs.DecryptSecrets(flow.Inputs, execution.Inputs, encryption).Secrets.ToList();
        output.WriteLine($"Execution {execution.Id} {execution.State.Current.ToKestraName()} in {KestraJson.FormatDuration(execution.State.Duration)}");
        output.WriteLine("Task runs:");
        var children = execution.TaskRunList.ToLookup(t => t.ParentTaskRunId ?? "");
        void Write(TaskRun run, int depth)
        {
            var name = new string(' ', 2 + (depth * 2)) + run.TaskId + (run.Value is null ? "" : $" [{run.Value}]");
            var attempts = run.AttemptCount > 1 ? $"  ({run.AttemptCount} attempts)" : "";
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-40} {run.State.Current.ToKestraName(),-9} {KestraJson.FormatDuration(run.State.Duration)}{attempts}"));
            foreach (var child in children[run.Id])
            {
                Write(child, depth + 1);
            }
        }

        foreach (var root in children[""])
        {
            Write(root, 0);
        }

        if (execution.Outputs is { Count: > 0 } outputs)
        {
            output.WriteLine("Outputs:");
            foreach (var (key, value) in outputs)
            {
                output.WriteLine($"  {key}: {Mask(value is string s ? s : ExpressionValues.ToJson(value), secrets)}");
            }
        }
    }

    private static string Mask(string text, List<string> secrets)
    {
        foreach (var secret in secrets)
        {
            text = text.Replace(secret, "******", StringComparison.Ordinal);
        }

        return text;
    }
}

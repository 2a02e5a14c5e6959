using System.Text;
using Windhover.Engine.Executions;
using Windhover.Engine.Stores;
using Windhover.Plugins.Testing;

namespace Windhover.Plugins.Scripts.Tests;

/// <summary><c>namespaceFiles</c> on script tasks: the namespace's files copied into the working directory.</summary>
public sealed class NamespaceFilesTests : IAsyncLifetime
{
    private FlowHarness _h = null!;

    public async Task InitializeAsync() => _h = await FlowHarness.StartAsync((types, tasks) => ScriptsPlugin.Register(types, tasks));

    public async Task DisposeAsync() => await _h.DisposeAsync();

    private Task PutAsync(string @namespace, string path, string content) =>
        _h.Stores.Files.PutAsync($"{StorageUri.ForNamespaceFiles(@namespace)}/{path}", new MemoryStream(Encoding.UTF8.GetBytes(content)));

    [Fact]
    public async Task Files_of_the_namespace_are_copied_with_include_and_exclude_globs()
    {
        await PutAsync("test.nsfiles", "main.py", "print('main')");
        await PutAsync("test.nsfiles", "lib/helpers.py", "X = 1");
        await PutAsync("test.nsfiles", "lib/notes.txt", "notes");
        await PutAsync("test.nsfiles", "secret.py", "nope");
        await PutAsync("test.other", "other.py", "other namespace");

        var execution = await _h.RunAsync("""
            id: nsfiles
            namespace: test.nsfiles
            tasks:
              - id: list
                type: io.kestra.plugin.scripts.shell.Commands
                namespaceFiles:
                  enabled: true
                  include:
                    - "**.py"
                  exclude:
                    - secret.py
                commands:
                  - echo "::{\"outputs\":{\"files\":\"$(find . -type f | sort | tr '\n' ' ')\",\"helper\":\"$(cat lib/helpers.py)\"}}::"
              - id: off
                type: io.kestra.plugin.scripts.shell.Commands
                namespaceFiles:
                  enabled: false
                commands:
                  - echo "::{\"outputs\":{\"files\":\"$(find . -type f | wc -l | tr -d ' ')\"}}::"
            """);

        Assert.Equal(State.Success, execution.State.Current);
        var vars = Assert.IsAssignableFrom<IReadOnlyDictionary<string, object?>>(FlowHarness.Output(execution, "list", "vars"));
        Assert.Equal("./lib/helpers.py ./main.py ", vars["files"]);
        Assert.Equal("X = 1", vars["helper"]);
        var off = Assert.IsAssignableFrom<IReadOnlyDictionary<string, object?>>(FlowHarness.Output(execution, "off", "vars"));
        Assert.Equal("0", off["files"]);
    }

    [Fact]
    public async Task Other_namespaces_with_a_folder_each_and_input_files_winning()
    {
        await PutAsync("test.a", "data.txt", "from a");
        await PutAsync("test.b", "data.txt", "from b");
        await PutAsync("test.c", "config.txt", "namespace config");

        var execution = await _h.RunAsync("""
            id: nsfiles-many
            namespace: test.c
            tasks:
              - id: per-folder
                type: io.kestra.plugin.scripts.shell.Commands
                namespaceFiles:
                  namespaces: [test.a, test.b]
                  folderPerNamespace: true
                commands:
                  - echo "::{\"outputs\":{\"a\":\"$(cat test.a/data.txt)\",\"b\":\"$(cat test.b/data.txt)\"}}::"
              - id: merged
                type: io.kestra.plugin.scripts.shell.Commands
                namespaceFiles:
                  namespaces: [test.a, test.b, test.c]
                inputFiles:
                  config.txt: input wins
                commands:
                  - echo "::{\"outputs\":{\"data\":\"$(cat data.txt)\",\"config\":\"$(cat config.txt)\"}}::"
            """);

        Assert.Equal(State.Success, execution.State.Current);
        var perFolder = Assert.IsAssignableFrom<IReadOnlyDictionary<string, object?>>(FlowHarness.Output(execution, "per-folder", "vars"));
        Assert.Equal("from a", perFolder["a"]);
        Assert.Equal("from b", perFolder["b"]);
        var merged = Assert.IsAssignableFrom<IReadOnlyDictionary<string, object?>>(FlowHarness.Output(execution, "merged", "vars"));
        Assert.Equal("from b", merged["data"]);
        Assert.Equal("input wins", merged["config"]);
    }

    [Fact]
    public async Task Local_file_storage_lists_a_folder_without_writes_in_progress()
    {
        var root = Path.Combine(Path.GetTempPath(), "windhover-list-" + Guid.NewGuid().ToString("N"));
        try
        {
            var storage = new LocalFileStorage(root);
            var folder = StorageUri.ForNamespaceFiles("company.team");
            await storage.PutAsync(folder + "/b.txt", new MemoryStream([1]));
            await storage.PutAsync(folder + "/sub/a.txt", new MemoryStream([2]));
            var local = storage.LocalPath(folder + "/c.txt") + "." + Guid.NewGuid().ToString("N") + ".tmp";
            await File.WriteAllBytesAsync(local, [3]);

            Assert.Equal([folder + "/b.txt", folder + "/sub/a.txt"], await storage.ListAsync(folder));
            Assert.Empty(await storage.ListAsync(StorageUri.ForNamespaceFiles("company.none")));
        }
        finally
        {
            try { Directory.Delete(root, recursive: true); } catch (IOException) { }
        }
    }
}

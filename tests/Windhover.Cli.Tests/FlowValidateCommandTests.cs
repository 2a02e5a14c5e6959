using Windhover.Cli;

namespace Windhover.Cli.Tests;

public sealed class FlowValidateCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("windhover-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private async Task<(int Exit, string Out, string Err)> Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await WindhoverCommand.Create(output, error).Parse(args).InvokeAsync();
        return (exit, output.ToString().ReplaceLineEndings("\n"), error.ToString());
    }

    [Fact]
    public async Task Valid_folder_exits_zero_with_summary()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "nested"));
        File.WriteAllText(Path.Combine(_dir, "a.yml"), "id: a\nnamespace: company.team\ntasks:\n  - id: hello\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n");
        File.WriteAllText(Path.Combine(_dir, "nested", "b.yaml"), "id: b\nnamespace: company.team\ntasks:\n  - id: r\n    type: io.kestra.plugin.core.debug.Return\n    format: x\n");
        File.WriteAllText(Path.Combine(_dir, "notes.txt"), "not a flow");

        var (exit, output, _) = await Run("flow", "validate", _dir);

        Assert.Equal(0, exit);
        Assert.Contains("2 flow(s) in 2 file(s): all valid.", output);
    }

    [Fact]
    public async Task Invalid_flow_prints_path_line_column_message_and_exits_one()
    {
        var file = Path.Combine(_dir, "bad.yaml");
        File.WriteAllText(file, "id: bad\nnamespace: company.team\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.debug.Retrun\n");
        File.WriteAllText(Path.Combine(_dir, "good.yaml"), "id: good\nnamespace: company.team\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.debug.Return\n");

        var (exit, output, _) = await Run("flow", "validate", _dir);

        Assert.Equal(1, exit);
        Assert.Contains($"{file}:5:11: Invalid type: io.kestra.plugin.core.debug.Retrun (did you mean io.kestra.plugin.core.debug.Return?)", output);
        Assert.Contains("2 flow(s) in 2 file(s): 1 invalid, 1 problem(s).", output);
    }

    [Fact]
    public async Task Missing_path_exits_one()
    {
        var (exit, _, err) = await Run("flow", "validate", Path.Combine(_dir, "nope.yaml"));
        Assert.Equal(1, exit);
        Assert.Contains("no such file or directory", err);
    }

    [Fact]
    public async Task Multi_document_file_validates_each_flow()
    {
        var file = Path.Combine(_dir, "multi.yaml");
        File.WriteAllText(file, "id: one\nnamespace: ns\ntasks:\n  - id: a\n    type: io.kestra.plugin.core.debug.Return\n---\nid: two\nnamespace: ns\ntasks: []\n");

        var (exit, output, _) = await Run("flow", "validate", file);

        Assert.Equal(1, exit);
        Assert.Contains($"{file}:9:8: must not be empty", output);
        Assert.Contains("2 flow(s) in 1 file(s): 1 invalid", output);
    }
}

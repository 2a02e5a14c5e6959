namespace Windhover.Plugins.Scripts.Tests;

public sealed class GlobAndProtocolTests
{
    [Theory]
    [InlineData("*.txt", "a.txt", true)]
    [InlineData("*.txt", "dir/a.txt", false)]
    [InlineData("**/*.txt", "a.txt", true)]
    [InlineData("**/*.txt", "x/y/a.txt", true)]
    [InlineData("**.csv", "x/y/a.csv", true)]
    [InlineData("data/?.json", "data/1.json", true)]
    [InlineData("data/?.json", "data/12.json", false)]
    [InlineData("*.{csv,parquet}", "a.parquet", true)]
    [InlineData("[ab].txt", "b.txt", true)]
    [InlineData("[!ab].txt", "b.txt", false)]
    [InlineData("out.txt", "out.txt", true)]
    [InlineData("./out.txt", "out.txt", true)]
    public void Glob_matches(string pattern, string path, bool expected) =>
        Assert.Equal(expected, new Glob(pattern).IsMatch(path));

    [Theory]
    [InlineData("::{\"outputs\":{\"a\":1}}::", true)]
    [InlineData("  ::{\"outputs\":{\"a\":1}}::  ", true)]
    [InlineData("::{not json}::", false)]
    [InlineData("prefix ::{\"outputs\":{}}::", false)]
    [InlineData("::[1,2]::", false)]
    public void Protocol_lines_are_recognised(string line, bool expected) =>
        Assert.Equal(expected, OutputProtocol.TryParse(line) is not null);

    [Fact]
    public void Arguments_join_commands_with_newlines_after_the_interpreter()
    {
        var ws = new ProcessScriptRunner(new ProcessScriptRunnerOptions { TempRoot = Path.Combine(Path.GetTempPath(), "windhover-scripts-tests") }).CreateWorkspace();
        try
        {
            var argv = ProcessScriptRunner.BuildArguments(ScriptTasks.ShellCommands(["echo b", "echo {{outputDir}}"], ["echo a"]), ws);
            Assert.Equal(["/bin/sh", "-c", $"set -e\necho a\necho b\necho {ws.OutputDirectory}"], argv);

            var direct = ProcessScriptRunner.BuildArguments(ScriptTasks.PythonScript("print(1)"), ws);
            Assert.Equal(["python3", ScriptTasks.PythonScriptFile], direct);

            var custom = ProcessScriptRunner.BuildArguments(ScriptTasks.ShellCommands(["print(1)"], interpreter: ["python3", "-c"]), ws);
            Assert.Equal(["python3", "-c", "print(1)"], custom);
        }
        finally
        {
            ws.Dispose();
        }
    }
}

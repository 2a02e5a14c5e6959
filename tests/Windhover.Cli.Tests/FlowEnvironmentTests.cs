using System.Collections;
using Windhover.Cli.Hosting;

namespace Windhover.Cli.Tests;

public sealed class FlowEnvironmentTests
{
    [Fact]
    public void ENV_variables_become_lower_cased_envs_without_the_prefix_and_others_are_ignored()
    {
        var envs = FlowEnvironment.From(new Hashtable
        {
            ["ENV_COMMANDER_URL"] = "http://localhost:3000",
            ["ENV_Mixed_Case"] = "x",
            ["ENV_"] = "no name",
            ["PATH"] = "/usr/bin",
            ["MY_ENV_THING"] = "not a prefix",
        });

        Assert.Equal(2, envs.Count);
        Assert.Equal("http://localhost:3000", envs["commander_url"]);
        Assert.Equal("x", envs["mixed_case"]);
    }

    [Fact]
    public void Overrides_win_over_the_process_environment()
    {
        Environment.SetEnvironmentVariable("ENV_WINDHOVER_TEST_OVERRIDE", "process");
        try
        {
            var envs = FlowEnvironment.WithProcess(new Dictionary<string, object?> { ["windhover_test_override"] = "launcher" });
            Assert.Equal("launcher", envs["windhover_test_override"]);
            Assert.Equal("process", FlowEnvironment.FromProcess()["windhover_test_override"]);
        }
        finally
        {
            Environment.SetEnvironmentVariable("ENV_WINDHOVER_TEST_OVERRIDE", null);
        }
    }
}

using Windhover.Engine.Inputs;
using Windhover.Flows.Model;

namespace Windhover.Engine.Tests.Inputs;

public sealed class FlowInputsTests
{
    [Fact]
    public async Task A_required_string_with_an_empty_default_takes_the_empty_string()
    {
        InputDefinition[] inputs = [new() { Id = "empty", Type = InputType.String, Required = true, Defaults = "", HasDefaults = true }];

        var values = await FlowInputs.ReadAsync(inputs, new Dictionary<string, object?>(), "company.team", "flow", "exec");

        Assert.Equal("", values["empty"]);
    }

    [Fact]
    public async Task A_required_string_without_value_or_default_is_missing()
    {
        InputDefinition[] inputs = [new() { Id = "name", Type = InputType.String, Required = true }];

        var error = await Assert.ThrowsAsync<InputValidationException>(() =>
            FlowInputs.ReadAsync(inputs, new Dictionary<string, object?> { ["name"] = "" }, "company.team", "flow", "exec"));

        Assert.Contains("Invalid input for `name`, missing required input, but received `null`", error.Message, StringComparison.Ordinal);
    }
}

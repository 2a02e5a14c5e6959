using System.Text.Json;

namespace Windhover.Plugins.Ai.Tests;

public sealed class JsonSchemaValidatorTests
{
    private static IReadOnlyList<string> Validate(string instance, string schema)
    {
        using var i = JsonDocument.Parse(instance);
        using var s = JsonDocument.Parse(schema);
        return JsonSchemaValidator.Validate(i.RootElement, s.RootElement);
    }

    [Theory]
    [InlineData("1", """{"type":"integer"}""")]
    [InlineData("1.0", """{"type":"integer"}""")]
    [InlineData("1.5", """{"type":"number","minimum":1,"maximum":2}""")]
    [InlineData("null", """{"type":["string","null"]}""")]
    [InlineData("\"b\"", """{"enum":["a","b"]}""")]
    [InlineData("[1,2]", """{"type":"array","items":{"type":"integer"},"minItems":1,"maxItems":2}""")]
    [InlineData("""{"a":{"b":true}}""", """{"type":"object","properties":{"a":{"type":"object","properties":{"b":{"type":"boolean"}},"required":["b"]}}}""")]
    [InlineData("\"abc\"", """{"type":"string","minLength":3,"maxLength":3}""")]
    [InlineData("{}", "{}")]
    public void Valid_instances_pass(string instance, string schema) => Assert.Empty(Validate(instance, schema));

    [Theory]
    [InlineData("1.5", """{"type":"integer"}""", "$: expected integer, got number 1.5")]
    [InlineData("0", """{"minimum":1}""", "$: 0 is less than the minimum 1")]
    [InlineData("9", """{"maximum":5}""", "$: 9 is greater than the maximum 5")]
    [InlineData("\"c\"", """{"enum":["a","b"]}""", "$: \"c\" is not one of [\"a\",\"b\"]")]
    [InlineData("""{"a":{}}""", """{"properties":{"a":{"required":["b"]}}}""", "$.a.b: required property is missing")]
    [InlineData("""{"x":1}""", """{"additionalProperties":false}""", "$.x: property is not allowed (additionalProperties is false)")]
    [InlineData("""[{"n":1},{"n":"2"}]""", """{"items":{"properties":{"n":{"type":"integer"}}}}""", "$[1].n: expected integer, got string \"2\"")]
    [InlineData("[]", """{"minItems":1}""", "$: 0 items, fewer than minItems 1")]
    [InlineData("\"\"", """{"minLength":1}""", "$: string is shorter than minLength 1")]
    [InlineData("""{"odd key":1}""", """{"properties":{"odd key":{"type":"string"}}}""", "$[\"odd key\"]: expected string, got number 1")]
    public void Violations_name_the_path(string instance, string schema, string expected) =>
        Assert.Contains(expected, Validate(instance, schema));
}

using System.Globalization;
using System.Text.Json;

namespace Windhover.Plugins.Ai;

/// <summary>
/// A small JSON Schema validator for checking model answers. Supports <c>type</c> (string or list; <c>integer</c>,
/// <c>number</c>, <c>string</c>, <c>boolean</c>, <c>object</c>, <c>array</c>, <c>null</c>), <c>required</c>,
/// <c>properties</c>, <c>additionalProperties: false</c>, <c>enum</c>, <c>const</c>, <c>items</c>,
/// <c>minimum</c>/<c>maximum</c>, <c>exclusiveMinimum</c>/<c>exclusiveMaximum</c> (numbers),
/// <c>minLength</c>/<c>maxLength</c>, <c>minItems</c>/<c>maxItems</c>, <c>anyOf</c>. Other keywords are ignored.
/// </summary>
public static class JsonSchemaValidator
{
    /// <summary>Every violation as "<c>$.path: what is wrong</c>"; empty when <paramref name="instance"/> matches.</summary>
    public static IReadOnlyList<string> Validate(JsonElement instance, JsonElement schema)
    {
        var errors = new List<string>();
        Check(instance, schema, "$", errors);
        return errors;
    }

    private static void Check(JsonElement value, JsonElement schema, string path, List<string> errors)
    {
        if (schema.ValueKind == JsonValueKind.False)
        {
            errors.Add($"{path}: no value is allowed here");
            return;
        }
        if (schema.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        if (schema.TryGetProperty("type", out var type))
        {
            var allowed = type.ValueKind == JsonValueKind.Array
                ? type.EnumerateArray().Where(t => t.ValueKind == JsonValueKind.String).Select(t => t.GetString()!).ToList()
                : type.ValueKind == JsonValueKind.String ? [type.GetString()!] : [];
            if (allowed.Count > 0 && !allowed.Any(t => HasType(value, t)))
            {
                errors.Add($"{path}: expected {string.Join(" or ", allowed)}, got {Describe(value)}");
                return; // the other keywords would only repeat the mismatch
            }
        }

        if (schema.TryGetProperty("enum", out var enumValues) && enumValues.ValueKind == JsonValueKind.Array
            && !enumValues.EnumerateArray().Any(e => JsonElement.DeepEquals(e, value)))
        {
            errors.Add($"{path}: {Short(value)} is not one of {enumValues.GetRawText()}");
        }
        if (schema.TryGetProperty("const", out var constValue) && !JsonElement.DeepEquals(constValue, value))
        {
            errors.Add($"{path}: expected {constValue.GetRawText()}, got {Short(value)}");
        }

        if (schema.TryGetProperty("anyOf", out var anyOf) && anyOf.ValueKind == JsonValueKind.Array
            && !anyOf.EnumerateArray().Any(s => Validate(value, s).Count == 0))
        {
            errors.Add($"{path}: matches none of the anyOf schemas");
        }

        switch (value.ValueKind)
        {
            case JsonValueKind.Number:
                var number = value.GetDouble();
                if (Number(schema, "minimum") is { } min && number < min)
                {
                    errors.Add($"{path}: {Short(value)} is less than the minimum {Format(min)}");
                }
                if (Number(schema, "maximum") is { } max && number > max)
                {
                    errors.Add($"{path}: {Short(value)} is greater than the maximum {Format(max)}");
                }
                if (Number(schema, "exclusiveMinimum") is { } xmin && number <= xmin)
                {
                    errors.Add($"{path}: {Short(value)} must be greater than {Format(xmin)}");
                }
                if (Number(schema, "exclusiveMaximum") is { } xmax && number >= xmax)
                {
                    errors.Add($"{path}: {Short(value)} must be less than {Format(xmax)}");
                }
                break;
            case JsonValueKind.String:
                var length = new StringInfo(value.GetString()!).LengthInTextElements;
                if (Number(schema, "minLength") is { } minLength && length < minLength)
                {
                    errors.Add($"{path}: string is shorter than minLength {Format(minLength)}");
                }
                if (Number(schema, "maxLength") is { } maxLength && length > maxLength)
                {
                    errors.Add($"{path}: string is longer than maxLength {Format(maxLength)}");
                }
                break;
            case JsonValueKind.Array:
                var count = value.GetArrayLength();
                if (Number(schema, "minItems") is { } minItems && count < minItems)
                {
                    errors.Add($"{path}: {count} items, fewer than minItems {Format(minItems)}");
                }
                if (Number(schema, "maxItems") is { } maxItems && count > maxItems)
                {
                    errors.Add($"{path}: {count} items, more than maxItems {Format(maxItems)}");
                }
                if (schema.TryGetProperty("items", out var items) && items.ValueKind is JsonValueKind.Object or JsonValueKind.False)
                {
                    var i = 0;
                    foreach (var item in value.EnumerateArray())
                    {
                        Check(item, items, $"{path}[{i++}]", errors);
                    }
                }
                break;
            case JsonValueKind.Object:
                if (schema.TryGetProperty("required", out var required) && required.ValueKind == JsonValueKind.Array)
                {
                    foreach (var name in required.EnumerateArray().Where(r => r.ValueKind == JsonValueKind.String).Select(r => r.GetString()!))
                    {
                        if (!value.TryGetProperty(name, out _))
                        {
                            errors.Add($"{PropertyPath(path, name)}: required property is missing");
                        }
                    }
                }
                var hasProperties = schema.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object;
                var closed = schema.TryGetProperty("additionalProperties", out var additional) && additional.ValueKind == JsonValueKind.False;
                foreach (var property in value.EnumerateObject())
                {
                    if (hasProperties && properties.TryGetProperty(property.Name, out var propertySchema))
                    {
                        Check(property.Value, propertySchema, PropertyPath(path, property.Name), errors);
                    }
                    else if (closed)
                    {
                        errors.Add($"{PropertyPath(path, property.Name)}: property is not allowed (additionalProperties is false)");
                    }
                    else if (additional.ValueKind == JsonValueKind.Object)
                    {
                        Check(property.Value, additional, PropertyPath(path, property.Name), errors);
                    }
                }
                break;
        }
    }

    private static bool HasType(JsonElement value, string type) => type switch
    {
        "object" => value.ValueKind == JsonValueKind.Object,
        "array" => value.ValueKind == JsonValueKind.Array,
        "string" => value.ValueKind == JsonValueKind.String,
        "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "null" => value.ValueKind == JsonValueKind.Null,
        "number" => value.ValueKind == JsonValueKind.Number,
        "integer" => value.ValueKind == JsonValueKind.Number && (value.TryGetInt64(out _) || IsWhole(value.GetDouble())),
        _ => true,
    };

    private static bool IsWhole(double d) => !double.IsInfinity(d) && Math.Floor(d) == d;

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => $"string {Short(value)}",
        JsonValueKind.Number => $"number {Short(value)}",
        JsonValueKind.True or JsonValueKind.False => $"boolean {Short(value)}",
        JsonValueKind.Null => "null",
        _ => value.ValueKind.ToString(),
    };

    private static string Short(JsonElement value)
    {
        var raw = value.GetRawText();
        return raw.Length <= 60 ? raw : raw[..57] + "...";
    }

    private static double? Number(JsonElement schema, string keyword) =>
        schema.TryGetProperty(keyword, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    private static string Format(double d) => d.ToString(CultureInfo.InvariantCulture);

    private static string PropertyPath(string path, string name) =>
        name.Length > 0 && name.All(c => char.IsLetterOrDigit(c) || c == '_') ? $"{path}.{name}" : $"{path}[{JsonSerializer.Serialize(name)}]";
}

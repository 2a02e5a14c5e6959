using System.Collections.Frozen;
using System.Collections.Immutable;
using Windhover.Flows.Model;

namespace Windhover.Flows.Yaml;

internal sealed partial class FlowReader
{
    private static readonly FrozenDictionary<string, InputType> InputTypes = new Dictionary<string, InputType>(StringComparer.Ordinal)
    {
        ["STRING"] = InputType.String,
        ["INT"] = InputType.Int,
        ["FLOAT"] = InputType.Float,
        ["BOOLEAN"] = InputType.Boolean,
        ["BOOL"] = InputType.Bool,
        ["SELECT"] = InputType.Select,
        ["MULTISELECT"] = InputType.Multiselect,
        ["ENUM"] = InputType.Enum,
        ["DATETIME"] = InputType.DateTime,
        ["DATE"] = InputType.Date,
        ["TIME"] = InputType.Time,
        ["DURATION"] = InputType.Duration,
        ["FILE"] = InputType.File,
        ["JSON"] = InputType.Json,
        ["URI"] = InputType.Uri,
        ["SECRET"] = InputType.Secret,
        ["ARRAY"] = InputType.Array,
        ["YAML"] = InputType.Yaml,
        ["EMAIL"] = InputType.Email,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private static readonly string[] InputCommon = ["id", "name", "type", "description", "displayName", "required", "defaults", "dependsOn"];

    private static readonly FrozenDictionary<InputType, (string ClassName, string[] Known)> InputClasses = new Dictionary<InputType, (string, string[])>
    {
        [InputType.String] = ("StringInput", [.. InputCommon, "validator"]),
        [InputType.Int] = ("IntInput", [.. InputCommon, "min", "max"]),
        [InputType.Float] = ("FloatInput", [.. InputCommon, "min", "max"]),
        [InputType.Boolean] = ("BooleanInput", InputCommon),
        [InputType.Bool] = ("BoolInput", InputCommon),
        [InputType.Select] = ("SelectInput", [.. InputCommon, "values", "expression", "allowCustomValue", "autoSelectFirst", "isRadio"]),
        [InputType.Multiselect] = ("MultiselectInput", [.. InputCommon, "values", "options", "expression", "allowCustomValue", "autoSelectFirst"]),
        [InputType.Enum] = ("EnumInput", [.. InputCommon, "values"]),
        [InputType.DateTime] = ("DateTimeInput", [.. InputCommon, "after", "before"]),
        [InputType.Date] = ("DateInput", [.. InputCommon, "after", "before"]),
        [InputType.Time] = ("TimeInput", [.. InputCommon, "after", "before"]),
        [InputType.Duration] = ("DurationInput", [.. InputCommon, "min", "max"]),
        [InputType.File] = ("FileInput", [.. InputCommon, "extension"]),
        [InputType.Json] = ("JsonInput", InputCommon),
        [InputType.Uri] = ("URIInput", InputCommon),
        [InputType.Secret] = ("SecretInput", [.. InputCommon, "validator"]),
        [InputType.Array] = ("ArrayInput", [.. InputCommon, "itemType"]),
        [InputType.Yaml] = ("YamlInput", InputCommon),
        [InputType.Email] = ("EmailInput", InputCommon),
    }.ToFrozenDictionary();

    internal static bool TryInputType(string? text, out InputType type)
    {
        type = default;
        return text is not null && InputTypes.TryGetValue(text, out type);
    }

    private InputDefinition? ReadInput(YNode node, string path)
    {
        if (ExpectMap(node, path, "input") is not { } map)
        {
            return null;
        }

        var typeNode = map.Get("type");
        var typeText = typeNode is null ? null : ReadString(typeNode, Join(path, "type"));
        var typeKnown = TryInputType(typeText, out var type);
        if (!typeKnown)
        {
            Error($"Invalid type: {typeText ?? "null"}", typeNode?.Position ?? map.Position, Join(path, "type"));
        }

        string? id = null, description = null, displayName = null, validator = null;
        bool required = true, hasDefaults = false, allowCustomValue = false;
        object? defaults = null, min = null, max = null, after = null, before = null;
        ImmutableArray<string> values = [];
        InputType? itemType = null;
        var properties = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        var positions = new Dictionary<string, SourcePosition>(StringComparer.Ordinal);
        var (className, known) = typeKnown ? InputClasses[type] : ("Input", InputCommon);

        foreach (var (key, value) in map.Entries)
        {
            var k = key.Text;
            var p = Join(path, k);
            positions[k] = value.Position;
            if (typeKnown && Array.IndexOf(known, k) < 0)
            {
                Error(Unrecognized(k, "io.kestra.core.models.flows.input." + className, known), key.Position, p);
                continue;
            }

            properties[k] = ToValue(value);
            switch (k)
            {
                case "id" or "name": id ??= ReadString(value, p); break;
                case "type": break;
                case "description": description = ReadString(value, p); break;
                case "displayName": displayName = ReadString(value, p); break;
                case "required": required = ReadBool(value, p) ?? true; break;
                case "defaults": hasDefaults = true; defaults = properties[k]; break;
                case "validator": validator = ReadString(value, p); break;
                case "min": min = properties[k]; break;
                case "max": max = properties[k]; break;
                case "after": after = properties[k]; break;
                case "before": before = properties[k]; break;
                case "allowCustomValue" or "autoSelectFirst" or "isRadio":
                    var b = ReadBool(value, p) ?? false;
                    if (k == "allowCustomValue")
                    {
                        allowCustomValue = b;
                    }

                    break;
                case "values" or "options":
                    if (value is YSeq seq)
                    {
                        var vb = ImmutableArray.CreateBuilder<string>(seq.Items.Count);
                        for (int i = 0; i < seq.Items.Count; i++)
                        {
                            if (ReadString(seq.Items[i], $"{p}[{i}]") is { } s)
                            {
                                vb.Add(s);
                            }
                        }

                        if (values.IsEmpty)
                        {
                            values = vb.DrainToImmutable();
                        }
                    }
                    else if (!(value is YScalar sv && (ScalarResolver.Resolve(sv) is null || IsExpression(sv.Text))))
                    {
                        Error($"Invalid value for '{k}': expected a list, got {Describe(value)}", value.Position, p);
                    }

                    break;
                case "itemType":
                    var itemText = ReadString(value, p);
                    if (TryInputType(itemText, out var it))
                    {
                        itemType = it;
                    }
                    else if (itemText is not null)
                    {
                        Error($"Invalid type: {itemText}", value.Position, p);
                    }

                    break;
                case "dependsOn":
                    if (ExpectMap(value, p, "dependsOn") is { } dm)
                    {
                        foreach (var (dk, _) in dm.Entries)
                        {
                            if (dk.Text is not ("inputs" or "condition"))
                            {
                                Error(Unrecognized(dk.Text, "io.kestra.core.models.flows.input.DependsOn", ["inputs", "condition"]), dk.Position, Join(p, dk.Text));
                            }
                        }
                    }

                    break;
                case "expression": ReadString(value, p); break;
                case "extension": ReadString(value, p); break;
            }
        }

        if (id is null)
        {
            Error("Missing required property 'id'", map.Position, Join(path, "id"));
        }

        return new InputDefinition
        {
            Id = id ?? "",
            Type = type,
            Description = description,
            DisplayName = displayName,
            Required = required,
            Defaults = defaults,
            HasDefaults = hasDefaults,
            Validator = validator,
            Min = min,
            Max = max,
            After = after,
            Before = before,
            Values = values,
            AllowCustomValue = allowCustomValue,
            ItemType = itemType,
            Properties = properties,
            Position = map.Position,
            PropertyPositions = positions,
        };
    }

    private static readonly string[] OutputProperties = ["id", "type", "value", "description", "displayName", "required"];

    private OutputDefinition? ReadOutput(YNode node, string path)
    {
        if (ExpectMap(node, path, "output") is not { } map)
        {
            return null;
        }

        string? id = null, description = null;
        InputType type = default;
        object? value = null;
        bool required = true;
        foreach (var (k, v) in map.Entries)
        {
            var p = Join(path, k.Text);
            switch (k.Text)
            {
                case "id": id = ReadString(v, p); break;
                case "type":
                    var t = ReadString(v, p);
                    if (!TryInputType(t, out type))
                    {
                        Error($"Invalid type: {t ?? "null"}", v.Position, p);
                    }

                    break;
                case "value": value = ToValue(v); break;
                case "description": description = ReadString(v, p); break;
                case "displayName": ReadString(v, p); break;
                case "required": required = ReadBool(v, p) ?? true; break;
                default: Error(Unrecognized(k.Text, "io.kestra.core.models.flows.Output", OutputProperties), k.Position, p); break;
            }
        }

        if (id is null)
        {
            Error("Missing required property 'id'", map.Position, Join(path, "id"));
        }

        if (map.Get("type") is null)
        {
            Error("Invalid type: null", map.Position, Join(path, "type"));
        }

        if (map.Get("value") is null)
        {
            Error("Missing required property 'value'", map.Position, Join(path, "value"));
        }

        return new OutputDefinition { Id = id ?? "", Type = type, Value = value, Description = description, Required = required, Position = map.Position };
    }
}

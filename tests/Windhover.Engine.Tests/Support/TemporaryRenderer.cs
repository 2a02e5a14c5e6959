using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Windhover.Engine.Expressions;
using Windhover.Engine.Serialization;

namespace Windhover.Engine.Tests.Support;

/// <summary>
/// TEMPORARY test-only renderer until Windhover.Flows.Expressions lands on main: dotted and bracketed variable paths
/// (<c>{{ inputs.x }}</c>, <c>{{ outputs['a'].s1[taskrun.value].value }}</c>), strict undefined variables.
/// </summary>
internal sealed partial class TemporaryRenderer : IRenderer
{
    [GeneratedRegex(@"\{\{(.*?)\}\}", RegexOptions.Singleline)]
    private static partial Regex Expression();

    public string Render(string template, IReadOnlyDictionary<string, object?> variables) =>
        Expression().Replace(template, m => Stringify(Evaluate(m.Groups[1].Value, variables)));

    public object? RenderTyped(string template, IReadOnlyDictionary<string, object?> variables)
    {
        var match = Expression().Match(template);
        return match.Success && match.Index == 0 && match.Length == template.Length
            ? Evaluate(match.Groups[1].Value, variables)
            : Render(template, variables);
    }

    public object? RenderObject(object? value, IReadOnlyDictionary<string, object?> variables) => value switch
    {
        string s => RenderTyped(s, variables),
        IReadOnlyDictionary<string, object?> map => map.ToDictionary(kv => kv.Key, kv => RenderObject(kv.Value, variables)),
        IEnumerable<object?> list => list.Select(item => RenderObject(item, variables)).ToList(),
        _ => value,
    };

    public object? Evaluate(string expression, IReadOnlyDictionary<string, object?> variables)
    {
        var text = expression.Trim();
        var position = 0;
        var result = ParsePath(text, ref position, variables);
        if (position != text.Length)
        {
            throw new InvalidOperationException($"Unsupported expression `{text}` (temporary renderer)");
        }

        return result;
    }

    private static object? ParsePath(string text, ref int position, IReadOnlyDictionary<string, object?> variables)
    {
        var root = Identifier(text, ref position);
        if (root is "true" or "false")
        {
            return root == "true";
        }

        if (!variables.TryGetValue(root, out var current))
        {
            throw new InvalidOperationException($"Unable to find `{root}` used in the expression `{{{{{text}}}}}`");
        }

        while (position < text.Length)
        {
            string key;
            if (text[position] == '.')
            {
                position++;
                key = Identifier(text, ref position);
            }
            else if (text[position] == '[')
            {
                position++;
                if (text[position] is '\'' or '"')
                {
                    var quote = text[position];
                    var end = text.IndexOf(quote, position + 1);
                    key = text[(position + 1)..end];
                    position = end + 1;
                }
                else if (char.IsDigit(text[position]))
                {
                    var start = position;
                    while (char.IsDigit(text[position]))
                    {
                        position++;
                    }

                    key = text[start..position];
                }
                else
                {
                    key = Stringify(ParsePath(text, ref position, variables));
                }

                if (text[position] != ']')
                {
                    throw new InvalidOperationException($"Expected ] in `{text}`");
                }

                position++;
            }
            else
            {
                break;
            }

            current = current switch
            {
                IReadOnlyDictionary<string, object?> map when map.TryGetValue(key, out var next) => next,
                IReadOnlyList<object?> list when int.TryParse(key, CultureInfo.InvariantCulture, out var index) && index < list.Count => list[index],
                _ => throw new InvalidOperationException($"Unable to find `{key}` used in the expression `{{{{{text}}}}}`"),
            };
        }

        return current;
    }

    private static string Identifier(string text, ref int position)
    {
        while (position < text.Length && text[position] == ' ')
        {
            position++;
        }

        var start = position;
        while (position < text.Length && (char.IsLetterOrDigit(text[position]) || text[position] is '_' or '-'))
        {
            position++;
        }

        var identifier = text[start..position];
        while (position < text.Length && text[position] == ' ')
        {
            position++;
        }

        return identifier.Length == 0 ? throw new InvalidOperationException($"Unsupported expression `{text}` (temporary renderer)") : identifier;
    }

    public static string Stringify(object? value) => value switch
    {
        null => "",
        string s => s,
        bool b => b ? "true" : "false",
        DateTimeOffset d => KestraJson.FormatDate(d),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => Json(value),
    };

    private static string Json(object? value)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            ValueModelConverter.WriteValue(writer, value);
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }
}

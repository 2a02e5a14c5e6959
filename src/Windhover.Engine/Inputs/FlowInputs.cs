using System.Globalization;
using System.Text.RegularExpressions;
using Windhover.Engine.Serialization;
using Windhover.Engine.Stores;
using Windhover.Flows.Expressions;
using Windhover.Flows.Model;

namespace Windhover.Engine.Inputs;

/// <summary>A file given for a FILE input (an upload, a CLI path...). <see cref="Open"/> is called once.</summary>
public sealed record InputFile(string FileName, Func<Stream> Open);

/// <summary>One invalid input, with Kestra's message (<c>Invalid input for `id`, ..., but received `value`</c>).</summary>
public sealed record InputError(string InputId, string Message);

/// <summary>Inputs failed validation; the server maps this to 422. The message lists every problem as Kestra does (<c>id: message</c>).</summary>
public sealed class InputValidationException(IReadOnlyList<InputError> errors)
    : Exception(string.Join(", ", errors.Select(e => $"{e.InputId}: {e.Message}")))
{
    public IReadOnlyList<InputError> Errors { get; } = errors;
}

/// <summary>What input reading needs: storage for FILE inputs and the expression engine for defaults written as expressions.</summary>
public sealed record InputContext
{
    public IFileStorage? Files { get; init; }
    public ExpressionEngine? Expressions { get; init; }
    /// <summary>Variables for rendering defaults (flow, execution...); <c>inputs</c> is added as inputs are read.</summary>
    public IReadOnlyDictionary<string, object?>? Variables { get; init; }
    /// <summary>Encrypts SECRET inputs (Kestra's <c>kestra.encryption.secret-key</c>); without it a SECRET input is refused.</summary>
    public SecretEncryption? Encryption { get; init; }
    /// <summary>A missing required input is null instead of an error (Flow trigger executions: Kestra does not validate their inputs).</summary>
    public bool MissingRequiredAllowed { get; init; }
}

/// <summary>
/// Kestra's FlowInputOutput.readExecutionInputs: converts raw values (strings from forms and the CLI, JSON values, or
/// <see cref="InputFile"/>) to typed values in the expression value model, applies defaults, checks required inputs and
/// constraints, stores FILE inputs under <c>kestra:///</c> URIs and nests dotted ids (<c>a.b</c> → <c>inputs.a.b</c>).
/// Every error is collected before throwing <see cref="InputValidationException"/>.
/// </summary>
public static class FlowInputs
{
    /// <summary>Types whose values are masked wherever they would be printed.</summary>
    public static bool IsSecret(InputDefinition input) => input.Type == InputType.Secret;

    public static async Task<IReadOnlyDictionary<string, object?>> ReadAsync(
        IReadOnlyList<InputDefinition> definitions,
        IReadOnlyDictionary<string, object?>? raw,
        string @namespace,
        string flowId,
        string executionId,
        InputContext? context = null,
        CancellationToken cancellationToken = default)
    {
        raw ??= new Dictionary<string, object?>();
        context ??= new InputContext();
        var errors = new List<InputError>();
        var flat = new List<(string Id, object? Value)>();
        var soFar = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var input in definitions)
        {
            raw.TryGetValue(input.Id, out var value);
            var fromDefaults = false;
            if (IsEmpty(value) && input.HasDefaults && input.Defaults is not null)
            {
                value = RenderDefault(input.Defaults, context, soFar);
                fromDefaults = true;
            }

            // A declared default of '' is a value (Kestra serialises it), not a missing input.
            if (IsEmpty(value) && !(fromDefaults && value is string))
            {
                if (input.Required && !context.MissingRequiredAllowed)
                {
                    errors.Add(new InputError(input.Id, $"Invalid input for `{input.Id}`, missing required input, but received `null`"));
                }

                flat.Add((input.Id, null));
                continue;
            }

            try
            {
                var typed = await ConvertAsync(input, value, @namespace, flowId, executionId, context, cancellationToken).ConfigureAwait(false);
                flat.Add((input.Id, typed));
                soFar[input.Id] = typed;
            }
            catch (InputException e)
            {
                errors.Add(new InputError(input.Id, $"Invalid input for `{input.Id}`, {e.Message}, but received `{Display(input, value)}`"));
            }
        }

        if (errors.Count > 0)
        {
            throw new InputValidationException(errors);
        }

        return Nest(flat);
    }

    /// <summary>
    /// The inputs as tasks see them: SECRET values (encrypted at rest) decrypted with <paramref name="encryption"/>, and the
    /// plain secret values (to mask in logs). Returns the same map when the flow has no SECRET input set.
    /// </summary>
    public static (IReadOnlyDictionary<string, object?>? Inputs, IReadOnlyList<string> Secrets) DecryptSecrets(
        IReadOnlyList<InputDefinition> definitions, IReadOnlyDictionary<string, object?>? inputs, SecretEncryption? encryption)
    {
        if (inputs is null || !definitions.Any(IsSecret))
        {
            return (inputs, []);
        }

        var secrets = new List<string>();
        var result = inputs;
        foreach (var input in definitions.Where(IsSecret))
        {
            var parts = input.Id.Split('.');
            object? value = result;
            foreach (var part in parts)
            {
                value = value is IReadOnlyDictionary<string, object?> map ? map.GetValueOrDefault(part) : null;
            }

            if (value is not string { Length: > 0 } stored)
            {
                continue;
            }

            var plain = encryption?.TryDecrypt(stored) ?? stored;
            secrets.Add(plain);
            if (!ReferenceEquals(plain, stored))
            {
                result = Replace(result, parts, 0, plain);
            }
        }

        return (result, secrets);
    }

    private static IReadOnlyDictionary<string, object?> Replace(IReadOnlyDictionary<string, object?> map, string[] path, int index, object? value)
    {
        var copy = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (key, existing) in map)
        {
            copy[key] = existing;
        }

        copy[path[index]] = index == path.Length - 1 || copy.GetValueOrDefault(path[index]) is not IReadOnlyDictionary<string, object?> child
            ? value
            : Replace(child, path, index + 1, value);
        return copy;
    }

    private static bool IsEmpty(object? value) => value is null || (value is string s && s.Length == 0);

    private static object? RenderDefault(object? defaults, InputContext context, Dictionary<string, object?> soFar)
    {
        if (context.Expressions is null || defaults is not string s || !s.Contains("{{", StringComparison.Ordinal))
        {
            return defaults;
        }

        var variables = new Dictionary<string, object?>(context.Variables ?? new Dictionary<string, object?>(), StringComparer.Ordinal) { ["inputs"] = soFar };
        return context.Expressions.RenderTyped(s, variables);
    }

    private static string Display(InputDefinition input, object? value) => input.Type == InputType.Secret ? "******" : value switch
    {
        InputFile file => file.FileName,
        string s => s,
        _ => ExpressionValues.ToText(value),
    };

    /// <summary>Turns <c>a.b.c</c> ids into nested maps, keeping declaration order.</summary>
    private static IReadOnlyDictionary<string, object?> Nest(List<(string Id, object? Value)> flat)
    {
        var root = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (id, value) in flat)
        {
            var parts = id.Split('.');
            var current = root;
            for (var i = 0; i < parts.Length - 1; i++)
            {
                if (current.GetValueOrDefault(parts[i]) is not OrderedDictionary<string, object?> child)
                {
                    child = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
                    current[parts[i]] = child;
                }

                current = child;
            }

            current[parts[^1]] = value;
        }

        return root;
    }

    private static async Task<object?> ConvertAsync(InputDefinition input, object? value, string ns, string flowId, string executionId, InputContext context,
        CancellationToken cancellationToken)
    {
        switch (input.Type)
        {
            case InputType.String:
            case InputType.Secret:
            {
                var text = Text(value);
                if (input.Validator is { } pattern && !Regex.IsMatch(text, "^(?:" + pattern + ")$"))
                {
                    throw new InputException($"it must match the pattern `{pattern}`");
                }

                if (input.Type == InputType.Secret)
                {
                    // Kestra: FlowInputOutput refuses a SECRET input when kestra.encryption.secret-key is not configured.
                    return context.Encryption?.Encrypt(text)
                        ?? throw new InputException("Unable to use a `SECRET` input as encryption is not configured");
                }

                return text;
            }

            case InputType.Email:
            {
                var text = Text(value);
                return Regex.IsMatch(text, @"^[^@\s]+@[^@\s]+\.[^@\s]+$") ? text : throw new InputException($"it must be a valid email address");
            }

            case InputType.Int:
            {
                var number = value switch
                {
                    long l => l,
                    int i => i,
                    double d when Math.Abs(d % 1) < double.Epsilon => (long)d,
                    _ when long.TryParse(Text(value).Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) => parsed,
                    _ => throw new InputException($"For input string: \"{Text(value)}\""),
                };
                CheckRange(number, ToLong(input.Min), ToLong(input.Max), n => n.ToString(CultureInfo.InvariantCulture));
                return number;
            }

            case InputType.Float:
            {
                var number = value switch
                {
                    double d => d,
                    long l => l,
                    _ when double.TryParse(Text(value).Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
                    _ => throw new InputException($"For input string: \"{Text(value)}\""),
                };
                CheckRange(number, ToDouble(input.Min), ToDouble(input.Max), n => ExpressionValues.ToText(n));
                return number;
            }

            case InputType.Boolean:
            case InputType.Bool:
                return value switch
                {
                    bool b => b,
                    _ when bool.TryParse(Text(value).Trim(), out var parsed) => parsed,
                    _ => throw new InputException("it must be a boolean (true or false)"),
                };

            case InputType.Select:
            case InputType.Enum:
            {
                var text = Text(value);
                if (!input.AllowCustomValue && !input.Values.IsDefaultOrEmpty && !input.Values.Contains(text))
                {
                    throw new InputException($"it must match the values `[{string.Join(", ", input.Values)}]`");
                }

                return text;
            }

            case InputType.Multiselect:
            {
                var items = (value switch
                {
                    IReadOnlyList<object?> list => list,
                    string s when s.TrimStart().StartsWith('[') => ExpressionValues.FromJson(s) as IReadOnlyList<object?> ?? [],
                    string s => s.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
                    _ => [value],
                }).Select(Text).ToList();
                foreach (var item in items)
                {
                    if (!input.AllowCustomValue && !input.Values.IsDefaultOrEmpty && !input.Values.Contains(item))
                    {
                        throw new InputException($"value `{item}` doesn't match the values `[{string.Join(", ", input.Values)}]`");
                    }
                }

                return items.Cast<object?>().ToList();
            }

            case InputType.DateTime:
            {
                var date = value switch
                {
                    DateTimeOffset d => d,
                    _ when DateTimeOffset.TryParse(Text(value), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed) => parsed,
                    _ => throw new InputException($"Text '{Text(value)}' could not be parsed"),
                };
                date = date.ToUniversalTime();
                CheckDates(date, ParseDate(input.After), ParseDate(input.Before), d => KestraJson.FormatDate(d));
                return date;
            }

            case InputType.Date:
            {
                if (!DateOnly.TryParseExact(Text(value).Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
                {
                    throw new InputException($"Text '{Text(value)}' could not be parsed");
                }

                CheckDates(date, ParseDateOnly(input.After), ParseDateOnly(input.Before), d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                return date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            }

            case InputType.Time:
            {
                if (!TimeOnly.TryParse(Text(value).Trim(), CultureInfo.InvariantCulture, out var time))
                {
                    throw new InputException($"Text '{Text(value)}' could not be parsed");
                }

                CheckDates(time, ParseTime(input.After), ParseTime(input.Before), FormatJavaTime);
                return FormatJavaTime(time);
            }

            case InputType.Duration:
            {
                if (!KestraJson.TryParseDuration(value is string s ? s.Trim() : value, out var duration))
                {
                    throw new InputException($"Text '{Text(value)}' cannot be parsed to a Duration");
                }

                var min = KestraJson.TryParseDuration(input.Min, out var m) ? m : (TimeSpan?)null;
                var max = KestraJson.TryParseDuration(input.Max, out var x) ? x : (TimeSpan?)null;
                if (min is { } lo && duration < lo)
                {
                    throw new InputException($"It must be more than `{KestraJson.FormatDuration(lo)}`");
                }

                if (max is { } hi && duration > hi)
                {
                    throw new InputException($"It must be less than `{KestraJson.FormatDuration(hi)}`");
                }

                return KestraJson.FormatDuration(duration);
            }

            case InputType.File:
            {
                if (value is InputFile file)
                {
                    if (context.Files is null)
                    {
                        throw new InputException("FILE inputs need internal storage");
                    }

                    var uri = StorageUri.ForInput(ns, flowId, executionId, input.Id, file.FileName);
                    await using var stream = file.Open();
                    await context.Files.PutAsync(uri, stream, cancellationToken).ConfigureAwait(false);
                    return uri;
                }

                var text = Text(value);
                if (StorageUri.IsInternal(text) || Uri.TryCreate(text, UriKind.Absolute, out _))
                {
                    return text;
                }

                throw new InputException($"Expected `FILE` but received `{text}`");
            }

            case InputType.Json:
                try
                {
                    return value is string json ? ExpressionValues.FromJson(json) : ExpressionValues.Normalize(value);
                }
                catch (System.Text.Json.JsonException e)
                {
                    throw new InputException(e.Message);
                }

            case InputType.Yaml:
                try
                {
                    return value is string yaml ? YamlParser.Evaluate("yaml(y)", new Dictionary<string, object?> { ["y"] = yaml }) : ExpressionValues.Normalize(value);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    throw new InputException(e.Message);
                }

            case InputType.Uri:
            {
                var text = Text(value);
                if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme is "http" or "https" && string.IsNullOrEmpty(uri.Host)))
                {
                    throw new InputException($"Expected `URI` but received `{text}`");
                }

                return text;
            }

            case InputType.Array:
            {
                IReadOnlyList<object?> items;
                try
                {
                    items = value switch
                    {
                        IReadOnlyList<object?> list => list,
                        string s => ExpressionValues.FromJson(s) as IReadOnlyList<object?> ?? throw new InputException($"Expected `ARRAY` but received `{s}`"),
                        _ => throw new InputException($"Expected `ARRAY` but received `{Text(value)}`"),
                    };
                }
                catch (System.Text.Json.JsonException)
                {
                    throw new InputException($"Expected `ARRAY` but received `{Text(value)}`");
                }

                if (input.ItemType is not { } itemType)
                {
                    return items.ToList();
                }

                var result = new List<object?>(items.Count);
                var itemDefinition = input with { Type = itemType, Min = null, Max = null, After = null, Before = null };
                foreach (var item in items)
                {
                    try
                    {
                        result.Add(await ConvertAsync(itemDefinition, item, ns, flowId, executionId, context, cancellationToken).ConfigureAwait(false));
                    }
                    catch (InputException)
                    {
                        throw new InputException($"Unable to parse array element as `{itemType.ToString().ToUpperInvariant()}` on `{Text(item)}`");
                    }
                }

                return result;
            }

            default:
                return ExpressionValues.Normalize(value);
        }
    }

    private static string Text(object? value) => value as string ?? ExpressionValues.ToText(value);

    private static long? ToLong(object? value) => value switch
    {
        long l => l,
        int i => i,
        double d => (long)d,
        string s when long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) => parsed,
        _ => null,
    };

    private static double? ToDouble(object? value) => value switch
    {
        double d => d,
        long l => l,
        string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
        _ => null,
    };

    private static DateTimeOffset? ParseDate(object? value) => value switch
    {
        DateTimeOffset d => d,
        string s when DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed) => parsed,
        _ => null,
    };

    private static DateOnly? ParseDateOnly(object? value) =>
        value is string s && DateOnly.TryParse(s, CultureInfo.InvariantCulture, out var d) ? d : null;

    private static TimeOnly? ParseTime(object? value) =>
        value is string s && TimeOnly.TryParse(s, CultureInfo.InvariantCulture, out var t) ? t : null;

    /// <summary>Java's <c>LocalTime.toString()</c>: <c>HH:mm</c>, then <c>:ss</c> and a fraction only when not zero.</summary>
    internal static string FormatJavaTime(TimeOnly time)
    {
        var ticks = time.Ticks % TimeSpan.TicksPerSecond;
        if (time.Second == 0 && ticks == 0)
        {
            return time.ToString("HH:mm", CultureInfo.InvariantCulture);
        }

        var text = time.ToString("HH:mm:ss", CultureInfo.InvariantCulture);
        if (ticks == 0)
        {
            return text;
        }

        var nanos = ticks * 100;
        var digits = nanos % 1_000_000 == 0 ? 3 : nanos % 1000 == 0 ? 6 : 9;
        var fraction = nanos.ToString("D9", CultureInfo.InvariantCulture)[..digits];
        return text + "." + fraction;
    }

    private static void CheckRange<T>(T value, T? min, T? max, Func<T, string> format) where T : struct, IComparable<T>
    {
        if (min is { } lo && value.CompareTo(lo) < 0)
        {
            throw new InputException($"it must be more than `{format(lo)}`");
        }

        if (max is { } hi && value.CompareTo(hi) > 0)
        {
            throw new InputException($"it must be less than `{format(hi)}`");
        }
    }

    private static void CheckDates<T>(T value, T? after, T? before, Func<T, string> format) where T : struct, IComparable<T>
    {
        if (after is { } lo && value.CompareTo(lo) < 0)
        {
            throw new InputException($"it must be after `{format(lo)}`");
        }

        if (before is { } hi && value.CompareTo(hi) > 0)
        {
            throw new InputException($"it must be before `{format(hi)}`");
        }
    }

    private static readonly ExpressionEngine YamlParser = new();

    private sealed class InputException(string message) : Exception(message);
}

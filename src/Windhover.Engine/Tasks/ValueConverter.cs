using System.Globalization;
using Windhover.Engine.Serialization;
using Windhover.Flows.Expressions;

namespace Windhover.Engine.Tasks;

/// <summary>Converts rendered values (expression value model) to the CLR types tasks ask for.</summary>
public static class ValueConverter
{
    public static T Convert<T>(object? value, string name) => (T)Convert(value, typeof(T), name)!;

    public static object? Convert(object? value, Type type, string name)
    {
        var target = Nullable.GetUnderlyingType(type) ?? type;
        if (value is null)
        {
            return null;
        }

        try
        {
            if (target == typeof(object))
            {
                return value;
            }

            if (target == typeof(string))
            {
                return value as string ?? (value is IReadOnlyDictionary<string, object?> or IReadOnlyList<object?> ? ExpressionValues.ToJson(value) : ExpressionValues.ToText(value));
            }

            if (target == typeof(bool))
            {
                return value switch
                {
                    bool b => b,
                    string s => bool.Parse(s.Trim()),
                    long l => l != 0,
                    _ => throw Invalid(value, "boolean", name),
                };
            }

            if (target == typeof(long) || target == typeof(int))
            {
                long number = value switch
                {
                    long l => l,
                    int i => i,
                    double d when Math.Abs(d % 1) < double.Epsilon => (long)d,
                    string s => long.Parse(s.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture),
                    _ => throw Invalid(value, "integer", name),
                };
                return target == typeof(int) ? checked((int)number) : number;
            }

            if (target == typeof(double))
            {
                return value switch
                {
                    double d => d,
                    long l => (double)l,
                    string s => double.Parse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture),
                    _ => throw Invalid(value, "number", name),
                };
            }

            if (target == typeof(TimeSpan))
            {
                return KestraJson.TryParseDuration(value, out var duration) ? duration : throw Invalid(value, "duration", name);
            }

            if (target == typeof(DateTimeOffset))
            {
                return value switch
                {
                    DateTimeOffset d => d,
                    string s => DateTimeOffset.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal),
                    _ => throw Invalid(value, "date", name),
                };
            }

            if (target.IsEnum)
            {
                var text = ExpressionValues.ToText(value).Trim().Replace("_", "", StringComparison.Ordinal);
                return Enum.Parse(target, text, ignoreCase: true);
            }

            if (target == typeof(IReadOnlyDictionary<string, object?>))
            {
                return AsMap(value) ?? throw Invalid(value, "map", name);
            }

            if (target == typeof(IReadOnlyList<object?>))
            {
                return AsList(value) ?? throw Invalid(value, "list", name);
            }

            if (target == typeof(IReadOnlyList<string>) || target == typeof(List<string>) || target == typeof(string[]))
            {
                var list = AsList(value) ?? [value];
                var strings = list.Select(item => (string)Convert(item, typeof(string), name)!).ToList();
                return target == typeof(string[]) ? strings.ToArray() : strings;
            }

            if (target == typeof(IReadOnlyDictionary<string, string>) || target == typeof(Dictionary<string, string>))
            {
                var map = AsMap(value) ?? throw Invalid(value, "map", name);
                return map.Where(kv => kv.Value is not null).ToDictionary(kv => kv.Key, kv => (string)Convert(kv.Value, typeof(string), name)!, StringComparer.Ordinal);
            }
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException or InvalidCastException)
        {
            throw new TaskPropertyException($"Invalid value for property '{name}': {e.Message}", e);
        }

        throw new TaskPropertyException($"Unsupported property type {type.Name} for '{name}'");
    }

    public static IReadOnlyDictionary<string, object?>? AsMap(object? value) => value switch
    {
        IReadOnlyDictionary<string, object?> map => map,
        string s when s.TrimStart().StartsWith('{') => ExpressionValues.FromJson(s) as IReadOnlyDictionary<string, object?>,
        _ => null,
    };

    public static IReadOnlyList<object?>? AsList(object? value) => value switch
    {
        IReadOnlyList<object?> list => list,
        string s when s.TrimStart().StartsWith('[') => ExpressionValues.FromJson(s) as IReadOnlyList<object?>,
        _ => null,
    };

    private static TaskPropertyException Invalid(object value, string expected, string name) =>
        new($"Invalid value for property '{name}': expected a {expected} but got '{ExpressionValues.ToText(value)}'");
}

using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Windhover.Engine.Executions;

namespace Windhover.Engine.Serialization;

/// <summary>Kestra-compatible JSON for executions and task runs: camelCase, nulls omitted, dates in UTC with <c>Z</c>,
/// ISO-8601 durations, upper-case states, values in the expression value model.</summary>
public static class KestraJson
{
    public static JsonSerializerOptions Options => EngineJsonContext.Default.Options;

    public static string Serialize(Execution execution) => JsonSerializer.Serialize(execution, EngineJsonContext.Default.Execution);

    public static Execution DeserializeExecution(string json) =>
        JsonSerializer.Deserialize(json, EngineJsonContext.Default.Execution) ?? throw new JsonException("null execution");

    public static string Serialize(TaskRun taskRun) => JsonSerializer.Serialize(taskRun, EngineJsonContext.Default.TaskRun);

    public static TaskRun DeserializeTaskRun(string json) =>
        JsonSerializer.Deserialize(json, EngineJsonContext.Default.TaskRun) ?? throw new JsonException("null task run");

    /// <summary>Formats an instant as Kestra (Java <c>Instant.toString()</c>): UTC, <c>Z</c>, fraction only when non-zero.</summary>
    public static string FormatDate(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    /// <summary>Formats a duration as Java's <c>Duration.toString()</c>: <c>PT1H2M3.5S</c>, <c>PT0.012S</c>, <c>PT0S</c>.</summary>
    public static string FormatDuration(TimeSpan value)
    {
        if (value == TimeSpan.Zero)
        {
            return "PT0S";
        }

        var builder = new StringBuilder("PT");
        var negative = value < TimeSpan.Zero;
        var ticks = negative ? -value.Ticks : value.Ticks;
        var hours = ticks / TimeSpan.TicksPerHour;
        ticks -= hours * TimeSpan.TicksPerHour;
        var minutes = ticks / TimeSpan.TicksPerMinute;
        ticks -= minutes * TimeSpan.TicksPerMinute;
        var sign = negative ? "-" : "";
        if (hours > 0)
        {
            builder.Append(sign).Append(hours.ToString(CultureInfo.InvariantCulture)).Append('H');
        }

        if (minutes > 0)
        {
            builder.Append(sign).Append(minutes.ToString(CultureInfo.InvariantCulture)).Append('M');
        }

        if (ticks > 0)
        {
            var seconds = ticks / TimeSpan.TicksPerSecond;
            var fraction = ticks % TimeSpan.TicksPerSecond;
            builder.Append(sign).Append(seconds.ToString(CultureInfo.InvariantCulture));
            if (fraction > 0)
            {
                builder.Append('.').Append(fraction.ToString("0000000", CultureInfo.InvariantCulture).TrimEnd('0'));
            }

            builder.Append('S');
        }

        return builder.ToString();
    }

    /// <summary>Parses an ISO-8601 duration (<c>PT1S</c>, <c>P1DT2H</c>, <c>PT0.250S</c>).</summary>
    public static TimeSpan ParseDuration(string text)
    {
        try
        {
            return System.Xml.XmlConvert.ToTimeSpan(text.Trim());
        }
        catch (FormatException e)
        {
            throw new FormatException($"Invalid ISO-8601 duration '{text}'", e);
        }
    }

    public static bool TryParseDuration(object? value, out TimeSpan duration)
    {
        switch (value)
        {
            case TimeSpan span:
                duration = span;
                return true;
            case string text when !string.IsNullOrWhiteSpace(text):
                try
                {
                    duration = ParseDuration(text);
                    return true;
                }
                catch (FormatException)
                {
                    break;
                }
            case long seconds:
                duration = TimeSpan.FromSeconds(seconds);
                return true;
            case double seconds:
                duration = TimeSpan.FromSeconds(seconds);
                return true;
        }

        duration = default;
        return false;
    }
}

internal sealed class KestraDateConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        DateTimeOffset.Parse(reader.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal).ToUniversalTime();

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteStringValue(KestraJson.FormatDate(value));
}

internal sealed class KestraDurationConverter : JsonConverter<TimeSpan>
{
    public override TimeSpan Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        KestraJson.ParseDuration(reader.GetString()!);

    public override void Write(Utf8JsonWriter writer, TimeSpan value, JsonSerializerOptions options) =>
        writer.WriteStringValue(KestraJson.FormatDuration(value));
}

internal sealed class KestraStateConverter : JsonConverter<State>
{
    public override State Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        StateExtensions.ParseKestraName(reader.GetString()!);

    public override void Write(Utf8JsonWriter writer, State value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToKestraName());
}

/// <summary>Reads and writes <see cref="object"/> values in the expression value model.</summary>
public sealed class ValueModelConverter : JsonConverter<object>
{
    public override bool HandleNull => true;

    public override object? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => ReadValue(ref reader);

    public static object? ReadValue(ref Utf8JsonReader reader)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return null;
            case JsonTokenType.True:
                return true;
            case JsonTokenType.False:
                return false;
            case JsonTokenType.String:
                return reader.GetString();
            case JsonTokenType.Number:
                if (reader.TryGetInt64(out var integer))
                {
                    return integer;
                }

                return reader.GetDouble();
            case JsonTokenType.StartArray:
                var list = new List<object?>();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    list.Add(ReadValue(ref reader));
                }

                return list;
            case JsonTokenType.StartObject:
                var map = new OrderedMap();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
                {
                    var key = reader.GetString()!;
                    reader.Read();
                    map[key] = ReadValue(ref reader);
                }

                return map;
            default:
                throw new JsonException($"Unexpected token {reader.TokenType}");
        }
    }

    public override void Write(Utf8JsonWriter writer, object? value, JsonSerializerOptions options) => WriteValue(writer, value);

    public static void WriteValue(Utf8JsonWriter writer, object? value)
    {
        switch (value)
        {
            case null:
                writer.WriteNullValue();
                break;
            case string s:
                writer.WriteStringValue(s);
                break;
            case bool b:
                writer.WriteBooleanValue(b);
                break;
            case long l:
                writer.WriteNumberValue(l);
                break;
            case int i:
                writer.WriteNumberValue(i);
                break;
            case double d:
                writer.WriteNumberValue(d);
                break;
            case float f:
                writer.WriteNumberValue(f);
                break;
            case decimal m:
                writer.WriteNumberValue(m);
                break;
            case DateTimeOffset date:
                writer.WriteStringValue(KestraJson.FormatDate(date));
                break;
            case DateTime date:
                writer.WriteStringValue(KestraJson.FormatDate(new DateTimeOffset(date.ToUniversalTime())));
                break;
            case TimeSpan span:
                writer.WriteStringValue(KestraJson.FormatDuration(span));
                break;
            case JsonElement element:
                element.WriteTo(writer);
                break;
            case State state:
                writer.WriteStringValue(state.ToKestraName());
                break;
            case IReadOnlyDictionary<string, object?> map:
                writer.WriteStartObject();
                foreach (var (key, item) in map)
                {
                    writer.WritePropertyName(key);
                    WriteValue(writer, item);
                }

                writer.WriteEndObject();
                break;
            case IDictionary dictionary:
                writer.WriteStartObject();
                foreach (DictionaryEntry entry in dictionary)
                {
                    writer.WritePropertyName(Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? "");
                    WriteValue(writer, entry.Value);
                }

                writer.WriteEndObject();
                break;
            case IEnumerable enumerable:
                writer.WriteStartArray();
                foreach (var item in enumerable)
                {
                    WriteValue(writer, item);
                }

                writer.WriteEndArray();
                break;
            default:
                writer.WriteStringValue(Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
        }
    }
}

/// <summary>An insertion-ordered string-keyed map for the value model.</summary>
public sealed class OrderedMap : IReadOnlyDictionary<string, object?>
{
    private readonly Dictionary<string, object?> _values = new(StringComparer.Ordinal);
    private readonly List<string> _keys = [];

    public OrderedMap()
    {
    }

    public OrderedMap(IEnumerable<KeyValuePair<string, object?>> values)
    {
        foreach (var (key, value) in values)
        {
            this[key] = value;
        }
    }

    public object? this[string key]
    {
        get => _values[key];
        set
        {
            if (!_values.ContainsKey(key))
            {
                _keys.Add(key);
            }

            _values[key] = value;
        }
    }

    public IEnumerable<string> Keys => _keys;
    public IEnumerable<object?> Values => _keys.Select(k => _values[k]);
    public int Count => _keys.Count;
    public bool ContainsKey(string key) => _values.ContainsKey(key);
    public bool TryGetValue(string key, out object? value) => _values.TryGetValue(key, out value);

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() =>
        _keys.Select(k => new KeyValuePair<string, object?>(k, _values[k])).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    Converters = [typeof(KestraDateConverter), typeof(KestraDurationConverter), typeof(KestraStateConverter), typeof(ValueModelConverter)])]
[JsonSerializable(typeof(Execution))]
[JsonSerializable(typeof(TaskRun))]
[JsonSerializable(typeof(StateInfo))]
internal sealed partial class EngineJsonContext : JsonSerializerContext;

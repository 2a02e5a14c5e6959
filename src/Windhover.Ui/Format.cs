using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Windhover.Engine.Executions;
using Windhover.Engine.Serialization;

namespace Windhover.Ui;

internal static class Format
{
    public static string Date(DateTimeOffset? date) =>
        date is { } d && d != default ? d.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) : "";

    public static string Duration(TimeSpan? duration) => duration switch
    {
        null => "",
        { TotalSeconds: < 60 } d => d.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s",
        { TotalHours: < 1 } d => $"{(int)d.TotalMinutes}m {d.Seconds}s",
        var d => $"{(int)d.Value.TotalHours}h {d.Value.Minutes}m",
    };

    /// <summary>Labels typed as <c>key:value</c>, separated by commas or spaces; malformed ones are ignored.</summary>
    public static IEnumerable<ExecutionLabel> ParseLabels(string? text) =>
        (text ?? "").Split([',', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(t => t.Split(':', 2))
            .Where(p => p.Length == 2 && p[0].Length > 0)
            .Select(p => new ExecutionLabel(p[0], p[1]));

    /// <summary>A <c>datetime-local</c> form value, read as UTC (the UI shows UTC dates).</summary>
    public static DateTimeOffset? ParseLocalDate(string? text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var date) ? date : null;

    /// <summary>A default value as form text: strings as they are, anything else as JSON.</summary>
    public static string? Text(object? value) => value switch
    {
        null => null,
        string s => s,
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => Json(value),
    };

    /// <summary>Outputs and inputs (the engine's value model) as indented JSON.</summary>
    public static string Json(object? value)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            ValueModelConverter.WriteValue(writer, value);
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }
}

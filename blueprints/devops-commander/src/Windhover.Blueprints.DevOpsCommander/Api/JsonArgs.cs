using System.Text.Json;

namespace Windhover.Blueprints.DevOpsCommander.Api;

internal static class JsonArgs
{
    /// <summary>The element itself, or the JSON parsed from it when it is a string; null for null/undefined/blank.</summary>
    public static JsonElement? Unwrap(JsonElement? e)
    {
        if (e is not { } v || v.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
        {
            return null;
        }

        if (v.ValueKind == JsonValueKind.String)
        {
            var text = v.GetString();
            if (string.IsNullOrWhiteSpace(text))
            {
                return null;
            }

            using var doc = JsonDocument.Parse(text);
            return doc.RootElement.Clone();
        }

        return v;
    }

    public static T? As<T>(JsonElement? e, JsonSerializerOptions options) where T : class =>
        Unwrap(e) is { } v ? v.Deserialize<T>(options) : null;
}

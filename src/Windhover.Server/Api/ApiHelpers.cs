using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using Windhover.Engine.Executions;
using Windhover.Server.Backend;

namespace Windhover.Server.Api;

internal static class ApiHelpers
{
    public static async Task<string> ReadTextAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        return await reader.ReadToEndAsync(cancellationToken);
    }

    /// <summary>Parses <c>key:value</c> labels (query parameters); refuses empty keys or values and system labels.</summary>
    public static ImmutableArray<ExecutionLabel> ParseLabels(IEnumerable<string?> raw, bool allowSystem = false)
    {
        var result = ImmutableArray.CreateBuilder<ExecutionLabel>();
        foreach (var item in raw)
        {
            if (item is null)
            {
                continue;
            }

            var colon = item.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                throw new BadRequestException($"Invalid label '{item}': expected key:value");
            }

            var key = item[..colon].Trim();
            var value = item[(colon + 1)..].Trim();
            result.Add(CheckLabel(key, value, allowSystem));
        }

        return result.ToImmutable();
    }

    public static ExecutionLabel CheckLabel(string? key, string? value, bool allowSystem = false)
    {
        if (string.IsNullOrWhiteSpace(key))
        {
            throw new InputValidationException("Invalid entity: labels: label key must not be null or empty");
        }

        if (string.IsNullOrWhiteSpace(value))
        {
            throw new InputValidationException($"Invalid entity: labels: label value of '{key}' must not be null or empty");
        }

        if (!allowSystem && key.StartsWith("system.", StringComparison.Ordinal))
        {
            throw new InputValidationException($"Invalid entity: labels: system labels cannot be set: '{key}'");
        }

        return new ExecutionLabel(key, value);
    }

    public static (int Page, int Size) Paging(int? page, int? size)
    {
        var p = page is null or < 1 ? 1 : page.Value;
        var s = size is null or < 1 ? 25 : Math.Min(size.Value, 10_000);
        return (p, s);
    }

    public static IEnumerable<T> Page<T>(IEnumerable<T> items, int page, int size) => items.Skip((page - 1) * size).Take(size);

    /// <summary>Parses Kestra's <c>sort</c> parameter: <c>field:asc</c> / <c>field:desc</c>.</summary>
    public static (string Field, bool Descending) Sort(string? sort, string defaultField, bool defaultDescending)
    {
        if (string.IsNullOrWhiteSpace(sort))
        {
            return (defaultField, defaultDescending);
        }

        var parts = sort.Split(':', 2);
        return (parts[0], parts.Length == 2 && parts[1].Equals("desc", StringComparison.OrdinalIgnoreCase));
    }

    public static DateTimeOffset? ParseDate(string? text, string name)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date))
        {
            return date.ToUniversalTime();
        }

        throw new BadRequestException($"Invalid date for '{name}': {text}");
    }

    public static State ParseState(string text)
    {
        try
        {
            return StateExtensions.ParseKestraName(text);
        }
        catch (FormatException)
        {
            throw new BadRequestException($"Invalid state '{text}'");
        }
    }
}

/// <summary>A malformed request (HTTP 400).</summary>
public sealed class BadRequestException(string message) : Exception(message);

using System.Collections;

namespace Windhover.Cli.Hosting;

/// <summary>
/// The flows' <c>{{ envs.* }}</c> variables taken from the process environment as Kestra does: every variable named
/// <c>ENV_SOMETHING</c> becomes <c>envs.something</c> (prefix removed, name lower-cased).
/// </summary>
public static class FlowEnvironment
{
    public const string Prefix = "ENV_";

    public static IReadOnlyDictionary<string, object?> FromProcess() => From(Environment.GetEnvironmentVariables());

    public static IReadOnlyDictionary<string, object?> From(IDictionary environment)
    {
        var envs = new SortedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in environment)
        {
            if (entry.Key is string name && name.Length > Prefix.Length && name.StartsWith(Prefix, StringComparison.Ordinal))
            {
                envs[name[Prefix.Length..].ToLowerInvariant()] = entry.Value as string;
            }
        }

        return new Dictionary<string, object?>(envs, StringComparer.Ordinal);
    }

    /// <summary><paramref name="overrides"/> over the process's <c>ENV_*</c> variables.</summary>
    public static IReadOnlyDictionary<string, object?> WithProcess(IReadOnlyDictionary<string, object?> overrides)
    {
        var envs = new Dictionary<string, object?>(FromProcess(), StringComparer.Ordinal);
        foreach (var (key, value) in overrides)
        {
            envs[key] = value;
        }

        return envs;
    }
}

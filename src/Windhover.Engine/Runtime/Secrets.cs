using System.Collections;
using System.Text;

namespace Windhover.Engine.Runtime;

/// <summary>Where secret values come from.</summary>
public interface ISecretProvider
{
    /// <summary>The secret value, or null when unknown.</summary>
    string? Get(string @namespace, string key);
}

/// <summary>
/// Kestra OSS secrets: environment variables <c>SECRET_{KEY}</c> holding base64-encoded values
/// (an <c>ENV_SECRET_{KEY}</c> variant is read too, plain-text).
/// </summary>
public sealed class EnvironmentSecretProvider : ISecretProvider
{
    private readonly Dictionary<string, string> _secrets = new(StringComparer.OrdinalIgnoreCase);

    public EnvironmentSecretProvider(IDictionary? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariables();
        foreach (DictionaryEntry entry in environment)
        {
            if (entry.Key is not string name || entry.Value is not string value)
            {
                continue;
            }

            if (name.StartsWith("SECRET_", StringComparison.Ordinal))
            {
                try
                {
                    _secrets[name["SECRET_".Length..]] = Encoding.UTF8.GetString(Convert.FromBase64String(value.Trim()));
                }
                catch (FormatException)
                {
                    _secrets[name["SECRET_".Length..]] = value;
                }
            }
            else if (name.StartsWith("ENV_SECRET_", StringComparison.Ordinal))
            {
                _secrets.TryAdd(name["ENV_SECRET_".Length..], value);
            }
        }
    }

    public string? Get(string @namespace, string key) => _secrets.GetValueOrDefault(key);
}

/// <summary>Secrets from a dictionary (tests, embedding).</summary>
public sealed class DictionarySecretProvider(IReadOnlyDictionary<string, string> secrets) : ISecretProvider
{
    public string? Get(string @namespace, string key) => secrets.GetValueOrDefault(key);
}

namespace Windhover.Engine.Stores;

/// <summary>A key/value pair of a namespace. <see cref="Value"/> is in the expression value model.</summary>
public sealed record KvEntry(string Namespace, string Key, object? Value, DateTimeOffset Updated, DateTimeOffset? ExpiresAt);

/// <summary>Namespace-scoped key/value store with optional time-to-live. Expired entries are invisible.</summary>
public interface IKvStore
{
    /// <summary>Sets a value; returns false (and changes nothing) when the key exists and <paramref name="overwrite"/> is false.</summary>
    Task<bool> SetAsync(string @namespace, string key, object? value, TimeSpan? ttl = null, bool overwrite = true, CancellationToken cancellationToken = default);

    Task<KvEntry?> GetAsync(string @namespace, string key, CancellationToken cancellationToken = default);

    Task<bool> DeleteAsync(string @namespace, string key, CancellationToken cancellationToken = default);

    /// <summary>Live entries of a namespace, by key.</summary>
    Task<IReadOnlyList<KvEntry>> ListAsync(string @namespace, CancellationToken cancellationToken = default);
}

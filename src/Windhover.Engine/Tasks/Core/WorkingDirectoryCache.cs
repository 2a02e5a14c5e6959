using System.Globalization;
using System.IO.Compression;
using Windhover.Engine.Serialization;
using Windhover.Engine.Stores;
using Windhover.Flows.Expressions;

namespace Windhover.Engine.Tasks.Core;

/// <summary>
/// A WorkingDirectory's <c>cache</c> (<c>patterns</c>, <c>ttl</c>): after a successful run the files of its directory
/// matching the patterns are kept in internal storage (one zip per flow and task); the next runs start with them
/// restored until the ttl since the cache was made has passed.
/// </summary>
public static class WorkingDirectoryCache
{
    private const string CreatedEntry = ".windhover-cache-created";

    /// <summary><c>kestra:///{ns/as/path}/{flowId}/_cache/{taskId}/cache.zip</c>.</summary>
    public static string UriFor(string @namespace, string flowId, string taskId) =>
        $"kestra:///{@namespace.Replace('.', '/')}/{flowId}/_cache/{taskId}/cache.zip";

    /// <summary>The <c>cache</c> property rendered: patterns and ttl (null ttl: kept until replaced), or null when there is no cache.</summary>
    public static (IReadOnlyList<string> Patterns, TimeSpan? Ttl)? Settings(object? rendered)
    {
        if (rendered is not IReadOnlyDictionary<string, object?> cache)
        {
            return null;
        }

        var patterns = cache.GetValueOrDefault("patterns") switch
        {
            IEnumerable<object?> list => list.Select(ExpressionValues.ToText).ToList(),
            string one => [one],
            _ => [],
        };
        TimeSpan? ttl = KestraJson.TryParseDuration(cache.GetValueOrDefault("ttl"), out var parsed) ? parsed : null;
        return patterns.Count == 0 ? null : (patterns, ttl);
    }

    /// <summary>Extracts a valid (not expired) cache into <paramref name="root"/>; false when there is none.</summary>
    public static async Task<bool> RestoreAsync(IFileStorage storage, string uri, string root, TimeSpan? ttl, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await using var stream = await storage.OpenReadAsync(uri, cancellationToken).ConfigureAwait(false);
        if (stream is null)
        {
            return false;
        }

        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        buffer.Position = 0;
        using var zip = new ZipArchive(buffer, ZipArchiveMode.Read);
        if (!IsValid(zip, ttl, now))
        {
            return false;
        }

        var fullRoot = Path.GetFullPath(root);
        foreach (var entry in zip.Entries.Where(e => e.FullName != CreatedEntry && !e.FullName.EndsWith('/')))
        {
            var path = Path.GetFullPath(Path.Combine(fullRoot, entry.FullName));
            if (!path.StartsWith(fullRoot + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                continue; // never outside the directory
            }

            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            entry.ExtractToFile(path, overwrite: true);
        }

        return true;
    }

    /// <summary>Stores the files of <paramref name="root"/> matching <paramref name="patterns"/>, unless a valid cache already exists.</summary>
    public static async Task<bool> SaveAsync(IFileStorage storage, string uri, string root, IReadOnlyList<string> patterns, TimeSpan? ttl, DateTimeOffset now,
        CancellationToken cancellationToken = default)
    {
        await using (var existing = await storage.OpenReadAsync(uri, cancellationToken).ConfigureAwait(false))
        {
            if (existing is not null)
            {
                using var buffer = new MemoryStream();
                await existing.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
                buffer.Position = 0;
                using var zip = new ZipArchive(buffer, ZipArchiveMode.Read);
                if (IsValid(zip, ttl, now))
                {
                    return false;
                }
            }
        }

        if (!Directory.Exists(root))
        {
            return false;
        }

        using var output = new MemoryStream();
        using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (relative, path) in LocalFilesTask.Match(root, patterns))
            {
                zip.CreateEntryFromFile(path, relative.Replace('\\', '/'));
            }

            await using var created = zip.CreateEntry(CreatedEntry).Open();
            await created.WriteAsync(System.Text.Encoding.UTF8.GetBytes(now.UtcTicks.ToString(CultureInfo.InvariantCulture)), cancellationToken).ConfigureAwait(false);
        }

        output.Position = 0;
        await storage.PutAsync(uri, output, cancellationToken).ConfigureAwait(false);
        return true;
    }

    private static bool IsValid(ZipArchive zip, TimeSpan? ttl, DateTimeOffset now)
    {
        if (zip.GetEntry(CreatedEntry) is not { } entry)
        {
            return false;
        }

        using var reader = new StreamReader(entry.Open());
        if (!long.TryParse(reader.ReadToEnd(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var ticks))
        {
            return false;
        }

        return ttl is not { } limit || now - new DateTimeOffset(ticks, TimeSpan.Zero) < limit;
    }
}

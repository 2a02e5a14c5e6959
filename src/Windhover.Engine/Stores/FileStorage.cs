using System.Collections.Concurrent;

namespace Windhover.Engine.Stores;

/// <summary>
/// Internal storage addressed by <c>kestra:///</c> URIs, as Kestra's StorageInterface: execution files live under
/// <c>kestra:///{namespace with '/'}/{flowId}/executions/{executionId}/...</c>.
/// </summary>
public interface IFileStorage
{
    /// <summary>Writes (or replaces) the file and returns its size in bytes.</summary>
    Task<long> PutAsync(string uri, Stream content, CancellationToken cancellationToken = default);

    /// <summary>Opens the file for reading, or returns null when it does not exist.</summary>
    Task<Stream?> OpenReadAsync(string uri, CancellationToken cancellationToken = default);

    Task<bool> ExistsAsync(string uri, CancellationToken cancellationToken = default);

    /// <summary>Size in bytes, or null when the file does not exist.</summary>
    Task<long?> SizeAsync(string uri, CancellationToken cancellationToken = default);

    Task<bool> DeleteAsync(string uri, CancellationToken cancellationToken = default);

    /// <summary>Deletes every file under a URI prefix (e.g. an execution's folder); returns how many were removed.</summary>
    Task<int> DeletePrefixAsync(string uriPrefix, CancellationToken cancellationToken = default);

    /// <summary>The URIs of every file under a folder URI (any depth), in ordinal order; empty when there is none.</summary>
    Task<IReadOnlyList<string>> ListAsync(string folderUri, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"{GetType().Name} cannot list files");
}

/// <summary>Builders and checks for <c>kestra:///</c> URIs.</summary>
public static class StorageUri
{
    public const string Scheme = "kestra://";

    public static bool IsInternal(string? uri) => uri is not null && uri.StartsWith(Scheme, StringComparison.Ordinal);

    /// <summary><c>kestra:///{ns/as/path}/{flowId}/executions/{executionId}</c>.</summary>
    public static string ForExecution(string @namespace, string flowId, string executionId) =>
        $"kestra:///{@namespace.Replace('.', '/')}/{flowId}/executions/{executionId}";

    /// <summary>A file written by a task run: <c>.../executions/{id}/tasks/{taskId}/{taskRunId}/{fileName}</c>.</summary>
    public static string ForTaskRun(string @namespace, string flowId, string executionId, string taskId, string taskRunId, string fileName) =>
        $"{ForExecution(@namespace, flowId, executionId)}/tasks/{taskId}/{taskRunId}/{SafeName(fileName)}";

    /// <summary>A FILE input: <c>.../executions/{id}/inputs/{inputId}/{fileName}</c>.</summary>
    public static string ForInput(string @namespace, string flowId, string executionId, string inputId, string fileName) =>
        $"{ForExecution(@namespace, flowId, executionId)}/inputs/{inputId}/{SafeName(fileName)}";

    /// <summary>The folder of a namespace's files: <c>kestra:///{ns/as/path}/_files</c> (Kestra's layout).</summary>
    public static string ForNamespaceFiles(string @namespace) => $"kestra:///{@namespace.Replace('.', '/')}/_files";

    /// <summary>The path part (after <c>kestra://</c>, starting with '/'), rejecting '..' segments.</summary>
    public static string PathOf(string uri)
    {
        if (!IsInternal(uri))
        {
            throw new ArgumentException($"'{uri}' is not an internal storage URI (kestra:///...)", nameof(uri));
        }

        var path = Uri.UnescapeDataString(uri[Scheme.Length..]);
        if (!path.StartsWith('/'))
        {
            path = "/" + path;
        }

        foreach (var segment in path.Split('/'))
        {
            if (segment is ".." or ".")
            {
                throw new ArgumentException($"Invalid internal storage URI '{uri}'", nameof(uri));
            }
        }

        return path;
    }

    private static string SafeName(string fileName)
    {
        var name = Path.GetFileName(fileName.Replace('\\', '/'));
        return string.IsNullOrEmpty(name) || name is "." or ".." ? "file" : name;
    }
}

/// <summary>Files under a data folder: <c>kestra:///a/b/c.txt</c> is <c>{root}/a/b/c.txt</c>. Writes go through a temporary file and a rename.</summary>
public sealed class LocalFileStorage(string root) : IFileStorage
{
    public string Root { get; } = Path.GetFullPath(root);

    public string LocalPath(string uri) => Path.Combine(Root, StorageUri.PathOf(uri).TrimStart('/'));

    public async Task<long> PutAsync(string uri, Stream content, CancellationToken cancellationToken = default)
    {
        var path = LocalPath(uri);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        long size;
        await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true))
        {
            await content.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
            size = file.Length;
        }

        File.Move(temp, path, overwrite: true);
        return size;
    }

    public Task<Stream?> OpenReadAsync(string uri, CancellationToken cancellationToken = default)
    {
        var path = LocalPath(uri);
        return Task.FromResult<Stream?>(File.Exists(path) ? new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, useAsync: true) : null);
    }

    public Task<bool> ExistsAsync(string uri, CancellationToken cancellationToken = default) => Task.FromResult(File.Exists(LocalPath(uri)));

    public Task<long?> SizeAsync(string uri, CancellationToken cancellationToken = default)
    {
        var info = new FileInfo(LocalPath(uri));
        return Task.FromResult<long?>(info.Exists ? info.Length : null);
    }

    public Task<bool> DeleteAsync(string uri, CancellationToken cancellationToken = default)
    {
        var path = LocalPath(uri);
        if (!File.Exists(path))
        {
            return Task.FromResult(false);
        }

        File.Delete(path);
        return Task.FromResult(true);
    }

    public Task<int> DeletePrefixAsync(string uriPrefix, CancellationToken cancellationToken = default)
    {
        var path = LocalPath(uriPrefix);
        var count = 0;
        if (Directory.Exists(path))
        {
            count = Directory.GetFiles(path, "*", SearchOption.AllDirectories).Length;
            Directory.Delete(path, recursive: true);
        }
        else if (File.Exists(path))
        {
            File.Delete(path);
            count = 1;
        }

        return Task.FromResult(count);
    }

    public Task<IReadOnlyList<string>> ListAsync(string folderUri, CancellationToken cancellationToken = default)
    {
        var path = LocalPath(folderUri);
        var prefix = StorageUri.Scheme + StorageUri.PathOf(folderUri).TrimEnd('/');
        if (!Directory.Exists(path))
        {
            return Task.FromResult<IReadOnlyList<string>>([]);
        }

        var uris = Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories)
            .Where(file => !IsTemporary(file))
            .Select(file => prefix + "/" + Path.GetRelativePath(path, file).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)
            .ToList();
        return Task.FromResult<IReadOnlyList<string>>(uris);
    }

    /// <summary>A write in progress (<see cref="PutAsync"/>'s <c>{name}.{guid}.tmp</c>).</summary>
    private static bool IsTemporary(string file) =>
        file.EndsWith(".tmp", StringComparison.Ordinal) && Path.GetExtension(Path.GetFileNameWithoutExtension(file)) is { Length: 33 } guid
        && guid.Skip(1).All(char.IsAsciiHexDigitLower);
}

/// <summary>Files in memory, for tests.</summary>
public sealed class InMemoryFileStorage : IFileStorage
{
    private readonly ConcurrentDictionary<string, byte[]> _files = new(StringComparer.Ordinal);

    public async Task<long> PutAsync(string uri, Stream content, CancellationToken cancellationToken = default)
    {
        var path = StorageUri.PathOf(uri);
        using var buffer = new MemoryStream();
        await content.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        _files[path] = buffer.ToArray();
        return buffer.Length;
    }

    public Task<Stream?> OpenReadAsync(string uri, CancellationToken cancellationToken = default) =>
        Task.FromResult<Stream?>(_files.TryGetValue(StorageUri.PathOf(uri), out var bytes) ? new MemoryStream(bytes, writable: false) : null);

    public Task<bool> ExistsAsync(string uri, CancellationToken cancellationToken = default) => Task.FromResult(_files.ContainsKey(StorageUri.PathOf(uri)));

    public Task<long?> SizeAsync(string uri, CancellationToken cancellationToken = default) =>
        Task.FromResult<long?>(_files.TryGetValue(StorageUri.PathOf(uri), out var bytes) ? bytes.Length : null);

    public Task<bool> DeleteAsync(string uri, CancellationToken cancellationToken = default) => Task.FromResult(_files.TryRemove(StorageUri.PathOf(uri), out _));

    public Task<int> DeletePrefixAsync(string uriPrefix, CancellationToken cancellationToken = default)
    {
        var prefix = StorageUri.PathOf(uriPrefix).TrimEnd('/');
        var count = 0;
        foreach (var key in _files.Keys)
        {
            if (key == prefix || key.StartsWith(prefix + "/", StringComparison.Ordinal))
            {
                count += _files.TryRemove(key, out _) ? 1 : 0;
            }
        }

        return Task.FromResult(count);
    }

    public Task<IReadOnlyList<string>> ListAsync(string folderUri, CancellationToken cancellationToken = default)
    {
        var prefix = StorageUri.PathOf(folderUri).TrimEnd('/') + "/";
        IReadOnlyList<string> uris = [.. _files.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal).Select(k => StorageUri.Scheme + k)];
        return Task.FromResult(uris);
    }
}

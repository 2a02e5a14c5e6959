using System.Text.RegularExpressions;

namespace Windhover.Plugins.Scripts;

/// <summary>
/// The per-run working directory and its <c>outputDir</c> subfolder. Dispose deletes both (after the engine has
/// stored the output files).
/// </summary>
public sealed partial class ScriptWorkspace : IDisposable
{
    public const string OutputDirName = "outputDir";

    private readonly bool _ownsWorkingDirectory;

    internal ScriptWorkspace(string workingDirectory, bool ownsWorkingDirectory = true)
    {
        WorkingDirectory = workingDirectory;
        OutputDirectory = Path.Combine(workingDirectory, OutputDirName);
        _ownsWorkingDirectory = ownsWorkingDirectory;
        Directory.CreateDirectory(OutputDirectory);
    }

    /// <summary>
    /// A workspace in an existing directory owned by someone else (e.g. the engine's task-run working directory):
    /// <see cref="Dispose"/> then only deletes the <c>outputDir</c> subfolder.
    /// </summary>
    public static ScriptWorkspace Attach(string workingDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(workingDirectory);
        return new ScriptWorkspace(Path.GetFullPath(workingDirectory), ownsWorkingDirectory: false);
    }

    public string WorkingDirectory { get; }
    public string OutputDirectory { get; }

    /// <summary>Replaces <c>{{ workingDir }}</c> and <c>{{ outputDir }}</c> (any spacing) in <paramref name="text"/>.</summary>
    public string Render(string text)
    {
        if (!text.Contains("{{", StringComparison.Ordinal))
        {
            return text;
        }
        return PlaceholderRegex().Replace(text, m => m.Groups[1].Value == "workingDir" ? WorkingDirectory : OutputDirectory);
    }

    /// <summary>The full path of <paramref name="relativeName"/> inside the working directory; throws when it escapes it.</summary>
    public string Resolve(string relativeName)
    {
        if (string.IsNullOrWhiteSpace(relativeName) || Path.IsPathRooted(relativeName))
        {
            throw new ArgumentException($"Input file name '{relativeName}' must be a relative path.", nameof(relativeName));
        }
        var full = Path.GetFullPath(Path.Combine(WorkingDirectory, relativeName));
        var root = WorkingDirectory.EndsWith(Path.DirectorySeparatorChar) ? WorkingDirectory : WorkingDirectory + Path.DirectorySeparatorChar;
        if (!full.StartsWith(root, StringComparison.Ordinal))
        {
            throw new ArgumentException($"Input file name '{relativeName}' points outside the working directory.", nameof(relativeName));
        }
        return full;
    }

    public void Dispose()
    {
        try
        {
            var target = _ownsWorkingDirectory ? WorkingDirectory : OutputDirectory;
            if (Directory.Exists(target))
            {
                Directory.Delete(target, recursive: true);
            }
        }
        catch (IOException)
        {
            // best effort: a process that outlived the run may still hold a file
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    [GeneratedRegex(@"\{\{\s*(workingDir|outputDir)\s*\}\}")]
    private static partial Regex PlaceholderRegex();
}

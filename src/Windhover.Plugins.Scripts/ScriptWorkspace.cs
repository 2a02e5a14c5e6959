using System.Text.RegularExpressions;

namespace Windhover.Plugins.Scripts;

/// <summary>
/// The per-run working directory and its <c>outputDir</c> subfolder. Dispose deletes both (after the engine has
/// stored the output files).
/// </summary>
public sealed partial class ScriptWorkspace : IDisposable
{
    public const string OutputDirName = "outputDir";

    internal ScriptWorkspace(string workingDirectory)
    {
        WorkingDirectory = workingDirectory;
        OutputDirectory = Path.Combine(workingDirectory, OutputDirName);
        Directory.CreateDirectory(OutputDirectory);
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
            if (Directory.Exists(WorkingDirectory))
            {
                Directory.Delete(WorkingDirectory, recursive: true);
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

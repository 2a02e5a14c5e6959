namespace Windhover.Flows.Expressions;

/// <summary>An expression failed to parse or evaluate. The message names the problem and the template.</summary>
public sealed class ExpressionException : Exception
{
    public ExpressionException(string message) : base(message) { }

    public ExpressionException(string message, Exception? inner) : base(message, inner) { }

    public ExpressionException(string message, string? template, int line, int column, Exception? inner = null)
        : base(message, inner)
    {
        Template = template;
        Line = line;
        Column = column;
    }

    /// <summary>The template in which the problem occurred, when known.</summary>
    public string? Template { get; }

    /// <summary>1-based line within the template (0 when unknown).</summary>
    public int Line { get; }

    /// <summary>1-based column within the template (0 when unknown).</summary>
    public int Column { get; }
}

/// <summary>A syntax problem found by <see cref="ExpressionEngine.Check"/>.</summary>
public sealed record ExpressionProblem(string Message, int Line, int Column);

/// <summary>Services the expression engine needs from its caller (secrets, KV store, storage, logs).</summary>
/// <remarks>Every member has a default that fails with a clear "not available here" error.</remarks>
public interface IExpressionHost
{
    /// <summary>Returns the decoded secret value for <paramref name="key"/> (namespace may be null: the flow's namespace).</summary>
    object? Secret(string key, string? @namespace) => throw NotAvailable("secret");

    /// <summary>Returns the KV value, or null when missing and <paramref name="errorOnMissing"/> is false.</summary>
    object? Kv(string? @namespace, string key, bool errorOnMissing) => throw NotAvailable("kv");

    /// <summary>Reads a file from internal storage (kestra:// URI) or the namespace files, as text.</summary>
    string Read(string path) => throw NotAvailable("read");

    /// <summary>Returns the error logs of the current execution (list of log maps).</summary>
    IReadOnlyList<object?> ErrorLogs() => throw NotAvailable("errorLogs");

    /// <summary>Returns the kestra:// URI of a namespace or working-directory file.</summary>
    string FileUri(string path) => throw NotAvailable("fileURI");

    /// <summary>Returns the size in bytes of a stored file.</summary>
    long FileSize(string path) => throw NotAvailable("fileSize");

    /// <summary>Whether a stored file exists.</summary>
    bool FileExists(string path) => throw NotAvailable("fileExists");

    /// <summary>Helper for default members.</summary>
    static ExpressionException NotAvailable(string function) =>
        new($"The '{function}' function is not available here");
}

/// <summary>A host that provides nothing: every host function fails with "not available here".</summary>
public sealed class NullExpressionHost : IExpressionHost
{
    public static readonly NullExpressionHost Instance = new();
}

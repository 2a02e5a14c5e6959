using Windhover.Flows.Model;

namespace Windhover.Flows.Validation;

/// <summary>
/// One problem found in a flow: the file (or "" when parsed from a string), a message, its 1-based position and
/// the property path in the flow (e.g. <c>tasks[0].retry.interval</c>) when it concerns a property.
/// </summary>
public sealed record FlowProblem(string Path, string Message, SourcePosition Position, string? PropertyPath)
{
    /// <summary><c>line:column: message</c>.</summary>
    public override string ToString() => $"{Position.Line}:{Position.Column}: {Message}";

    /// <summary><c>path:line:column: message</c> (as the CLI prints it).</summary>
    public string ToDisplayString() => Path.Length == 0 ? ToString() : $"{Path}:{ToString()}";
}

/// <summary>Options of flow validation.</summary>
public sealed record FlowValidationOptions
{
    public static readonly FlowValidationOptions Default = new();

    /// <summary>
    /// Checks the syntax of one expression-bearing string (a value containing <c>{{</c> or <c>{%</c>) and returns
    /// the problems found (empty when fine). Plugged in by the expression engine; null skips expression checks.
    /// </summary>
    public Func<string, IEnumerable<string>>? ExpressionChecker { get; init; }

    /// <summary>Report properties a registered type does not declare (Kestra's strict parsing). Default true.</summary>
    public bool RejectUnknownProperties { get; init; } = true;
}

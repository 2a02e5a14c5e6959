namespace Windhover.Engine.Expressions;

/// <summary>
/// The executor's view of the Pebble expression engine (Windhover.Flows.Expressions.ExpressionEngine has exactly these
/// methods). Values are plain CLR objects of the value model. Implementations throw on evaluation errors (undefined
/// variables, type errors); the executor turns such exceptions into task or execution failures.
/// </summary>
public interface IRenderer
{
    /// <summary>Renders a template to a string.</summary>
    string Render(string template, IReadOnlyDictionary<string, object?> variables);

    /// <summary>Renders a template; a template that is exactly one <c>{{ expr }}</c> returns the native value.</summary>
    object? RenderTyped(string template, IReadOnlyDictionary<string, object?> variables);

    /// <summary>Renders every string inside maps and lists (typed where a string is a single expression).</summary>
    object? RenderObject(object? value, IReadOnlyDictionary<string, object?> variables);

    /// <summary>Evaluates a bare expression (no braces).</summary>
    object? Evaluate(string expression, IReadOnlyDictionary<string, object?> variables);
}

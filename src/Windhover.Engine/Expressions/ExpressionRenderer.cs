using Windhover.Flows.Expressions;

namespace Windhover.Engine.Expressions;

/// <summary>The production <see cref="IRenderer"/>: Windhover's Pebble-compatible <see cref="ExpressionEngine"/>.</summary>
public sealed class ExpressionRenderer(ExpressionEngine engine, IExpressionHost? host = null) : IRenderer
{
    public ExpressionRenderer()
        : this(new ExpressionEngine())
    {
    }

    public ExpressionEngine Engine { get; } = engine;

    public string Render(string template, IReadOnlyDictionary<string, object?> variables) => Engine.Render(template, variables, host);

    public object? RenderTyped(string template, IReadOnlyDictionary<string, object?> variables) => Engine.RenderTyped(template, variables, host);

    public object? RenderObject(object? value, IReadOnlyDictionary<string, object?> variables) => Engine.RenderObject(value, variables, host);

    public object? Evaluate(string expression, IReadOnlyDictionary<string, object?> variables) => Engine.Evaluate(expression, variables, host);
}

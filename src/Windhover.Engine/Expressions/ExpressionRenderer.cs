using Windhover.Flows.Expressions;

namespace Windhover.Engine.Expressions;

/// <summary>
/// <see cref="IRenderer"/> over the Pebble-compatible <see cref="ExpressionEngine"/>. The host (kv, secret, read...) is
/// chosen per call from the variables (the flow namespace and execution id live in them), so the executor's renders
/// see the same functions as the worker's.
/// </summary>
public sealed class ExpressionRenderer(ExpressionEngine engine, Func<IReadOnlyDictionary<string, object?>, IExpressionHost?>? hostFor = null) : IRenderer
{
    public ExpressionEngine Engine { get; } = engine;

    public string Render(string template, IReadOnlyDictionary<string, object?> variables) => Engine.Render(template, variables, Host(variables));

    public object? RenderTyped(string template, IReadOnlyDictionary<string, object?> variables) => Engine.RenderTyped(template, variables, Host(variables));

    public object? RenderObject(object? value, IReadOnlyDictionary<string, object?> variables) => Engine.RenderObject(value, variables, Host(variables));

    public object? Evaluate(string expression, IReadOnlyDictionary<string, object?> variables) => Engine.Evaluate(expression, variables, Host(variables));

    private IExpressionHost? Host(IReadOnlyDictionary<string, object?> variables) => hostFor?.Invoke(variables);
}

using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Windhover.Flows.Expressions;

/// <summary>
/// Pebble-compatible template engine configured like Kestra (strict variables, no auto-escaping,
/// no newline trimming). Parsed templates are cached; rendering a cached template does no parsing. Thread-safe.
/// </summary>
public sealed class ExpressionEngine
{
    private readonly ConcurrentDictionary<string, CompiledTemplate> _templates = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Expr> _expressions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CallableDefinition> _functions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CallableDefinition> _filters = new(StringComparer.Ordinal);
    private static readonly IReadOnlyDictionary<string, object?> Empty = new Dictionary<string, object?>();

    public ExpressionEngine(ExpressionEngineOptions? options = null)
    {
        Options = options ?? new ExpressionEngineOptions();
        DefaultZone = JavaDateFormat.Zone(Options.DefaultTimeZone);
        foreach (var f in Builtins.Functions()) _functions[f.Name] = f;
        foreach (var f in Builtins.Filters()) _filters[f.Name] = f;
        foreach (var f in Options.Functions) _functions[f.Name] = f;
        foreach (var f in Options.Filters) _filters[f.Name] = f;
    }

    public ExpressionEngineOptions Options { get; }

    internal TimeZoneInfo DefaultZone { get; }

    /// <summary>Number of parsed templates currently cached.</summary>
    public int CachedTemplateCount => _templates.Count;

    internal bool TryGetFunction(string name, [NotNullWhen(true)] out CallableDefinition? def) => _functions.TryGetValue(name, out def);

    internal bool TryGetFilter(string name, [NotNullWhen(true)] out CallableDefinition? def) => _filters.TryGetValue(name, out def);

    internal CompiledTemplate GetTemplate(string template)
    {
        if (_templates.TryGetValue(template, out var compiled)) return compiled;
        compiled = Parser.ParseTemplate(template, this);
        if (_templates.Count >= Options.CacheSize) _templates.Clear();
        _templates[template] = compiled;
        return compiled;
    }

    private Expr GetExpression(string expression)
    {
        if (_expressions.TryGetValue(expression, out var e)) return e;
        e = Parser.ParseBareExpression(expression, this);
        if (_expressions.Count >= Options.CacheSize) _expressions.Clear();
        _expressions[expression] = e;
        return e;
    }

    private EvalContext NewContext(string source, IReadOnlyDictionary<string, object?>? variables, IExpressionHost? host, int depth = 0) => new()
    {
        Engine = this,
        Variables = variables ?? Empty,
        Host = host ?? NullExpressionHost.Instance,
        Source = source,
        Depth = depth,
    };

    /// <summary>Renders a template to a string. A string without '{' is returned unchanged.</summary>
    public string Render(string template, IReadOnlyDictionary<string, object?> variables, IExpressionHost? host = null)
    {
        ArgumentNullException.ThrowIfNull(template);
        if (template.IndexOf('{') < 0) return template;
        return RenderInternal(template, variables, host, 0);
    }

    internal string RenderInternal(string template, IReadOnlyDictionary<string, object?> variables, IExpressionHost? host, int depth)
    {
        if (depth > Options.MaxRenderDepth) throw new ExpressionException($"Maximum render depth ({Options.MaxRenderDepth}) exceeded while rendering `{template}`");
        if (template.IndexOf('{') < 0) return template;
        var compiled = GetTemplate(template);
        if (compiled.SingleText != null) return compiled.SingleText;
        if (compiled.PrintOnly && compiled.FastPath != null && compiled.TryFastPath(variables, out var fast))
            return fast as string ?? ExpressionValues.ToText(fast);
        var ctx = NewContext(template, variables, host, depth);
        if (compiled.PrintOnly)
        {
            var v = compiled.Single!.Eval(ctx);
            return v as string ?? ExpressionValues.ToText(v);
        }
        var sb = new StringBuilder(template.Length + 32);
        compiled.Root.Render(ctx, sb);
        return sb.ToString();
    }

    /// <summary>
    /// Renders a template; when it is a single <c>{{ expr }}</c> (whitespace around allowed) returns the native value
    /// (map, list, number, bool, null...), otherwise the rendered string.
    /// </summary>
    public object? RenderTyped(string template, IReadOnlyDictionary<string, object?> variables, IExpressionHost? host = null)
    {
        ArgumentNullException.ThrowIfNull(template);
        if (template.IndexOf('{') < 0) return template;
        var compiled = GetTemplate(template);
        if (compiled.Single != null)
        {
            if (compiled.FastPath != null && compiled.TryFastPath(variables, out var fast)) return fast;
            return compiled.Single.Eval(NewContext(template, variables, host));
        }
        return RenderInternal(template, variables, host, 0);
    }

    /// <summary>Renders every string inside maps and lists (keys too), returning the same shapes.</summary>
    public object? RenderObject(object? value, IReadOnlyDictionary<string, object?> variables, IExpressionHost? host = null)
    {
        value = ExpressionValues.Light(value);
        switch (value)
        {
            case string s: return Render(s, variables, host);
            case IReadOnlyDictionary<string, object?> map:
                {
                    var result = new OrderedDictionary<string, object?>();
                    foreach (var kv in map) result[Render(kv.Key, variables, host)] = RenderObject(kv.Value, variables, host);
                    return result;
                }
            case IReadOnlyList<object?> list:
                {
                    var result = new List<object?>(list.Count);
                    foreach (var item in list) result.Add(RenderObject(item, variables, host));
                    return result;
                }
            default: return value;
        }
    }

    /// <summary>Evaluates a bare expression (no braces), e.g. an If condition; returns the native value.</summary>
    public object? Evaluate(string expression, IReadOnlyDictionary<string, object?> variables, IExpressionHost? host = null)
    {
        ArgumentNullException.ThrowIfNull(expression);
        var trimmed = expression.Trim();
        // tolerate a condition written as "{{ expr }}"
        if (trimmed.StartsWith("{{", StringComparison.Ordinal) && trimmed.EndsWith("}}", StringComparison.Ordinal))
            return RenderTyped(trimmed, variables, host);
        var e = GetExpression(expression);
        return e.Eval(NewContext(expression, variables, host));
    }

    /// <summary>Checks the syntax of a template (unknown filters/functions included) without evaluating it.</summary>
    public IReadOnlyList<ExpressionProblem> Check(string template)
    {
        ArgumentNullException.ThrowIfNull(template);
        if (template.IndexOf('{') < 0) return [];
        try
        {
            GetTemplate(template);
            return [];
        }
        catch (ExpressionException e)
        {
            var msg = e.Message;
            var suffix = $" ({template}:{e.Line})";
            if (msg.EndsWith(suffix, StringComparison.Ordinal)) msg = msg[..^suffix.Length];
            return [new ExpressionProblem(msg, e.Line, e.Column)];
        }
    }
}

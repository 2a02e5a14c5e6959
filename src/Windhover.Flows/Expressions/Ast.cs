using System.Text;

namespace Windhover.Flows.Expressions;

/// <summary>Marks a value that does not exist (undefined variable or attribute); carries the missing name.</summary>
internal sealed class Undefined(string name)
{
    public string Name { get; } = name;
}

/// <summary>Per-render evaluation state.</summary>
internal sealed class EvalContext
{
    public required ExpressionEngine Engine { get; init; }
    public required IReadOnlyDictionary<string, object?> Variables { get; init; }
    public required IExpressionHost Host { get; init; }
    public required string Source { get; init; }
    public int Depth { get; init; }
    private List<Dictionary<string, object?>>? _scopes;

    public bool TryLookup(string name, out object? value)
    {
        if (_scopes != null)
        {
            for (int i = _scopes.Count - 1; i >= 0; i--)
            {
                if (_scopes[i].TryGetValue(name, out value)) return true;
            }
        }
        if (Variables.TryGetValue(name, out value))
        {
            value = ExpressionValues.Light(value);
            return true;
        }
        return false;
    }

    public void PushScope() => (_scopes ??= []).Add(new Dictionary<string, object?>(StringComparer.Ordinal));

    public void PopScope() => _scopes!.RemoveAt(_scopes.Count - 1);

    public void SetLocal(string name, object? value)
    {
        if (_scopes == null || _scopes.Count == 0) PushScope();
        _scopes![^1][name] = value;
    }

    /// <summary>All visible variables (root plus locals), for render() and printContext().</summary>
    public IReadOnlyDictionary<string, object?> Snapshot()
    {
        if (_scopes == null || _scopes.Count == 0) return Variables;
        var merged = new OrderedDictionary<string, object?>();
        foreach (var kv in Variables) merged[kv.Key] = kv.Value;
        foreach (var scope in _scopes)
            foreach (var kv in scope) merged[kv.Key] = kv.Value;
        return merged;
    }

    public ExpressionException Error(string message, int line, int column, Exception? inner = null) =>
        new($"{message} ({Source}:{line})", Source, line, column, inner);

    public ExpressionException NotFound(string name, int line, int column) =>
        new($"Unable to find `{name}` used in the expression `{Source}` at line {line}", Source, line, column);
}

internal abstract class Expr(int line, int column)
{
    public int Line { get; } = line;
    public int Column { get; } = column;

    public abstract object? Eval(EvalContext c);

    /// <summary>Evaluates, returning an <see cref="Undefined"/> instead of failing when a name/attribute is missing.</summary>
    public virtual object? TryEval(EvalContext c) => Eval(c);
}

internal abstract class Node(int line, int column)
{
    public int Line { get; } = line;
    public int Column { get; } = column;
    public abstract void Render(EvalContext c, StringBuilder sb);
}

internal sealed class TextNode(string text, int line, int column) : Node(line, column)
{
    public string Text { get; } = text;
    public override void Render(EvalContext c, StringBuilder sb) => sb.Append(Text);
}

internal sealed class PrintNode(Expr expr, int line, int column) : Node(line, column)
{
    public Expr Expr { get; } = expr;
    public override void Render(EvalContext c, StringBuilder sb)
    {
        var v = Expr.Eval(c);
        switch (v)
        {
            case null: break;
            case string s: sb.Append(s); break;
            case IReadOnlyDictionary<string, object?> or IReadOnlyList<object?>: ExpressionValues.WriteJson(sb, v); break;
            default: sb.Append(ExpressionValues.ToText(v)); break;
        }
    }
}

internal sealed class BlockNode(IReadOnlyList<Node> nodes, int line, int column) : Node(line, column)
{
    public IReadOnlyList<Node> Nodes { get; } = nodes;
    public override void Render(EvalContext c, StringBuilder sb)
    {
        for (int i = 0; i < Nodes.Count; i++) Nodes[i].Render(c, sb);
    }
}

internal sealed class IfNode(IReadOnlyList<(Expr Condition, BlockNode Body)> branches, BlockNode? elseBody, int line, int column) : Node(line, column)
{
    public override void Render(EvalContext c, StringBuilder sb)
    {
        foreach (var (cond, body) in branches)
        {
            var v = cond.Eval(c);
            bool ok = v switch
            {
                null => throw c.Error("null value given to if statement and strict variables is set to true", cond.Line, cond.Column),
                bool b => b,
                long l => l != 0,
                double d => !double.IsNaN(d) && d != 0,
                string s => s.Length > 0,
                _ => throw c.Error($"Unsupported value type {ExpressionValues.TypeName(v)}. Expected Boolean, String, Number in \"if\" statement", cond.Line, cond.Column),
            };
            if (ok) { body.Render(c, sb); return; }
        }
        elseBody?.Render(c, sb);
    }
}

internal sealed class SetNode(string name, Expr value, int line, int column) : Node(line, column)
{
    public override void Render(EvalContext c, StringBuilder sb) => c.SetLocal(name, value.Eval(c));
}

internal sealed class ForNode(string keyVar, string? valueVar, Expr source, BlockNode body, BlockNode? elseBody, int line, int column) : Node(line, column)
{
    public override void Render(EvalContext c, StringBuilder sb)
    {
        var src = source.Eval(c);
        List<(object? Key, object? Value)> items = [];
        switch (src)
        {
            case null: break;
            case IReadOnlyList<object?> list:
                for (int i = 0; i < list.Count; i++) items.Add(((long)i, ExpressionValues.Light(list[i])));
                break;
            case IReadOnlyDictionary<string, object?> map:
                foreach (var kv in map) items.Add((kv.Key, ExpressionValues.Light(kv.Value)));
                break;
            case string s:
                for (int i = 0; i < s.Length; i++) items.Add(((long)i, s[i].ToString()));
                break;
            default:
                throw c.Error($"Can not iterate over a value of type {ExpressionValues.TypeName(src)}", source.Line, source.Column);
        }
        if (items.Count == 0)
        {
            elseBody?.Render(c, sb);
            return;
        }
        bool isMap = src is IReadOnlyDictionary<string, object?>;
        c.PushScope();
        try
        {
            for (int i = 0; i < items.Count; i++)
            {
                var (k, v) = items[i];
                if (valueVar != null)
                {
                    c.SetLocal(keyVar, k);
                    c.SetLocal(valueVar, v);
                }
                else if (isMap)
                {
                    c.SetLocal(keyVar, new OrderedDictionary<string, object?> { ["key"] = k, ["value"] = v });
                }
                else c.SetLocal(keyVar, v);
                c.SetLocal("loop", new OrderedDictionary<string, object?>
                {
                    ["index"] = (long)i,
                    ["revindex"] = (long)(items.Count - i - 1),
                    ["first"] = i == 0,
                    ["last"] = i == items.Count - 1,
                    ["length"] = (long)items.Count,
                });
                body.Render(c, sb);
            }
        }
        finally
        {
            c.PopScope();
        }
    }
}

/// <summary>A parsed template: nodes plus the single expression when the template is exactly one print tag.</summary>
internal sealed class CompiledTemplate(string source, BlockNode root, Expr? single, string? singleText)
{
    public string Source { get; } = source;
    public BlockNode Root { get; } = root;
    /// <summary>The expression when the template is "{{ expr }}" with only whitespace around it.</summary>
    public Expr? Single { get; } = single;
    /// <summary>The text when the template is a single text node (e.g. only comments removed).</summary>
    public string? SingleText { get; } = singleText;
    /// <summary>True when the template is exactly one print node with no surrounding text.</summary>
    public bool PrintOnly { get; init; }

    /// <summary>When the single expression is a plain path (a.b.c), its segments: evaluated without any allocation.</summary>
    public string[]? FastPath { get; init; }

    /// <summary>Resolves <see cref="FastPath"/> against root variables; false when anything is missing (the slow path then reports it).</summary>
    public bool TryFastPath(IReadOnlyDictionary<string, object?> variables, out object? value)
    {
        var path = FastPath!;
        if (!variables.TryGetValue(path[0], out value)) return false;
        for (int i = 1; i < path.Length; i++)
        {
            value = ExpressionValues.Light(value);
            if (value is not IReadOnlyDictionary<string, object?> map || !map.TryGetValue(path[i], out value)) return false;
        }
        value = ExpressionValues.Light(value);
        return true;
    }

    internal static string[]? PathOf(Expr? e)
    {
        var segments = new List<string>();
        while (e is AttrExpr { Name: { } n } a)
        {
            segments.Insert(0, n);
            e = a.Target;
        }
        if (e is not VarExpr v) return null;
        segments.Insert(0, v.Name);
        return segments.ToArray();
    }
}

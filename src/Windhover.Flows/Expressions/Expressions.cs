using System.Text;

namespace Windhover.Flows.Expressions;

internal sealed class LiteralExpr(object? value, int line, int column) : Expr(line, column)
{
    public object? Value { get; } = value;
    public override object? Eval(EvalContext c) => Value;
}

internal sealed class VarExpr(string name, int line, int column) : Expr(line, column)
{
    public string Name { get; } = name;

    public override object? Eval(EvalContext c)
    {
        if (c.TryLookup(Name, out var v)) return v;
        throw c.NotFound(Name, Line, Column);
    }

    public override object? TryEval(EvalContext c) => c.TryLookup(Name, out var v) ? v : new Undefined(Name);
}

/// <summary>Attribute access: <c>a.b</c>, <c>a[expr]</c>, <c>a.0</c>.</summary>
internal sealed class AttrExpr(Expr target, string? name, Expr? index, int line, int column) : Expr(line, column)
{
    public Expr Target { get; } = target;
    public string? Name { get; } = name;
    public Expr? Index { get; } = index;

    public override object? Eval(EvalContext c)
    {
        var v = TryEval(c);
        if (v is Undefined u) throw c.NotFound(u.Name, Line, Column);
        return v;
    }

    public override object? TryEval(EvalContext c)
    {
        var target = Target.TryEval(c);
        if (target is Undefined) return target;
        object? key = Name ?? Index!.Eval(c);
        switch (target)
        {
            case IReadOnlyDictionary<string, object?> map:
                {
                    var k = key as string ?? ExpressionValues.ToText(key);
                    return map.TryGetValue(k, out var v) ? ExpressionValues.Light(v) : new Undefined(k);
                }
            case IReadOnlyList<object?> list:
                {
                    long idx;
                    if (key is long l) idx = l;
                    else if (key is double d && d == Math.Floor(d)) idx = (long)d;
                    else if (key is string s && long.TryParse(s, out var p)) idx = p;
                    else return new Undefined(ExpressionValues.ToText(key));
                    if (idx < 0 || idx >= list.Count) return new Undefined(ExpressionValues.ToText(key));
                    return ExpressionValues.Light(list[(int)idx]);
                }
            case null:
                return new Undefined(ExpressionValues.ToText(key));
            case string str when key is long sl:
                return sl >= 0 && sl < str.Length ? str[(int)sl].ToString() : new Undefined(ExpressionValues.ToText(key));
            default:
                return new Undefined(ExpressionValues.ToText(key));
        }
    }
}

internal sealed class ListExpr(IReadOnlyList<Expr> items, int line, int column) : Expr(line, column)
{
    public override object? Eval(EvalContext c)
    {
        var list = new List<object?>(items.Count);
        foreach (var e in items) list.Add(e.Eval(c));
        return list;
    }
}

internal sealed class MapExpr(IReadOnlyList<(Expr Key, Expr Value)> entries, int line, int column) : Expr(line, column)
{
    public override object? Eval(EvalContext c)
    {
        var map = new OrderedDictionary<string, object?>();
        foreach (var (k, v) in entries) map[ExpressionValues.ToText(k.Eval(c))] = v.Eval(c);
        return map;
    }
}

/// <summary>Double-quoted string with <c>#{...}</c> interpolation.</summary>
internal sealed class InterpolationExpr(IReadOnlyList<Expr> parts, int line, int column) : Expr(line, column)
{
    public override object? Eval(EvalContext c)
    {
        var sb = new StringBuilder();
        foreach (var p in parts) sb.Append(ExpressionValues.ToText(p.Eval(c)));
        return sb.ToString();
    }
}

internal sealed class TernaryExpr(Expr cond, Expr then, Expr otherwise, int line, int column) : Expr(line, column)
{
    public override object? Eval(EvalContext c) =>
        Operators.ToBool(cond.Eval(c), "ternary", c, this) ? then.Eval(c) : otherwise.Eval(c);
}

/// <summary><c>??</c> (undefined or null → right) and <c>???</c> (only undefined → right).</summary>
internal sealed class CoalesceExpr(Expr left, Expr right, bool nullToo, int line, int column) : Expr(line, column)
{
    public override object? Eval(EvalContext c)
    {
        var v = left.TryEval(c);
        if (v is Undefined || (nullToo && v is null)) return right.Eval(c);
        return v;
    }

    public override object? TryEval(EvalContext c)
    {
        var v = left.TryEval(c);
        if (v is Undefined || (nullToo && v is null)) return right.TryEval(c);
        return v;
    }
}

internal enum BinaryOp { Add, Sub, Mul, Div, Mod, Concat, Eq, Ne, Lt, Gt, Le, Ge, Contains, In, NotIn, Range }

internal sealed class BinaryExpr(BinaryOp op, Expr left, Expr right, int line, int column) : Expr(line, column)
{
    public override object? Eval(EvalContext c)
    {
        var l = left.Eval(c);
        var r = right.Eval(c);
        try
        {
            return op switch
            {
                BinaryOp.Add => Operators.Add(l, r),
                BinaryOp.Sub => Operators.Subtract(l, r),
                BinaryOp.Mul => Operators.Arith(l, r, BinaryOp.Mul),
                BinaryOp.Div => Operators.Arith(l, r, BinaryOp.Div),
                BinaryOp.Mod => Operators.Arith(l, r, BinaryOp.Mod),
                BinaryOp.Concat => ExpressionValues.ToText(l) + ExpressionValues.ToText(r),
                BinaryOp.Eq => Operators.AreEqual(l, r),
                BinaryOp.Ne => !Operators.AreEqual(l, r),
                BinaryOp.Lt => Operators.Compare(l, r, "LESS_THAN", x => x < 0),
                BinaryOp.Gt => Operators.Compare(l, r, "GREATER_THAN", x => x > 0),
                BinaryOp.Le => Operators.Compare(l, r, "LESS_THAN_EQUALS", x => x <= 0),
                BinaryOp.Ge => Operators.Compare(l, r, "GREATER_THAN_EQUALS", x => x >= 0),
                BinaryOp.Contains => Operators.Contains(l, r),
                BinaryOp.In => Operators.In(l, r),
                BinaryOp.NotIn => !Operators.In(l, r),
                BinaryOp.Range => Operators.Range(l, r, 1L),
                _ => throw new InvalidOperationException(op.ToString()),
            };
        }
        catch (ExpressionException e) when (e.Template == null)
        {
            throw c.Error(e.Message, Line, Column, e);
        }
        catch (Exception e) when (e is DivideByZeroException or OverflowException or InvalidCastException or ArgumentException)
        {
            throw c.Error(e is DivideByZeroException ? "/ by zero" : e.Message, Line, Column, e);
        }
    }
}

internal sealed class AndOrExpr(bool isAnd, Expr left, Expr right, int line, int column) : Expr(line, column)
{
    public override object? Eval(EvalContext c)
    {
        var name = isAnd ? "and" : "or";
        var l = Operators.ToBool(left.Eval(c), name, c, left);
        if (isAnd ? !l : l) return l;
        return Operators.ToBool(right.Eval(c), name, c, right);
    }
}

internal sealed class NotExpr(Expr operand, int line, int column) : Expr(line, column)
{
    public override object? Eval(EvalContext c) => !Operators.ToBool(operand.Eval(c), "not", c, operand);
}

internal sealed class NegateExpr(Expr operand, bool minus, int line, int column) : Expr(line, column)
{
    public override object? Eval(EvalContext c)
    {
        var v = operand.Eval(c);
        try
        {
            return Operators.Arith(minus ? -1L : 1L, v, BinaryOp.Mul);
        }
        catch (ExpressionException e) when (e.Template == null)
        {
            throw c.Error(e.Message, Line, Column, e);
        }
    }
}

internal sealed class TestExpr(Expr input, string test, bool negate, int line, int column) : Expr(line, column)
{
    public override object? Eval(EvalContext c)
    {
        bool result;
        if (test == "defined")
        {
            var v = input.TryEval(c);
            result = v is not Undefined;
        }
        else
        {
            var v = input.Eval(c);
            result = test switch
            {
                "null" or "none" => v is null,
                "empty" => v switch
                {
                    null => true,
                    string s => s.Trim().Length == 0,
                    IReadOnlyList<object?> l => l.Count == 0,
                    IReadOnlyDictionary<string, object?> m => m.Count == 0,
                    _ => false,
                },
                "even" or "odd" => v switch
                {
                    long l => (l % 2 == 0) == (test == "even"),
                    double d => (d % 2 == 0) == (test == "even"),
                    null => throw c.Error($"Can not perform {(test == "even" ? "Even" : "Odd")} test on null", Line, Column),
                    _ => throw c.Error($"Can not perform {(test == "even" ? "Even" : "Odd")} test on a {ExpressionValues.TypeName(v)}", Line, Column),
                },
                "iterable" => v is IReadOnlyList<object?> or IReadOnlyDictionary<string, object?>,
                "map" => v is IReadOnlyDictionary<string, object?>,
                "json" => v is string js && Builtins.IsJson(js),
                _ => throw c.Error($"Wrong test [{test}]", Line, Column),
            };
        }
        return negate ? !result : result;
    }
}

/// <summary>Function or filter call with arguments resolved to parameter slots at parse time.</summary>
internal sealed class CallExpr(CallableDefinition def, Expr? input, Expr?[] args, bool isFilter, int line, int column) : Expr(line, column)
{
    public CallableDefinition Definition => def;

    public override object? Eval(EvalContext c)
    {
        object? inputValue = null;
        if (input != null)
        {
            if (def.AcceptsUndefinedInput)
            {
                inputValue = input.TryEval(c);
                if (inputValue is Undefined) inputValue = null;
            }
            else inputValue = input.Eval(c);
        }
        var values = new object?[args.Length];
        for (int i = 0; i < args.Length; i++)
        {
            var a = args[i];
            if (a == null) { values[i] = ExpressionCall.Missing; continue; }
            if (def.AcceptsUndefinedArguments)
            {
                var v = a.TryEval(c);
                values[i] = v is Undefined ? null : v;
            }
            else values[i] = a.Eval(c);
        }
        var call = new ExpressionCall(def, inputValue, values, c, Line);
        try
        {
            return ExpressionValues.Light(def.Invoke(call));
        }
        catch (ExpressionException e) when (e.Template == null || e.Template != c.Source && e.Line == 0)
        {
            throw c.Error(e.Message, Line, Column, e);
        }
        catch (ExpressionException)
        {
            throw;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            var what = isFilter ? "filter" : "function";
            throw c.Error($"The '{def.Name}' {what} failed: {e.Message}", Line, Column, e);
        }
    }
}

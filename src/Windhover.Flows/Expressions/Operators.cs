using System.Globalization;

namespace Windhover.Flows.Expressions;

/// <summary>Pebble's OperatorUtils semantics over the value model.</summary>
internal static class Operators
{
    public static bool ToBool(object? v, string op, EvalContext c, Expr at) => v switch
    {
        bool b => b,
        long l => l != 0,
        double d => !double.IsNaN(d) && d != 0,
        string s => s.Length > 0,
        null => throw c.Error($"null value used in {op} operator and strict variables is set to true", at.Line, at.Column),
        _ => throw c.Error($"Wrong operand(s) type in {op} operator: {ExpressionValues.TypeName(v)}", at.Line, at.Column),
    };

    public static object? Add(object? a, object? b)
    {
        if (a is string || b is string) return JavaString(a) + JavaString(b);
        if (a is IReadOnlyList<object?> list)
        {
            var result = new List<object?>(list);
            if (b is IReadOnlyList<object?> other) result.AddRange(other);
            else result.Add(b);
            return result;
        }
        return Arith(a, b, BinaryOp.Add);
    }

    public static object? Subtract(object? a, object? b)
    {
        if (a is IReadOnlyList<object?> list)
        {
            var result = new List<object?>(list);
            if (b is IReadOnlyList<object?> other) result.RemoveAll(x => other.Any(o => AreEqual(x, o)));
            else
            {
                int i = result.FindIndex(x => AreEqual(x, b));
                if (i >= 0) result.RemoveAt(i);
            }
            return result;
        }
        return Arith(a, b, BinaryOp.Sub);
    }

    /// <summary>String.valueOf semantics: null prints "null".</summary>
    private static string JavaString(object? v) => v is null ? "null" : ExpressionValues.ToText(v);

    private static string OpName(BinaryOp op) => op switch
    {
        BinaryOp.Add => "ADD",
        BinaryOp.Sub => "SUBTRACT",
        BinaryOp.Mul => "MULTIPLICATION",
        BinaryOp.Div => "DIVISION",
        _ => "MODULUS",
    };

    public static object Arith(object? a, object? b, BinaryOp op)
    {
        if (a is double || b is double)
        {
            if (!IsNumber(a) || !IsNumber(b)) throw new ExpressionException($"invalid operands for mathematical operation [{OpName(op)}]");
            double x = ToDouble(a), y = ToDouble(b);
            return op switch
            {
                BinaryOp.Add => x + y,
                BinaryOp.Sub => x - y,
                BinaryOp.Mul => x * y,
                BinaryOp.Div => x / y,
                _ => x % y,
            };
        }
        if (a is long l && b is long r)
        {
            return op switch
            {
                BinaryOp.Add => unchecked(l + r),
                BinaryOp.Sub => unchecked(l - r),
                BinaryOp.Mul => unchecked(l * r),
                BinaryOp.Div => r == 0 ? throw new ExpressionException("/ by zero") : l / r,
                _ => r == 0 ? throw new ExpressionException("/ by zero") : l % r,
            };
        }
        throw new ExpressionException($"invalid operands for mathematical operation [{OpName(op)}]");
    }

    public static bool IsNumber(object? v) => v is long or double;

    public static double ToDouble(object? v) => v switch
    {
        long l => l,
        double d => d,
        _ => throw new ExpressionException($"Expected a number but got {ExpressionValues.TypeName(v)}"),
    };

    public static bool AreEqual(object? a, object? b)
    {
        if (a is null || b is null) return a is null && b is null;
        if (IsNumber(a) && IsNumber(b))
        {
            if (a is long x && b is long y) return x == y;
            return ToDouble(a) == ToDouble(b);
        }
        switch (a)
        {
            case string s: return b is string t && string.Equals(s, t, StringComparison.Ordinal);
            case bool p: return b is bool q && p == q;
            case DateTimeOffset d: return b is DateTimeOffset e && d == e;
            case IReadOnlyList<object?> la:
                {
                    if (b is not IReadOnlyList<object?> lb || la.Count != lb.Count) return false;
                    for (int i = 0; i < la.Count; i++)
                        if (!AreEqual(ExpressionValues.Light(la[i]), ExpressionValues.Light(lb[i]))) return false;
                    return true;
                }
            case IReadOnlyDictionary<string, object?> ma:
                {
                    if (b is not IReadOnlyDictionary<string, object?> mb || ma.Count != mb.Count) return false;
                    foreach (var kv in ma)
                    {
                        if (!mb.TryGetValue(kv.Key, out var other)) return false;
                        if (!AreEqual(ExpressionValues.Light(kv.Value), ExpressionValues.Light(other))) return false;
                    }
                    return true;
                }
            default: return a.Equals(b);
        }
    }

    public static bool Compare(object? a, object? b, string name, Func<int, bool> test)
    {
        if (a is string s && b is string t) return test(string.CompareOrdinal(s, t));
        if (a is null || b is null) return false;
        if (a is DateTimeOffset d1 && b is DateTimeOffset d2) return test(d1.CompareTo(d2));
        if (!IsNumber(a) || !IsNumber(b)) throw new ExpressionException($"invalid operands for mathematical comparison [{name}]");
        if (a is long x && b is long y) return test(x.CompareTo(y));
        return test(ToDouble(a).CompareTo(ToDouble(b)));
    }

    public static bool Contains(object? container, object? item)
    {
        switch (container)
        {
            case null: return false;
            case string s: return item != null && s.Contains(ExpressionValues.ToText(item), StringComparison.Ordinal);
            case IReadOnlyDictionary<string, object?> map:
                if (item is IReadOnlyList<object?> keys) return keys.All(k => map.ContainsKey(ExpressionValues.ToText(k)));
                return map.ContainsKey(ExpressionValues.ToText(item));
            case IReadOnlyList<object?> list:
                if (item is IReadOnlyList<object?> all) return all.All(x => list.Any(y => AreEqual(ExpressionValues.Light(y), ExpressionValues.Light(x))));
                return list.Any(y => AreEqual(ExpressionValues.Light(y), item));
            default:
                throw new ExpressionException($"Contains operator can only be used on Collections, Maps and Strings. Actual type was: {ExpressionValues.TypeName(container)}");
        }
    }

    /// <summary>Kestra's <c>in</c>: compares string forms against list items, or map keys/values.</summary>
    public static bool In(object? item, object? container)
    {
        if (item is null || container is null) return false;
        var text = ExpressionValues.ToText(item);
        switch (container)
        {
            case IReadOnlyList<object?> list:
                foreach (var x in list) if (ExpressionValues.ToText(ExpressionValues.Light(x)) == text) return true;
                return false;
            case IReadOnlyDictionary<string, object?> map:
                foreach (var kv in map) if (kv.Key == text || ExpressionValues.ToText(ExpressionValues.Light(kv.Value)) == text) return true;
                return false;
            default: return false;
        }
    }

    public static List<object?> Range(object? start, object? end, object? step)
    {
        if (start is string a && end is string b && a.Length == 1 && b.Length == 1)
        {
            var chars = new List<object?>();
            long st = step is long sl ? sl : 1;
            if (st == 0) throw new ExpressionException("The step of a range can not be 0");
            if (st > 0) for (int ch = a[0]; ch <= b[0]; ch += (int)st) chars.Add(((char)ch).ToString());
            else for (int ch = a[0]; ch >= b[0]; ch += (int)st) chars.Add(((char)ch).ToString());
            return chars;
        }
        if (start is not long s || end is not long e)
        {
            if (IsNumber(start) && IsNumber(end))
            {
                s = (long)ToDouble(start);
                e = (long)ToDouble(end);
            }
            else throw new ExpressionException("Range bounds must be numbers");
        }
        long stp = step switch { long l => l, double d => (long)d, null => 1, _ => throw new ExpressionException("Range step must be a number") };
        if (stp == 0) throw new ExpressionException("The step of a range can not be 0");
        var list = new List<object?>();
        if (stp > 0) for (long i = s; i <= e; i += stp) list.Add(i);
        else for (long i = s; i >= e; i += stp) list.Add(i);
        return list;
    }

    internal static string Invariant(double d) => d.ToString(CultureInfo.InvariantCulture);
}

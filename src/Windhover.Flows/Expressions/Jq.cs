using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace Windhover.Flows.Expressions;

/// <summary>
/// A jq subset: paths (.a.b, .[0], .[], .[1:3], optional ?), pipes, commas, literals, array/object construction,
/// arithmetic, comparisons, and/or, //, if-then-elif-else-end, and common builtins
/// (length, keys, values, select, map, add, has, type, not, sort, sort_by, unique, reverse, min, max, join, first, last,
/// to_entries, from_entries, flatten, tostring, tonumber, ascii_downcase, ascii_upcase, split, startswith, endswith,
/// ltrimstr, rtrimstr, contains, tojson, fromjson, range, floor, empty, any, all, group_by, unique_by, min_by, max_by).
/// Results are returned as a list, like Kestra's jq filter.
/// </summary>
internal static class Jq
{
    private static readonly ConcurrentDictionary<string, JqNode> Cache = new(StringComparer.Ordinal);

    public static List<object?> Run(string expression, object? input)
    {
        var node = Cache.GetOrAdd(expression, e => new JqParser(e).ParseProgram());
        if (Cache.Count > 1000) Cache.Clear();
        try
        {
            return node.Eval(input).ToList();
        }
        catch (JqError e)
        {
            throw new ExpressionException($"Failed to resolve JQ expression '{expression}' and value '{ExpressionValues.ToText(input)}': {e.Message}");
        }
    }

    internal sealed class JqError(string message) : Exception(message);

    internal abstract class JqNode
    {
        public abstract IEnumerable<object?> Eval(object? input);
    }

    private sealed class Identity : JqNode
    {
        public override IEnumerable<object?> Eval(object? input) { yield return input; }
    }

    private sealed class Literal(object? value) : JqNode
    {
        public override IEnumerable<object?> Eval(object? input) { yield return value; }
    }

    private sealed class Field(JqNode target, string name, bool optional) : JqNode
    {
        public override IEnumerable<object?> Eval(object? input)
        {
            foreach (var t in target.Eval(input))
            {
                switch (ExpressionValues.Light(t))
                {
                    case null: yield return null; break;
                    case IReadOnlyDictionary<string, object?> m: yield return m.TryGetValue(name, out var v) ? ExpressionValues.Light(v) : null; break;
                    case var o:
                        if (!optional) throw new JqError($"Cannot index {JqType(o)} with \"{name}\"");
                        break;
                }
            }
        }
    }

    private sealed class IndexNode(JqNode target, JqNode index, bool optional) : JqNode
    {
        public override IEnumerable<object?> Eval(object? input)
        {
            foreach (var t in target.Eval(input))
            {
                foreach (var i in index.Eval(input))
                {
                    var tv = ExpressionValues.Light(t);
                    switch (tv, i)
                    {
                        case (null, _): yield return null; break;
                        case (IReadOnlyList<object?> l, long n):
                            {
                                var k = n < 0 ? l.Count + n : n;
                                yield return k >= 0 && k < l.Count ? ExpressionValues.Light(l[(int)k]) : null;
                                break;
                            }
                        case (IReadOnlyList<object?> l2, double dn):
                            {
                                var k = (long)Math.Floor(dn);
                                if (k < 0) k += l2.Count;
                                yield return k >= 0 && k < l2.Count ? ExpressionValues.Light(l2[(int)k]) : null;
                                break;
                            }
                        case (IReadOnlyDictionary<string, object?> m, string s):
                            yield return m.TryGetValue(s, out var v) ? ExpressionValues.Light(v) : null;
                            break;
                        default:
                            if (!optional) throw new JqError($"Cannot index {JqType(tv)} with {JqType(i)}");
                            break;
                    }
                }
            }
        }
    }

    private sealed class SliceNode(JqNode target, JqNode? from, JqNode? to) : JqNode
    {
        public override IEnumerable<object?> Eval(object? input)
        {
            foreach (var t in target.Eval(input))
            {
                var tv = ExpressionValues.Light(t);
                int len = tv switch { IReadOnlyList<object?> l => l.Count, string s => s.Length, null => 0, _ => throw new JqError($"Cannot index {JqType(tv)} with object") };
                if (tv is null) { yield return null; continue; }
                long f = from == null ? 0 : (long)Operators.ToDouble(from.Eval(input).First());
                long e = to == null ? len : (long)Operators.ToDouble(to.Eval(input).First());
                if (f < 0) f = Math.Max(0, len + f);
                if (e < 0) e = Math.Max(0, len + e);
                f = Math.Min(f, len); e = Math.Min(e, len);
                if (e < f) e = f;
                yield return tv is string str ? str[(int)f..(int)e] : ((IReadOnlyList<object?>)tv).Skip((int)f).Take((int)(e - f)).ToList();
            }
        }
    }

    private sealed class Iterate(JqNode target, bool optional) : JqNode
    {
        public override IEnumerable<object?> Eval(object? input)
        {
            foreach (var t in target.Eval(input))
            {
                switch (ExpressionValues.Light(t))
                {
                    case IReadOnlyList<object?> l: foreach (var x in l) yield return ExpressionValues.Light(x); break;
                    case IReadOnlyDictionary<string, object?> m: foreach (var kv in m) yield return ExpressionValues.Light(kv.Value); break;
                    case var o:
                        if (!optional) throw new JqError($"Cannot iterate over {JqType(o)}");
                        break;
                }
            }
        }
    }

    private sealed class Pipe(JqNode left, JqNode right) : JqNode
    {
        public override IEnumerable<object?> Eval(object? input)
        {
            foreach (var l in left.Eval(input))
                foreach (var r in right.Eval(l))
                    yield return r;
        }
    }

    private sealed class Comma(JqNode left, JqNode right) : JqNode
    {
        public override IEnumerable<object?> Eval(object? input) => left.Eval(input).Concat(right.Eval(input));
    }

    private sealed class ArrayCons(JqNode? body) : JqNode
    {
        public override IEnumerable<object?> Eval(object? input) { yield return body == null ? new List<object?>() : body.Eval(input).ToList(); }
    }

    private sealed class ObjectCons(List<(JqNode Key, JqNode Value)> entries) : JqNode
    {
        public override IEnumerable<object?> Eval(object? input)
        {
            IEnumerable<OrderedDictionary<string, object?>> acc = [new OrderedDictionary<string, object?>()];
            foreach (var (k, v) in entries)
            {
                var (kk, vv) = (k, v);
                acc = acc.SelectMany(m => kk.Eval(input).SelectMany(key => vv.Eval(input).Select(val =>
                {
                    var copy = new OrderedDictionary<string, object?>();
                    foreach (var e in m) copy[e.Key] = e.Value;
                    if (key is not string ks) throw new JqError($"Object keys must be strings");
                    copy[ks] = val;
                    return copy;
                })));
            }
            return acc.Cast<object?>();
        }
    }

    private sealed class Binary(string op, JqNode left, JqNode right) : JqNode
    {
        public override IEnumerable<object?> Eval(object? input)
        {
            if (op == "and" || op == "or")
            {
                foreach (var l in left.Eval(input))
                {
                    bool lb = Truthy(l);
                    if (op == "and" && !lb) { yield return false; continue; }
                    if (op == "or" && lb) { yield return true; continue; }
                    foreach (var r in right.Eval(input)) yield return Truthy(r);
                }
                yield break;
            }
            if (op == "//")
            {
                var good = left.Eval(input).Where(Truthy).ToList();
                if (good.Count > 0) { foreach (var g in good) yield return g; }
                else foreach (var r in right.Eval(input)) yield return r;
                yield break;
            }
            foreach (var r in right.Eval(input))
                foreach (var l in left.Eval(input))
                    yield return Apply(op, l, r);
        }

        private static object? Apply(string op, object? a, object? b)
        {
            switch (op)
            {
                case "==": return Compare(a, b) == 0;
                case "!=": return Compare(a, b) != 0;
                case "<": return Compare(a, b) < 0;
                case "<=": return Compare(a, b) <= 0;
                case ">": return Compare(a, b) > 0;
                case ">=": return Compare(a, b) >= 0;
                case "+":
                    if (a is null) return b;
                    if (b is null) return a;
                    if (a is string s1 && b is string s2) return s1 + s2;
                    if (a is IReadOnlyList<object?> l1 && b is IReadOnlyList<object?> l2) return l1.Concat(l2).ToList();
                    if (a is IReadOnlyDictionary<string, object?> m1 && b is IReadOnlyDictionary<string, object?> m2)
                    {
                        var m = new OrderedDictionary<string, object?>();
                        foreach (var kv in m1) m[kv.Key] = kv.Value;
                        foreach (var kv in m2) m[kv.Key] = kv.Value;
                        return m;
                    }
                    return Num(a, b, op);
                case "-":
                    if (a is IReadOnlyList<object?> la && b is IReadOnlyList<object?> lb) return la.Where(x => !lb.Any(y => Compare(x, y) == 0)).ToList();
                    return Num(a, b, op);
                default: return Num(a, b, op);
            }
        }

        private static object Num(object? a, object? b, string op)
        {
            if (!Operators.IsNumber(a) || !Operators.IsNumber(b))
                throw new JqError($"{JqType(a)} and {JqType(b)} cannot be {(op == "+" ? "added" : op == "-" ? "subtracted" : op == "*" ? "multiplied" : "divided")}");
            if (op == "/" && Operators.ToDouble(b) == 0) throw new JqError("cannot be divided because the divisor is zero");
            if (a is long x && b is long y && op != "/") return op switch { "+" => x + y, "-" => x - y, "*" => x * y, _ => x % y };
            double dx = Operators.ToDouble(a), dy = Operators.ToDouble(b);
            double r = op switch { "+" => dx + dy, "-" => dx - dy, "*" => dx * dy, "/" => dx / dy, _ => (long)dx % (long)dy };
            return NumberResult(r);
        }
    }

    private static object NumberResult(double r) => r == Math.Floor(r) && Math.Abs(r) < 1e15 ? (object)(long)r : r;

    private sealed class IfNode(List<(JqNode Cond, JqNode Then)> branches, JqNode? otherwise) : JqNode
    {
        public override IEnumerable<object?> Eval(object? input) => EvalFrom(0, input);

        private IEnumerable<object?> EvalFrom(int i, object? input)
        {
            if (i >= branches.Count)
            {
                foreach (var r in otherwise?.Eval(input) ?? [input]) yield return r;
                yield break;
            }
            foreach (var c in branches[i].Cond.Eval(input))
            {
                var results = Truthy(c) ? branches[i].Then.Eval(input) : EvalFrom(i + 1, input);
                foreach (var r in results) yield return r;
            }
        }
    }

    private sealed class Neg(JqNode operand) : JqNode
    {
        public override IEnumerable<object?> Eval(object? input) =>
            operand.Eval(input).Select(v => v switch { long l => (object?)(-l), double d => -d, _ => throw new JqError($"{JqType(v)} cannot be negated") });
    }

    private sealed class Call(string name, List<JqNode> args) : JqNode
    {
        public override IEnumerable<object?> Eval(object? input)
        {
            input = ExpressionValues.Light(input);
            switch (name, args.Count)
            {
                case ("empty", 0): yield break;
                case ("not", 0): yield return !Truthy(input); yield break;
                case ("length", 0):
                    yield return input switch
                    {
                        null => (object)0L,
                        string s => (long)s.Length,
                        IReadOnlyList<object?> l => (long)l.Count,
                        IReadOnlyDictionary<string, object?> m => (long)m.Count,
                        long n => Math.Abs(n),
                        double d => (object)Math.Abs(d),
                        bool => throw new JqError("boolean has no length"),
                        _ => 0L,
                    };
                    yield break;
                case ("keys" or "keys_unsorted", 0):
                    yield return input switch
                    {
                        IReadOnlyDictionary<string, object?> m => (name == "keys" ? m.Keys.OrderBy(k => k, StringComparer.Ordinal) : m.Keys.AsEnumerable()).Select(k => (object?)k).ToList(),
                        IReadOnlyList<object?> l => Enumerable.Range(0, l.Count).Select(i => (object?)(long)i).ToList(),
                        _ => throw new JqError($"{JqType(input)} has no keys"),
                    };
                    yield break;
                case ("values", 0):
                    if (input is not null) yield return input;
                    yield break;
                case ("select", 1):
                    foreach (var c in args[0].Eval(input)) if (Truthy(c)) yield return input;
                    yield break;
                case ("map", 1):
                    {
                        var list = new List<object?>();
                        foreach (var x in Items(input)) list.AddRange(args[0].Eval(x));
                        yield return list;
                        yield break;
                    }
                case ("map_values", 1):
                    if (input is IReadOnlyDictionary<string, object?> mv)
                    {
                        var r = new OrderedDictionary<string, object?>();
                        foreach (var kv in mv) { var v = args[0].Eval(ExpressionValues.Light(kv.Value)).FirstOrDefault(); r[kv.Key] = v; }
                        yield return r;
                    }
                    else yield return Items(input).Select(x => args[0].Eval(x).FirstOrDefault()).ToList();
                    yield break;
                case ("add", 0):
                    {
                        object? acc = null;
                        foreach (var x in Items(input)) acc = acc is null ? x : new Binary("+", new Literal(acc), new Literal(x)).Eval(null).First();
                        yield return acc;
                        yield break;
                    }
                case ("has", 1):
                    foreach (var k in args[0].Eval(input))
                        yield return input switch
                        {
                            IReadOnlyDictionary<string, object?> m => m.ContainsKey(ExpressionValues.ToText(k)),
                            IReadOnlyList<object?> l => k is long i && i >= 0 && i < l.Count,
                            _ => throw new JqError($"Cannot check whether {JqType(input)} has a key"),
                        };
                    yield break;
                case ("type", 0): yield return JqType(input); yield break;
                case ("sort", 0): yield return Items(input).OrderBy(x => x, Comparer<object?>.Create(Compare)).ToList(); yield break;
                case ("sort_by", 1): yield return Items(input).OrderBy(x => args[0].Eval(x).ToList(), Comparer<object?>.Create(Compare)).ToList(); yield break;
                case ("group_by", 1):
                    {
                        var groups = new List<(object? Key, List<object?> Items)>();
                        foreach (var x in Items(input).OrderBy(x => args[0].Eval(x).ToList(), Comparer<object?>.Create(Compare)))
                        {
                            var key = args[0].Eval(x).ToList();
                            if (groups.Count > 0 && Compare(groups[^1].Key, key) == 0) groups[^1].Items.Add(x);
                            else groups.Add((key, [x]));
                        }
                        yield return groups.Select(g => (object?)g.Items).ToList();
                        yield break;
                    }
                case ("unique", 0):
                    {
                        var sorted = Items(input).OrderBy(x => x, Comparer<object?>.Create(Compare)).ToList();
                        var result = new List<object?>();
                        foreach (var x in sorted) if (result.Count == 0 || Compare(result[^1], x) != 0) result.Add(x);
                        yield return result;
                        yield break;
                    }
                case ("unique_by", 1):
                    {
                        var result = new List<object?>();
                        var keys = new List<object?>();
                        foreach (var x in Items(input).OrderBy(x => args[0].Eval(x).ToList(), Comparer<object?>.Create(Compare)))
                        {
                            var key = args[0].Eval(x).ToList();
                            if (keys.Count == 0 || Compare(keys[^1], key) != 0) { keys.Add(key); result.Add(x); }
                        }
                        yield return result;
                        yield break;
                    }
                case ("min" or "max", 0):
                    {
                        var items = Items(input).ToList();
                        if (items.Count == 0) { yield return null; yield break; }
                        var sorted = items.OrderBy(x => x, Comparer<object?>.Create(Compare)).ToList();
                        yield return name == "min" ? sorted[0] : sorted[^1];
                        yield break;
                    }
                case ("min_by" or "max_by", 1):
                    {
                        var items = Items(input).ToList();
                        if (items.Count == 0) { yield return null; yield break; }
                        var sorted = items.OrderBy(x => args[0].Eval(x).ToList(), Comparer<object?>.Create(Compare)).ToList();
                        yield return name == "min_by" ? sorted[0] : sorted[^1];
                        yield break;
                    }
                case ("reverse", 0):
                    yield return input is string rs ? new string(rs.Reverse().ToArray()) : Items(input).Reverse().ToList();
                    yield break;
                case ("first", 0): yield return Items(input).FirstOrDefault(); yield break;
                case ("last", 0): yield return Items(input).LastOrDefault(); yield break;
                case ("first", 1): foreach (var x in args[0].Eval(input).Take(1)) yield return x; yield break;
                case ("last", 1): { var all = args[0].Eval(input).ToList(); if (all.Count > 0) yield return all[^1]; yield break; }
                case ("join", 1):
                    foreach (var sep in args[0].Eval(input))
                        yield return string.Join(ExpressionValues.ToText(sep), Items(input).Select(x => x is null ? "" : ExpressionValues.ToText(x)));
                    yield break;
                case ("to_entries", 0):
                    if (input is not IReadOnlyDictionary<string, object?> te) throw new JqError($"{JqType(input)} has no keys");
                    yield return te.Select(kv => (object?)new OrderedDictionary<string, object?> { ["key"] = kv.Key, ["value"] = ExpressionValues.Light(kv.Value) }).ToList();
                    yield break;
                case ("from_entries", 0):
                    {
                        var r = new OrderedDictionary<string, object?>();
                        foreach (var e in Items(input))
                        {
                            if (e is not IReadOnlyDictionary<string, object?> em) throw new JqError("Cannot use from_entries on non-objects");
                            var k = em.TryGetValue("key", out var kk) ? kk : em.TryGetValue("name", out var nn) ? nn : em.TryGetValue("k", out var k2) ? k2 : null;
                            var v = em.TryGetValue("value", out var vv) ? vv : em.TryGetValue("v", out var v2) ? v2 : null;
                            r[ExpressionValues.ToText(ExpressionValues.Light(k))] = ExpressionValues.Light(v);
                        }
                        yield return r;
                        yield break;
                    }
                case ("flatten", 0): yield return Flatten(Items(input), int.MaxValue); yield break;
                case ("flatten", 1): foreach (var dpt in args[0].Eval(input)) yield return Flatten(Items(input), (int)Operators.ToDouble(dpt)); yield break;
                case ("tostring", 0): yield return input is string ? input : ExpressionValues.ToJson(input); yield break;
                case ("tojson", 0): yield return ExpressionValues.ToJson(input); yield break;
                case ("fromjson", 0): yield return ExpressionValues.FromJson(ExpressionValues.ToText(input)); yield break;
                case ("tonumber", 0):
                    yield return input switch
                    {
                        long or double => input,
                        string s when long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) => l,
                        string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
                        _ => throw new JqError($"Cannot parse {ExpressionValues.ToJson(input)} as a number"),
                    };
                    yield break;
                case ("ascii_downcase", 0): yield return Str(input).ToLowerInvariant(); yield break;
                case ("ascii_upcase", 0): yield return Str(input).ToUpperInvariant(); yield break;
                case ("split", 1):
                    foreach (var sep in args[0].Eval(input)) yield return Str(input).Split(Str(sep)).Select(x => (object?)x).ToList();
                    yield break;
                case ("startswith", 1): foreach (var p in args[0].Eval(input)) yield return Str(input).StartsWith(Str(p), StringComparison.Ordinal); yield break;
                case ("endswith", 1): foreach (var p in args[0].Eval(input)) yield return Str(input).EndsWith(Str(p), StringComparison.Ordinal); yield break;
                case ("ltrimstr", 1): foreach (var p in args[0].Eval(input)) yield return input is string ls && p is string lp && ls.StartsWith(lp, StringComparison.Ordinal) ? ls[lp.Length..] : input; yield break;
                case ("rtrimstr", 1): foreach (var p in args[0].Eval(input)) yield return input is string rs2 && p is string rp && rs2.EndsWith(rp, StringComparison.Ordinal) ? rs2[..^rp.Length] : input; yield break;
                case ("contains", 1): foreach (var p in args[0].Eval(input)) yield return JqContains(input, ExpressionValues.Light(p)); yield break;
                case ("test", 1): foreach (var p in args[0].Eval(input)) yield return System.Text.RegularExpressions.Regex.IsMatch(Str(input), Str(p)); yield break;
                case ("range", 1): foreach (var n in args[0].Eval(input)) for (long i = 0; i < Operators.ToDouble(n); i++) yield return i; yield break;
                case ("range", 2):
                    foreach (var a in args[0].Eval(input))
                        foreach (var b in args[1].Eval(input))
                            for (long i = (long)Operators.ToDouble(a); i < Operators.ToDouble(b); i++) yield return i;
                    yield break;
                case ("floor", 0): yield return NumberResult(Math.Floor(Operators.ToDouble(input))); yield break;
                case ("ceil", 0): yield return NumberResult(Math.Ceiling(Operators.ToDouble(input))); yield break;
                case ("round", 0): yield return NumberResult(Math.Round(Operators.ToDouble(input), MidpointRounding.AwayFromZero)); yield break;
                case ("sqrt", 0): yield return NumberResult(Math.Sqrt(Operators.ToDouble(input))); yield break;
                case ("any", 0): yield return Items(input).Any(Truthy); yield break;
                case ("all", 0): yield return Items(input).All(Truthy); yield break;
                case ("any", 1): yield return Items(input).Any(x => args[0].Eval(x).Any(Truthy)); yield break;
                case ("all", 1): yield return Items(input).All(x => args[0].Eval(x).All(Truthy)); yield break;
                case ("tostream" or "paths", 0): throw new JqError($"{name} is not supported");
                case ("ascii", 0): yield return ((char)(long)Operators.ToDouble(input)).ToString(); yield break;
                case ("utf8bytelength", 0): yield return (long)Encoding.UTF8.GetByteCount(Str(input)); yield break;
                case ("null", 0): yield return null; yield break;
                default: throw new JqError($"{name}/{args.Count} is not defined");
            }
        }

        private static string Str(object? v) => v as string ?? throw new JqError($"{JqType(v)} ({ExpressionValues.ToJson(v)}) is not a string");

        private static List<object?> Flatten(IEnumerable<object?> items, int depth)
        {
            var result = new List<object?>();
            foreach (var x in items)
            {
                if (depth > 0 && ExpressionValues.Light(x) is IReadOnlyList<object?> inner) result.AddRange(Flatten(inner, depth - 1));
                else result.Add(x);
            }
            return result;
        }
    }

    private static bool JqContains(object? a, object? b) => (a, b) switch
    {
        (string s, string t) => s.Contains(t, StringComparison.Ordinal),
        (IReadOnlyList<object?> l, IReadOnlyList<object?> m) => m.All(y => l.Any(x => JqContains(ExpressionValues.Light(x), ExpressionValues.Light(y)))),
        (IReadOnlyDictionary<string, object?> x, IReadOnlyDictionary<string, object?> y) => y.All(kv => x.TryGetValue(kv.Key, out var v) && JqContains(ExpressionValues.Light(v), ExpressionValues.Light(kv.Value))),
        _ => Compare(a, b) == 0,
    };

    private static IEnumerable<object?> Items(object? v) => ExpressionValues.Light(v) switch
    {
        IReadOnlyList<object?> l => l.Select(ExpressionValues.Light),
        IReadOnlyDictionary<string, object?> m => m.Values.Select(ExpressionValues.Light),
        null => [],
        var o => throw new JqError($"Cannot iterate over {JqType(o)}"),
    };

    private static bool Truthy(object? v) => v is not (null or false);

    internal static string JqType(object? v) => ExpressionValues.Light(v) switch
    {
        null => "null",
        bool => "boolean",
        long or double => "number",
        string => "string",
        IReadOnlyList<object?> => "array",
        IReadOnlyDictionary<string, object?> => "object",
        _ => "string",
    };

    private static int Rank(object? v) => ExpressionValues.Light(v) switch
    {
        null => 0,
        false => 1,
        true => 2,
        long or double => 3,
        string => 4,
        IReadOnlyList<object?> => 5,
        _ => 6,
    };

    /// <summary>jq's total order: null &lt; false &lt; true &lt; numbers &lt; strings &lt; arrays &lt; objects.</summary>
    internal static int Compare(object? a, object? b)
    {
        a = ExpressionValues.Light(a); b = ExpressionValues.Light(b);
        int ra = Rank(a), rb = Rank(b);
        if (ra != rb) return ra.CompareTo(rb);
        switch (a)
        {
            case long or double: return Operators.ToDouble(a).CompareTo(Operators.ToDouble(b));
            case string s: return string.CompareOrdinal(s, (string)b!);
            case IReadOnlyList<object?> l:
                {
                    var m = (IReadOnlyList<object?>)b!;
                    for (int i = 0; i < Math.Min(l.Count, m.Count); i++)
                    {
                        int c = Compare(l[i], m[i]);
                        if (c != 0) return c;
                    }
                    return l.Count.CompareTo(m.Count);
                }
            case IReadOnlyDictionary<string, object?> x:
                {
                    var y = (IReadOnlyDictionary<string, object?>)b!;
                    var kx = x.Keys.OrderBy(k => k, StringComparer.Ordinal).ToList();
                    var ky = y.Keys.OrderBy(k => k, StringComparer.Ordinal).ToList();
                    int c = Compare(kx.Cast<object?>().ToList(), ky.Cast<object?>().ToList());
                    if (c != 0) return c;
                    foreach (var k in kx)
                    {
                        c = Compare(x[k], y[k]);
                        if (c != 0) return c;
                    }
                    return 0;
                }
            default: return 0;
        }
    }

    // ---------------------------------------------------------------- parser

    private sealed class JqParser(string src)
    {
        private int _pos;

        private ExpressionException Error(string message) => new($"Unable to parse jq expression '{src}': {message} at position {_pos}");

        private void Ws() { while (_pos < src.Length && char.IsWhiteSpace(src[_pos])) _pos++; }

        private bool Try(string s)
        {
            Ws();
            if (string.CompareOrdinal(src, _pos, s, 0, s.Length) != 0) return false;
            if (char.IsAsciiLetter(s[^1]) && _pos + s.Length < src.Length && (char.IsAsciiLetterOrDigit(src[_pos + s.Length]) || src[_pos + s.Length] == '_')) return false;
            _pos += s.Length;
            return true;
        }

        private bool PeekIs(string s)
        {
            Ws();
            return string.CompareOrdinal(src, _pos, s, 0, s.Length) == 0;
        }

        private void Expect(string s)
        {
            if (!Try(s)) throw Error($"expected '{s}'");
        }

        public JqNode ParseProgram()
        {
            var n = ParsePipe();
            Ws();
            if (_pos < src.Length) throw Error($"unexpected '{src[_pos]}'");
            return n;
        }

        private JqNode ParsePipe()
        {
            var left = ParseComma();
            while (Try("|")) left = new Pipe(left, ParseComma());
            return left;
        }

        private JqNode ParseComma()
        {
            var left = ParseAlt();
            while (PeekIs(",")) { _pos++; left = new Comma(left, ParseAlt()); }
            return left;
        }

        private JqNode ParseAlt()
        {
            var left = ParseOr();
            while (Try("//")) left = new Binary("//", left, ParseOr());
            return left;
        }

        private JqNode ParseOr()
        {
            var left = ParseAnd();
            while (Try("or")) left = new Binary("or", left, ParseAnd());
            return left;
        }

        private JqNode ParseAnd()
        {
            var left = ParseCompare();
            while (Try("and")) left = new Binary("and", left, ParseCompare());
            return left;
        }

        private JqNode ParseCompare()
        {
            var left = ParseAdditive();
            foreach (var op in new[] { "==", "!=", "<=", ">=", "<", ">" })
            {
                if (Try(op)) return new Binary(op, left, ParseAdditive());
            }
            return left;
        }

        private JqNode ParseAdditive()
        {
            var left = ParseMultiplicative();
            while (true)
            {
                Ws();
                if (_pos < src.Length && (src[_pos] == '+' || src[_pos] == '-'))
                {
                    var op = src[_pos++].ToString();
                    left = new Binary(op, left, ParseMultiplicative());
                }
                else return left;
            }
        }

        private JqNode ParseMultiplicative()
        {
            var left = ParseUnary();
            while (true)
            {
                Ws();
                if (_pos < src.Length && (src[_pos] == '*' || src[_pos] == '%' || (src[_pos] == '/' && !(_pos + 1 < src.Length && src[_pos + 1] == '/'))))
                {
                    var op = src[_pos++].ToString();
                    left = new Binary(op, left, ParseUnary());
                }
                else return left;
            }
        }

        private JqNode ParseUnary()
        {
            Ws();
            if (_pos < src.Length && src[_pos] == '-') { _pos++; return new Neg(ParsePostfix()); }
            return ParsePostfix();
        }

        private JqNode ParsePostfix()
        {
            Ws();
            JqNode node;
            if (_pos < src.Length && src[_pos] == '.')
            {
                // path starting with '.'
                _pos++;
                node = new Identity();
                if (_pos < src.Length && (char.IsAsciiLetter(src[_pos]) || src[_pos] == '_'))
                    node = new Field(node, Ident(), OptionalMark());
                else if (_pos < src.Length && src[_pos] == '"')
                    node = new Field(node, StringLit(), OptionalMark());
                else if (_pos < src.Length && src[_pos] == '[')
                    node = Bracket(node);
            }
            else node = ParsePrimary();
            while (true)
            {
                if (_pos < src.Length && src[_pos] == '.' && _pos + 1 < src.Length && (char.IsAsciiLetter(src[_pos + 1]) || src[_pos + 1] == '_' || src[_pos + 1] == '"' || src[_pos + 1] == '['))
                {
                    _pos++;
                    if (src[_pos] == '"') node = new Field(node, StringLit(), OptionalMark());
                    else if (src[_pos] == '[') node = Bracket(node);
                    else node = new Field(node, Ident(), OptionalMark());
                    continue;
                }
                if (_pos < src.Length && src[_pos] == '[')
                {
                    node = Bracket(node);
                    continue;
                }
                return node;
            }
        }

        private bool OptionalMark()
        {
            if (_pos < src.Length && src[_pos] == '?') { _pos++; return true; }
            return false;
        }

        private JqNode Bracket(JqNode target)
        {
            _pos++; // [
            Ws();
            if (src[_pos] == ']') { _pos++; return new Iterate(target, OptionalMark()); }
            JqNode? from = null, to = null;
            if (src[_pos] != ':') from = ParsePipe();
            Ws();
            if (_pos < src.Length && src[_pos] == ':')
            {
                _pos++;
                Ws();
                if (src[_pos] != ']') to = ParsePipe();
                Expect("]");
                return new SliceNode(target, from, to);
            }
            Expect("]");
            return new IndexNode(target, from!, OptionalMark());
        }

        private string Ident()
        {
            int s = _pos;
            while (_pos < src.Length && (char.IsAsciiLetterOrDigit(src[_pos]) || src[_pos] == '_')) _pos++;
            return src[s.._pos];
        }

        private string StringLit()
        {
            _pos++; // "
            var sb = new StringBuilder();
            while (_pos < src.Length && src[_pos] != '"')
            {
                if (src[_pos] == '\\' && _pos + 1 < src.Length)
                {
                    _pos++;
                    sb.Append(src[_pos] switch { 'n' => '\n', 't' => '\t', 'r' => '\r', var c => c });
                }
                else sb.Append(src[_pos]);
                _pos++;
            }
            if (_pos >= src.Length) throw Error("unterminated string");
            _pos++;
            return sb.ToString();
        }

        private JqNode ParsePrimary()
        {
            Ws();
            if (_pos >= src.Length) throw Error("unexpected end");
            char c = src[_pos];
            if (c == '"') return new Literal(StringLit());
            if (char.IsAsciiDigit(c))
            {
                int s = _pos;
                while (_pos < src.Length && (char.IsAsciiDigit(src[_pos]) || src[_pos] == '.' || src[_pos] == 'e' || src[_pos] == 'E')) _pos++;
                var t = src[s.._pos];
                return new Literal(long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var l) ? l : double.Parse(t, CultureInfo.InvariantCulture));
            }
            if (c == '(')
            {
                _pos++;
                var e = ParsePipe();
                Expect(")");
                return e;
            }
            if (c == '[')
            {
                _pos++;
                Ws();
                if (_pos < src.Length && src[_pos] == ']') { _pos++; return new ArrayCons(null); }
                var body = ParsePipe();
                Expect("]");
                return new ArrayCons(body);
            }
            if (c == '{')
            {
                _pos++;
                var entries = new List<(JqNode, JqNode)>();
                while (!Try("}"))
                {
                    Ws();
                    JqNode key;
                    string? bare = null;
                    if (src[_pos] == '"') { var k = StringLit(); key = new Literal(k); bare = k; }
                    else if (src[_pos] == '(') { _pos++; key = ParsePipe(); Expect(")"); }
                    else { bare = Ident(); if (bare.Length == 0) throw Error("expected object key"); key = new Literal(bare); }
                    JqNode value = Try(":") ? ParseObjectValue() : new Field(new Identity(), bare ?? throw Error("expected ':'"), false);
                    entries.Add((key, value));
                    if (!Try(",")) { Expect("}"); break; }
                }
                return new ObjectCons(entries);
            }
            if (char.IsAsciiLetter(c) || c == '_')
            {
                var name = Ident();
                switch (name)
                {
                    case "true": return new Literal(true);
                    case "false": return new Literal(false);
                    case "null": return new Literal(null);
                    case "not": return new Call("not", []);
                    case "if":
                        {
                            var branches = new List<(JqNode, JqNode)>();
                            var cond = ParsePipe();
                            Expect("then");
                            branches.Add((cond, ParsePipe()));
                            JqNode? otherwise = null;
                            while (true)
                            {
                                if (Try("elif")) { var c2 = ParsePipe(); Expect("then"); branches.Add((c2, ParsePipe())); continue; }
                                if (Try("else")) { otherwise = ParsePipe(); }
                                Expect("end");
                                break;
                            }
                            return new IfNode(branches, otherwise);
                        }
                }
                var args = new List<JqNode>();
                Ws();
                if (_pos < src.Length && src[_pos] == '(')
                {
                    _pos++;
                    do { args.Add(ParsePipe()); } while (Try(";"));
                    Expect(")");
                }
                return new Call(name, args);
            }
            throw Error($"unexpected '{c}'");
        }

        private JqNode ParseObjectValue()
        {
            // object values bind tighter than ',' (jq: ExpD); allow alternatives and comparisons
            return ParseAlt();
        }
    }
}

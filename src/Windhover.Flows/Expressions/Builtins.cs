using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Windhover.Flows.Expressions;

/// <summary>Built-in functions and filters (Pebble core + Kestra extension).</summary>
internal static partial class Builtins
{
    private static CallableDefinition Def(string name, string[] parameters, ExpressionFunction fn, bool undefinedInput = false) =>
        new(name, parameters, fn) { AcceptsUndefinedInput = undefinedInput };

    // ------------------------------------------------------------ functions

    public static IEnumerable<CallableDefinition> Functions()
    {
        yield return Def("now", ["timeZone", "format", "locale"], c =>
        {
            var zone = Zone(c);
            var now = JavaDateFormat.InZone(c.TimeProvider.GetUtcNow(), zone);
            return c.Has("format") ? JavaDateFormat.Format(now, c.GetString("format")!, zone) : now;
        });
        yield return Def("fromJson", ["json"], c => c.Get("json") is string s ? ExpressionValues.FromJson(s) : c.Get("json"));
        yield return Def("json", ["json"], c => c.Get("json") is string s ? ExpressionValues.FromJson(s) : c.Get("json"));
        yield return Def("toJson", ["object"], c => ExpressionValues.ToJson(c.Get("object")));
        yield return Def("yaml", ["yaml"], c => c.Get("yaml") is string s ? YamlValues.Parse(s) : c.Get("yaml"));
        yield return Def("render", ["toRender", "recursive"], c => Render(c, c.GetBool("recursive", true)));
        yield return Def("renderOnce", ["toRender"], c => Render(c, false));
        yield return Def("secret", ["key", "namespace"], c =>
            c.Host.Secret(RequireString(c, "key"), c.GetString("namespace")));
        yield return Def("kv", ["key", "namespace", "errorOnMissing"], c =>
        {
            var key = RequireString(c, "key");
            var ns = c.GetString("namespace") ?? FlowNamespace(c);
            return c.Host.Kv(ns, key, c.GetBool("errorOnMissing", false)); // Kestra 0.21: a missing key is null unless errorOnMissing
        });
        yield return Def("read", ["path"], c => c.Host.Read(RequireString(c, "path")));
        yield return Def("fileURI", ["path"], c => c.Host.FileUri(RequireString(c, "path")));
        yield return Def("fileSize", ["path"], c => c.Host.FileSize(RequireString(c, "path")));
        yield return Def("fileExists", ["path"], c => c.Host.FileExists(RequireString(c, "path")));
        yield return Def("errorLogs", [], c => c.Host.ErrorLogs());
        yield return Def("uuid", [], _ => Guid.NewGuid().ToString());
        yield return Def("id", [], _ => NewId());
        yield return Def("randomInt", ["lower", "upper"], c =>
        {
            long lower = c.GetLong("lower", 0), upper = c.GetLong("upper", 0);
            if (!c.Has("lower") || !c.Has("upper")) throw new ExpressionException("The 'randomInt' function expects arguments 'lower' and 'upper'.");
            if (lower >= upper) throw new ExpressionException("The 'randomInt' function: 'lower' must be less than 'upper'.");
            return Random.Shared.NextInt64(lower, upper);
        });
        yield return Def("range", ["start", "end", "step"], c => Operators.Range(c.Get("start"), c.Get("end"), c.Has("step") ? c.Get("step") : 1L));
        yield return Def("currentEachOutput", ["outputs"], CurrentEachOutput);
        yield return Def("printContext", [], c => c.Variables);
        yield return Def("fetchContext", [], c => c.Variables);
        yield return Def("max", ["a", "b", "c", "d", "e", "f"], c => MinMax(c, true));
        yield return Def("min", ["a", "b", "c", "d", "e", "f"], c => MinMax(c, false));
    }

    private static object? MinMax(ExpressionCall c, bool max)
    {
        object? best = null;
        for (int i = 0; i < 6; i++)
        {
            if (!c.Has(i)) continue;
            var v = c.Get(i);
            if (best == null || (max ? Operators.Compare(v, best, "GREATER_THAN", x => x > 0) : Operators.Compare(v, best, "LESS_THAN", x => x < 0))) best = v;
        }
        return best;
    }

    private static string? FlowNamespace(ExpressionCall c) =>
        c.Variables.TryGetValue("flow", out var flow) && ExpressionValues.Light(flow) is IReadOnlyDictionary<string, object?> f &&
        f.TryGetValue("namespace", out var ns) ? ns as string : null;

    private static string RequireString(ExpressionCall c, string name)
    {
        if (!c.Has(name) || c.Get(name) is null)
            throw new ExpressionException($"The '{c.Name}' function expects an argument '{name}'.");
        return ExpressionValues.ToText(c.Get(name));
    }

    private static object? Render(ExpressionCall c, bool recursive)
    {
        if (!c.Has("toRender")) throw new ExpressionException($"The '{c.Name}' function expects an argument 'toRender'.");
        var value = c.Get("toRender");
        if (value is not string s) return value;
        var vars = c.Variables;
        var depth = c.Context.Depth + 1;
        var result = c.Engine.RenderInternal(s, vars, c.Host, depth);
        if (recursive)
        {
            int guard = 0;
            while (result != s && result.Contains('{') && guard++ < c.Engine.Options.MaxRenderDepth)
            {
                s = result;
                result = c.Engine.RenderInternal(s, vars, c.Host, depth);
            }
        }
        return result;
    }

    private static object? CurrentEachOutput(ExpressionCall c)
    {
        if (!c.Has("outputs")) throw new ExpressionException("The 'currentEachOutput' function expects an argument 'outputs'.");
        if (c.Get("outputs") is not IReadOnlyDictionary<string, object?> outputs)
            throw new ExpressionException("The 'currentEachOutput' function expects an argument 'outputs' with type map.");
        var vars = c.Variables;
        if (vars.TryGetValue("parents", out var p) && ExpressionValues.Light(p) is IReadOnlyList<object?> parents && parents.Count > 0)
        {
            for (int i = parents.Count - 1; i >= 0; i--)
            {
                if (ExpressionValues.Light(parents[i]) is not IReadOnlyDictionary<string, object?> parent) continue;
                if (!parent.TryGetValue("taskrun", out var tr) || ExpressionValues.Light(tr) is not IReadOnlyDictionary<string, object?> taskrun) continue;
                var key = taskrun.TryGetValue("value", out var tv) ? ExpressionValues.ToText(ExpressionValues.Light(tv)) : "";
                if (outputs.TryGetValue(key, out var next) && ExpressionValues.Light(next) is IReadOnlyDictionary<string, object?> nextMap) outputs = nextMap;
                else throw new ExpressionException("No execution outputs for the current task runs path");
            }
        }
        if (!vars.TryGetValue("taskrun", out var t) || ExpressionValues.Light(t) is not IReadOnlyDictionary<string, object?> current)
            throw new ExpressionException("The 'currentEachOutput' function needs a 'taskrun' variable (use it inside a ForEach)");
        var value = current.TryGetValue("value", out var v) ? ExpressionValues.ToText(ExpressionValues.Light(v)) : "";
        return outputs.TryGetValue(value, out var result) ? result : null;
    }

    private const string Base62Chars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    internal static string NewId()
    {
        Span<byte> bytes = stackalloc byte[17];
        RandomNumberGenerator.Fill(bytes[..16]);
        bytes[16] = 0; // positive
        var n = new BigInteger(bytes);
        var sb = new StringBuilder();
        while (n > 0)
        {
            n = BigInteger.DivRem(n, 62, out var rem);
            sb.Insert(0, Base62Chars[(int)rem]);
        }
        while (sb.Length < 22) sb.Insert(0, '0');
        return sb.ToString();
    }

    private static TimeZoneInfo Zone(ExpressionCall c) =>
        c.GetString("timeZone") is { } tz ? JavaDateFormat.Zone(tz) : c.Engine.DefaultZone;

    // ------------------------------------------------------------ filters

    public static IEnumerable<CallableDefinition> Filters()
    {
        yield return Def("abs", [], c => c.Input switch
        {
            long l => Math.Abs(l),
            double d => Math.Abs(d),
            null => null,
            var v => throw new ExpressionException($"The 'abs' filter expects a number, got {ExpressionValues.TypeName(v)}"),
        });
        yield return Def("abbreviate", ["length"], c =>
        {
            if (c.Input is null) return null;
            var s = ExpressionValues.ToText(c.Input);
            var max = c.GetLong("length", -1);
            if (max < 0) throw new ExpressionException("The 'abbreviate' filter expects an argument 'length'.");
            if (s.Length <= max) return s;
            if (max < 3) throw new ExpressionException("The 'abbreviate' filter length must be at least 3");
            return s[..(int)(max - 3)] + "...";
        });
        yield return Def("base64encode", [], c => c.Input is null ? null : Convert.ToBase64String(Encoding.UTF8.GetBytes(ExpressionValues.ToText(c.Input))));
        yield return Def("base64decode", [], c => c.Input is null ? null : Encoding.UTF8.GetString(Convert.FromBase64String(ExpressionValues.ToText(c.Input))));
        yield return Def("capitalize", [], c =>
        {
            if (c.Input is null) return null;
            var s = ExpressionValues.ToText(c.Input);
            return s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];
        });
        yield return Def("title", [], c =>
        {
            if (c.Input is null) return null;
            var s = ExpressionValues.ToText(c.Input);
            var sb = new StringBuilder(s.Length);
            bool next = true;
            foreach (var ch in s)
            {
                if (char.IsWhiteSpace(ch)) { next = true; sb.Append(ch); }
                else if (next) { sb.Append(char.ToUpperInvariant(ch)); next = false; }
                else sb.Append(ch);
            }
            return sb.ToString();
        });
        yield return Def("lower", [], c => c.Input is null ? null : ExpressionValues.ToText(c.Input).ToLowerInvariant());
        yield return Def("upper", [], c => c.Input is null ? null : ExpressionValues.ToText(c.Input).ToUpperInvariant());
        yield return Def("trim", [], c => c.Input is null ? null : ExpressionValues.ToText(c.Input).Trim());
        yield return Def("chunk", ["size"], c =>
        {
            if (c.Input is null) return null;
            if (c.Input is not IReadOnlyList<object?> list) throw new ExpressionException($"'chunk' filter can only be applied to List. Actual type was: {ExpressionValues.TypeName(c.Input)}");
            var size = (int)c.GetLong("size", 0);
            if (size <= 0) throw new ExpressionException("The 'chunk' filter expects a positive argument 'size'.");
            var result = new List<object?>();
            for (int i = 0; i < list.Count; i += size)
            {
                var chunk = new List<object?>();
                for (int j = i; j < Math.Min(i + size, list.Count); j++) chunk.Add(list[j]);
                result.Add(chunk);
            }
            return result;
        });
        yield return Def("date", ["format", "timeZone", "existingFormat", "locale"], c => c.Input is null ? null : FormatDate(c, ToDate(c)));
        yield return Def("dateAdd", ["amount", "unit", "format", "timeZone", "existingFormat", "locale"], c =>
        {
            if (c.Input is null) return null;
            if (!c.Has("amount")) throw new ExpressionException("The 'dateAdd' filter expects an argument 'amount'.");
            if (!c.Has("unit")) throw new ExpressionException("The 'dateAdd' filter expects an argument 'unit'.");
            var d = ToDate(c);
            var amount = c.GetLong("amount", 0);
            var unit = c.GetString("unit")!;
            d = unit switch
            {
                "NANOS" => d.AddTicks(amount / 100),
                "MICROS" => d.AddTicks(amount * 10),
                "MILLIS" => d.AddMilliseconds(amount),
                "SECONDS" => d.AddSeconds(amount),
                "MINUTES" => d.AddMinutes(amount),
                "HOURS" => d.AddHours(amount),
                "HALF_DAYS" => d.AddHours(12 * amount),
                "DAYS" => AddLocal(d, x => x.AddDays(amount)),
                "WEEKS" => AddLocal(d, x => x.AddDays(7 * amount)),
                "MONTHS" => AddLocal(d, x => x.AddMonths((int)amount)),
                "YEARS" => AddLocal(d, x => x.AddYears((int)amount)),
                "DECADES" => AddLocal(d, x => x.AddYears((int)amount * 10)),
                "CENTURIES" => AddLocal(d, x => x.AddYears((int)amount * 100)),
                _ => throw new ExpressionException($"No enum constant java.time.temporal.ChronoUnit.{unit}"),
            };
            return FormatDate(c, d);
        });
        yield return Def("timestamp", ["timeZone", "existingFormat"], c => c.Input is null ? null : ToDate(c).ToUnixTimeSeconds());
        yield return Def("timestampMilli", ["timeZone", "existingFormat"], c => c.Input is null ? null : ToDate(c).ToUnixTimeMilliseconds());
        yield return Def("timestampMicro", ["timeZone", "existingFormat"], c => c.Input is null ? null : (ToDate(c).UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10);
        yield return Def("timestampNano", ["timeZone", "existingFormat"], c => c.Input is null ? null : (ToDate(c).UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100);
        yield return Def("default", ["default"], c => IsEmpty(c.Input) ? c.Get("default") : c.Input, undefinedInput: true);
        yield return Def("distinct", [], c =>
        {
            if (c.Input is null) return null;
            var list = RequireList(c);
            var result = new List<object?>();
            foreach (var item in list)
                if (!result.Any(x => Operators.AreEqual(x, ExpressionValues.Light(item)))) result.Add(ExpressionValues.Light(item));
            return result;
        });
        yield return Def("startsWith", ["prefix"], c => c.Input is not null && ExpressionValues.ToText(c.Input).StartsWith(c.GetString("prefix") ?? "", StringComparison.Ordinal));
        yield return Def("endsWith", ["suffix"], c => c.Input is not null && ExpressionValues.ToText(c.Input).EndsWith(c.GetString("suffix") ?? "", StringComparison.Ordinal));
        yield return Def("escapeChar", ["type"], c =>
        {
            var type = c.GetString("type") ?? throw new ExpressionException("The 'escapeChar' filter expects an argument 'type'.");
            (string from, string to) = type.ToLowerInvariant() switch
            {
                "single" => ("'", "\\'"),
                "double" => ("\"", "\\\""),
                "shell" => ("'", "'\\''"),
                _ => throw new ExpressionException("The 'escapeChar' filter expects the value of 'type' to be either 'single', 'double', or 'shell'."),
            };
            return MapStrings(c.Input, s => s.Replace(from, to, StringComparison.Ordinal));
        });
        yield return Def("first", [], c => c.Input switch
        {
            null => null,
            string s => s.Length == 0 ? null : s[0].ToString(),
            IReadOnlyList<object?> l => l.Count == 0 ? null : l[0],
            IReadOnlyDictionary<string, object?> m => m.Count == 0 ? null : m.First().Value,
            var v => v,
        });
        yield return Def("last", [], c => c.Input switch
        {
            null => null,
            string s => s.Length == 0 ? null : s[^1].ToString(),
            IReadOnlyList<object?> l => l.Count == 0 ? null : l[^1],
            IReadOnlyDictionary<string, object?> m => m.Count == 0 ? null : m.Last().Value,
            var v => v,
        });
        yield return Def("flatten", [], c =>
        {
            if (c.Input is null) return null;
            var result = new List<object?>();
            foreach (var item in RequireList(c))
            {
                if (ExpressionValues.Light(item) is IReadOnlyList<object?> inner) result.AddRange(inner);
                else result.Add(item);
            }
            return result;
        });
        yield return Def("indent", ["amount", "prefix"], c => Indent(c, false));
        yield return Def("nindent", ["amount", "prefix"], c => Indent(c, true));
        yield return Def("join", ["separator"], c =>
        {
            if (c.Input is null) return null;
            var sep = c.GetString("separator") ?? "";
            return c.Input switch
            {
                IReadOnlyList<object?> l => string.Join(sep, l.Select(x => ExpressionValues.ToText(ExpressionValues.Light(x)))),
                IReadOnlyDictionary<string, object?> m => string.Join(sep, m.Values.Select(x => ExpressionValues.ToText(ExpressionValues.Light(x)))),
                var v => ExpressionValues.ToText(v),
            };
        });
        yield return Def("jq", ["expression"], c =>
        {
            if (c.Input is null) return null;
            var expr = c.GetString("expression") ?? throw new ExpressionException("The 'jq' filter expects an argument 'expression'.");
            var input = c.Input is string s ? ExpressionValues.FromJson(s) : c.Input;
            return Jq.Run(expr, input);
        });
        yield return Def("json", [], c => ExpressionValues.ToJson(c.Input));
        yield return Def("toJson", [], c => ExpressionValues.ToJson(c.Input));
        yield return Def("keys", [], c => c.Input switch
        {
            null => null,
            IReadOnlyDictionary<string, object?> m => m.Keys.Select(k => (object?)k).ToList(),
            IReadOnlyList<object?> l => Enumerable.Range(0, l.Count).Select(i => (object?)(long)i).ToList(),
            var v => throw new ExpressionException($"The 'keys' filter can only be applied to a Map. Actual type was: {ExpressionValues.TypeName(v)}"),
        });
        yield return Def("values", [], c => c.Input switch
        {
            null => null,
            IReadOnlyDictionary<string, object?> m => m.Values.Select(ExpressionValues.Light).ToList(),
            IReadOnlyList<object?> l => l.ToList(),
            var v => throw new ExpressionException($"The 'values' filter can only be applied to a Map. Actual type was: {ExpressionValues.TypeName(v)}"),
        });
        yield return Def("length", [], c => c.Input switch
        {
            null => 0L,
            string s => (long)s.Length,
            IReadOnlyList<object?> l => (long)l.Count,
            IReadOnlyDictionary<string, object?> m => (long)m.Count,
            _ => 0L,
        });
        yield return Def("md5", [], c => c.Input is null ? null : Hex(MD5.HashData(Encoding.UTF8.GetBytes(ExpressionValues.ToText(c.Input)))));
        yield return Def("sha1", [], c => c.Input is null ? null : Hex(SHA1.HashData(Encoding.UTF8.GetBytes(ExpressionValues.ToText(c.Input)))));
        yield return Def("sha256", [], c => c.Input is null ? null : Hex(SHA256.HashData(Encoding.UTF8.GetBytes(ExpressionValues.ToText(c.Input)))));
        yield return Def("sha512", [], c => c.Input is null ? null : Hex(SHA512.HashData(Encoding.UTF8.GetBytes(ExpressionValues.ToText(c.Input)))));
        yield return Def("merge", ["items"], c =>
        {
            var other = c.Get("items");
            switch (c.Input)
            {
                case null: return other;
                case IReadOnlyDictionary<string, object?> m:
                    {
                        if (other is not IReadOnlyDictionary<string, object?> o) throw new ExpressionException("The 'merge' filter can only merge a Map with another Map");
                        var result = new OrderedDictionary<string, object?>();
                        foreach (var kv in m) result[kv.Key] = kv.Value;
                        foreach (var kv in o) result[kv.Key] = kv.Value;
                        return result;
                    }
                case IReadOnlyList<object?> l:
                    {
                        var result = new List<object?>(l);
                        if (other is IReadOnlyList<object?> ol) result.AddRange(ol);
                        else if (other is IReadOnlyDictionary<string, object?> om) result.AddRange(om.Values);
                        else result.Add(other);
                        return result;
                    }
                default: throw new ExpressionException($"The 'merge' filter can only be applied to a Map or a List. Actual type was: {ExpressionValues.TypeName(c.Input)}");
            }
        });
        yield return Def("number", ["type"], c =>
        {
            if (c.Input is null) return null;
            if (c.Input is not string s) throw new ExpressionException($"'number' filter can only be applied to String. Actual type was: {ExpressionValues.TypeName(c.Input)}");
            s = s.Trim();
            var type = c.GetString("type") ?? "";
            switch (type)
            {
                case "INT" or "LONG" or "BIGINTEGER":
                    return long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var li) ? li : throw new ExpressionException($"For input string: \"{s}\"");
                case "FLOAT" or "DOUBLE" or "BIGDECIMAL":
                    return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var di) ? di : throw new ExpressionException($"For input string: \"{s}\"");
            }
            if (long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)) return l;
            if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase) && long.TryParse(s[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var hx)) return hx;
            if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) return d;
            throw new ExpressionException($"{s} is not a valid number.");
        });
        var numberFormat = Def("numberformat", ["format"], c => NumberFormat(c));
        yield return numberFormat;
        yield return new CallableDefinition("numberFormat", numberFormat.Parameters, numberFormat.Invoke);
        yield return Def("replace", ["replace_pairs", "regexp"], c =>
        {
            if (c.Input is null) return null;
            var s = ExpressionValues.ToText(c.Input);
            if (c.Get("replace_pairs") is not IReadOnlyDictionary<string, object?> pairs)
                throw new ExpressionException("The 'replace' filter expects a map argument 'replace_pairs'.");
            bool regex = c.GetBool("regexp", false);
            foreach (var kv in pairs)
            {
                var to = ExpressionValues.ToText(ExpressionValues.Light(kv.Value));
                s = regex ? Regex.Replace(s, kv.Key, JavaReplacement(to)) : s.Replace(kv.Key, to, StringComparison.Ordinal);
            }
            return s;
        });
        yield return Def("reverse", [], c => c.Input switch
        {
            null => null,
            string s => new string(s.Reverse().ToArray()),
            IReadOnlyList<object?> l => l.Reverse().ToList(),
            var v => throw new ExpressionException($"The 'reverse' filter can only be applied to a List. Actual type was: {ExpressionValues.TypeName(v)}"),
        });
        yield return Def("sort", [], c => c.Input is null ? null : Sort(RequireList(c), false));
        yield return Def("rsort", [], c => c.Input is null ? null : Sort(RequireList(c), true));
        yield return Def("slice", ["fromIndex", "toIndex"], c =>
        {
            if (c.Input is null) return null;
            long from = c.GetLong("fromIndex", 0);
            switch (c.Input)
            {
                case string s:
                    {
                        long to = c.GetLong("toIndex", s.Length);
                        CheckSlice(from, to, s.Length);
                        return s[(int)from..(int)to];
                    }
                case IReadOnlyList<object?> l:
                    {
                        long to = c.GetLong("toIndex", l.Count);
                        CheckSlice(from, to, l.Count);
                        return l.Skip((int)from).Take((int)(to - from)).ToList();
                    }
                default: throw new ExpressionException($"Slice filter can only be applied to String and List. Actual type was: {ExpressionValues.TypeName(c.Input)}");
            }
        });
        yield return Def("slugify", [], c => c.Input is null ? null : Slugify(ExpressionValues.ToText(c.Input)));
        yield return Def("split", ["delimiter", "limit"], c =>
        {
            if (c.Input is null) return null;
            var s = ExpressionValues.ToText(c.Input);
            var delim = c.GetString("delimiter") ?? throw new ExpressionException("The 'split' filter expects an argument 'delimiter'.");
            return JavaSplit(s, delim, (int)c.GetLong("limit", 0));
        });
        yield return Def("string", [], c => c.Input switch
        {
            null => null,
            long or double => ExpressionValues.ToText(c.Input),
            string s => decimal.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out _) ? s.Trim() : throw new ExpressionException($"'string' filter expects a valid number. Received an invalid numeric string: {s}"),
            var v => throw new ExpressionException($"'string' filter expects a Number (INT, FLOAT, DOUBLE, etc.) or numeric String. Received: {ExpressionValues.TypeName(v)}"),
        });
        yield return Def("substringAfter", ["separator"], c => Substring(c, (s, sep) => { int i = s.IndexOf(sep, StringComparison.Ordinal); return i < 0 ? "" : s[(i + sep.Length)..]; }));
        yield return Def("substringAfterLast", ["separator"], c => Substring(c, (s, sep) => { int i = s.LastIndexOf(sep, StringComparison.Ordinal); return i < 0 || sep.Length == 0 ? "" : s[(i + sep.Length)..]; }));
        yield return Def("substringBefore", ["separator"], c => Substring(c, (s, sep) => { int i = s.IndexOf(sep, StringComparison.Ordinal); return i < 0 ? s : s[..i]; }));
        yield return Def("substringBeforeLast", ["separator"], c => Substring(c, (s, sep) => { int i = s.LastIndexOf(sep, StringComparison.Ordinal); return i < 0 || sep.Length == 0 ? s : s[..i]; }));
        yield return Def("toIon", [], c => IonText(c.Input));
        yield return Def("urlencode", [], c => c.Input is null ? null : UrlEncode(ExpressionValues.ToText(c.Input)));
        yield return Def("urldecode", [], c => c.Input is null ? null : UrlDecode(ExpressionValues.ToText(c.Input)));
        yield return Def("yaml", [], c => YamlValues.Emit(c.Input));
        yield return Def("raw", [], c => c.Input);
        yield return Def("escape", ["strategy"], c => c.Input);
    }

    // ------------------------------------------------------------ helpers

    private static DateTimeOffset AddLocal(DateTimeOffset d, Func<DateTime, DateTime> f) => new(f(d.DateTime), d.Offset);

    private static string FormatDate(ExpressionCall c, DateTimeOffset d)
    {
        var zone = Zone(c);
        var format = c.GetString("format") ?? "iso";
        if (format is "full" or "long" or "medium" or "short")
            format = format switch { "full" => "EEEE, MMMM d, yyyy 'at' h:mm:ss a XXX", "long" => "MMMM d, yyyy 'at' h:mm:ss a XXX", "medium" => "MMM d, yyyy, h:mm:ss a", _ => "M/d/yy, h:mm a" };
        return JavaDateFormat.Format(d, format, zone);
    }

    /// <summary>Kestra's AbstractDate.convert.</summary>
    private static DateTimeOffset ToDate(ExpressionCall c)
    {
        var zone = Zone(c);
        switch (c.Input)
        {
            case DateTimeOffset d: return d;
            case long l: return DateTimeOffset.FromUnixTimeSeconds(l);
            case string s:
                var existing = c.GetString("existingFormat");
                return existing != null ? JavaDateFormat.Parse(s, existing, zone) : JavaDateFormat.ParseIso(s, zone);
            default: throw new ExpressionException($"Unsupported date value of type {ExpressionValues.TypeName(c.Input)}");
        }
    }

    internal static bool IsEmpty(object? v) => v switch
    {
        null => true,
        string s => s.Trim().Length == 0,
        IReadOnlyList<object?> l => l.Count == 0,
        IReadOnlyDictionary<string, object?> m => m.Count == 0,
        _ => false,
    };

    private static IReadOnlyList<object?> RequireList(ExpressionCall c) =>
        c.Input as IReadOnlyList<object?> ?? throw new ExpressionException($"The '{c.Name}' filter can only be applied to a List. Actual type was: {ExpressionValues.TypeName(c.Input)}");

    private static object? MapStrings(object? v, Func<string, string> f) => ExpressionValues.Light(v) switch
    {
        null => null,
        IReadOnlyDictionary<string, object?> m => m.ToDictionary(kv => kv.Key, kv => MapStrings(kv.Value, f)).Aggregate(new OrderedDictionary<string, object?>(), (acc, kv) => { acc[kv.Key] = kv.Value; return acc; }),
        IReadOnlyList<object?> l => l.Select(x => MapStrings(x, f)).ToList(),
        var x => f(ExpressionValues.ToText(x)),
    };

    private static object? Indent(ExpressionCall c, bool newline)
    {
        if (c.Input is null) return null;
        var s = ExpressionValues.ToText(c.Input);
        if (s.Length == 0) return s;
        if (!c.Has("amount")) throw new ExpressionException($"The '{c.Name}' filter expects an integer as argument 'amount'.");
        var amount = c.GetLong("amount", 0);
        if (amount < 0) throw new ExpressionException($"The '{c.Name}' filter expects a positive integer >=0 as argument 'amount'.");
        var prefix = c.GetString("prefix") ?? " ";
        var nl = s.Contains("\r\n", StringComparison.Ordinal) ? "\r\n" : s.Contains("\n\r", StringComparison.Ordinal) ? "\n\r" : s.Contains('\n') ? "\n" : s.Contains('\r') ? "\r" : "\n";
        var pad = string.Concat(Enumerable.Repeat(prefix, (int)amount));
        if (newline) s = nl + s;
        return s.Replace(nl, nl + pad, StringComparison.Ordinal);
    }

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);

    private static int CompareForSort(object? a, object? b)
    {
        a = ExpressionValues.Light(a); b = ExpressionValues.Light(b);
        if (a is null) return b is null ? 0 : -1;
        if (b is null) return 1;
        if (Operators.IsNumber(a) && Operators.IsNumber(b)) return a is long x && b is long y ? x.CompareTo(y) : Operators.ToDouble(a).CompareTo(Operators.ToDouble(b));
        if (a is string s && b is string t) return string.CompareOrdinal(s, t);
        if (a is bool p && b is bool q) return p.CompareTo(q);
        if (a is DateTimeOffset d && b is DateTimeOffset e) return d.CompareTo(e);
        throw new ExpressionException($"Cannot compare {ExpressionValues.TypeName(a)} with {ExpressionValues.TypeName(b)}");
    }

    private static List<object?> Sort(IReadOnlyList<object?> list, bool reverse)
    {
        var result = list.Select(ExpressionValues.Light).ToList();
        result.Sort(CompareForSort);
        if (reverse) result.Reverse();
        return result;
    }

    private static void CheckSlice(long from, long to, int length)
    {
        if (from < 0 || to > length || from > to)
            throw new ExpressionException($"fromIndex ({from}) and toIndex ({to}) must be within 0 and {length}, fromIndex <= toIndex");
    }

    private static object? Substring(ExpressionCall c, Func<string, string, string> f)
    {
        if (c.Input is null) return null;
        var sep = c.GetString("separator") ?? throw new ExpressionException($"The '{c.Name}' filter expects an argument 'separator'.");
        return f(ExpressionValues.ToText(c.Input), sep);
    }

    internal static bool IsJson(string s)
    {
        try
        {
            using var _ = JsonDocument.Parse(s);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>Java's String.split(regex, limit): trailing empty strings removed when limit is 0.</summary>
    private static List<object?> JavaSplit(string s, string regex, int limit)
    {
        if (s.Length == 0) return [""];
        string[] parts;
        bool literal = regex.Length == 1 && ".$|()[{^?*+\\".IndexOf(regex[0]) < 0 ||
                       regex.Length == 2 && regex[0] == '\\' && !char.IsAsciiLetterOrDigit(regex[1]);
        if (literal)
        {
            var sep = regex.Length == 2 ? regex[1].ToString() : regex;
            parts = limit > 0 ? s.Split(sep, limit) : s.Split(sep);
        }
        else
        {
            var re = new Regex(regex, RegexOptions.None, TimeSpan.FromSeconds(1));
            parts = limit > 0 ? re.Split(s, limit) : re.Split(s);
            if (parts.Length > 1 && parts[0].Length == 0 && re.Match(s) is { Success: true, Index: 0, Length: 0 }) parts = parts[1..];
        }
        var list = parts.Select(p => (object?)p).ToList();
        if (limit == 0)
            while (list.Count > 1 && (string)list[^1]! == "") list.RemoveAt(list.Count - 1);
        if (limit == 0 && list.Count == 1 && (string)list[0]! == "" && s.Length > 0) list.Clear();
        return list;
    }

    private static string JavaReplacement(string replacement) => replacement.Replace("$$", "\u0000", StringComparison.Ordinal).Replace("\\$", "$$", StringComparison.Ordinal).Replace("\u0000", "$$", StringComparison.Ordinal);

    private static string Slugify(string s)
    {
        var sb = new StringBuilder();
        foreach (var raw in s)
        {
            var folded = FoldAccent(raw);
            if (folded.Length != 1) { sb.Append(folded.ToLowerInvariant()); continue; }
            var ch = folded[0];
            if (char.IsAsciiLetterOrDigit(ch)) sb.Append(char.ToLowerInvariant(ch));
            else if (ch == '_') sb.Append('_');
            else sb.Append('-');
        }
        var result = Regex.Replace(sb.ToString(), "-+", "-");
        return result.Trim('-');
    }

    private const string AccentFrom = "ÀÁÂÃÄÅàáâãäåÇçÈÉÊËèéêëÌÍÎÏìíîïÑñÒÓÔÕÖØòóôõöøÙÚÛÜùúûüÝýÿŠšŽžČčĆćĐđŁłŃńŚśŹźŻżĘęĄąŘřŤťŮůĚěŇňĎďĽľŐőŰű";
    private const string AccentTo = "AAAAAAaaaaaaCcEEEEeeeeIIIIiiiiNnOOOOOOooooooUUUUuuuuYyySsZzCcCcDdLlNnSsZzZzEeAaRrTtUuEeNnDdLlOoUu";

    private static string FoldAccent(char ch)
    {
        if (ch < 0x80) return ch.ToString();
        int i = AccentFrom.IndexOf(ch);
        if (i >= 0) return AccentTo[i].ToString();
        return ch switch { 'ß' => "ss", 'Æ' => "AE", 'æ' => "ae", 'Œ' => "OE", 'œ' => "oe", _ => ch.ToString() };
    }

    private static string UrlEncode(string s)
    {
        var sb = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(s))
        {
            char ch = (char)b;
            if (char.IsAsciiLetterOrDigit(ch) || ch is '.' or '-' or '*' or '_') sb.Append(ch);
            else if (ch == ' ') sb.Append('+');
            else sb.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    private static string UrlDecode(string s)
    {
        var bytes = new List<byte>();
        for (int i = 0; i < s.Length; i++)
        {
            char ch = s[i];
            if (ch == '+') bytes.Add((byte)' ');
            else if (ch == '%' && i + 2 < s.Length)
            {
                bytes.Add(Convert.ToByte(s.Substring(i + 1, 2), 16));
                i += 2;
            }
            else if (ch == '%') throw new ExpressionException("URLDecoder: Incomplete trailing escape (%) pattern");
            else bytes.AddRange(Encoding.UTF8.GetBytes(ch.ToString()));
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    /// <summary>java.text.DecimalFormat subset: 0 # , . with HALF_EVEN rounding.</summary>
    private static object? NumberFormat(ExpressionCall c)
    {
        if (c.Input is null) return null;
        var format = c.GetString("format") ?? throw new ExpressionException("The 'numberformat' filter expects an argument 'format'.");
        double value = c.Input switch
        {
            long l => l,
            double d => d,
            string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var p) => p,
            var v => throw new ExpressionException($"The 'numberformat' filter expects a number, got {ExpressionValues.TypeName(v)}"),
        };
        int dot = format.IndexOf('.');
        string intPattern = dot < 0 ? format : format[..dot];
        string fracPattern = dot < 0 ? "" : format[(dot + 1)..];
        int minFrac = fracPattern.Count(ch => ch == '0');
        int maxFrac = fracPattern.Count(ch => ch is '0' or '#');
        int minInt = intPattern.Count(ch => ch == '0');
        int comma = intPattern.LastIndexOf(',');
        int grouping = comma < 0 ? 0 : intPattern.Length - comma - 1;
        var rounded = Math.Round((decimal)value, maxFrac, MidpointRounding.ToEven);
        var neg = rounded < 0;
        rounded = Math.Abs(rounded);
        var text = rounded.ToString("F" + maxFrac, CultureInfo.InvariantCulture);
        string ip = text, fp = "";
        int d2 = text.IndexOf('.');
        if (d2 >= 0) { ip = text[..d2]; fp = text[(d2 + 1)..]; }
        while (fp.Length > minFrac && fp.EndsWith('0')) fp = fp[..^1];
        ip = ip.TrimStart('0');
        if (ip.Length < minInt) ip = new string('0', minInt - ip.Length) + ip;
        if (grouping > 0 && ip.Length > grouping)
        {
            var sb = new StringBuilder();
            for (int i = 0; i < ip.Length; i++)
            {
                if (i > 0 && (ip.Length - i) % grouping == 0) sb.Append(',');
                sb.Append(ip[i]);
            }
            ip = sb.ToString();
        }
        var result = fp.Length > 0 ? ip + "." + fp : ip;
        if (result.Length == 0) result = "0";
        var prefix = new string(format.TakeWhile(ch => ch is not ('0' or '#' or ',' or '.')).ToArray());
        var suffix = new string(format.Reverse().TakeWhile(ch => ch is not ('0' or '#' or ',' or '.')).Reverse().ToArray());
        return (neg ? "-" : "") + prefix + result + suffix;
    }

    private static string IonText(object? value)
    {
        var sb = new StringBuilder();
        WriteIon(sb, ExpressionValues.Light(value));
        return sb.ToString();
    }

    private static void WriteIon(StringBuilder sb, object? v)
    {
        switch (ExpressionValues.Light(v))
        {
            case null: sb.Append("null"); break;
            case bool b: sb.Append(b ? "true" : "false"); break;
            case long l: sb.Append(l.ToString(CultureInfo.InvariantCulture)); break;
            case double d: sb.Append(ExpressionValues.JavaDouble(d).Replace("E", "e", StringComparison.Ordinal)); if (!ExpressionValues.JavaDouble(d).Contains('E')) sb.Append("e0"); break;
            case string s: ExpressionValues.WriteJsonString(sb, s); break;
            case DateTimeOffset dto: sb.Append(JavaDateFormat.Format(dto, "yyyy-MM-dd'T'HH:mm:ss.SSSXXX")); break;
            case IReadOnlyDictionary<string, object?> m:
                sb.Append('{');
                bool first = true;
                foreach (var kv in m)
                {
                    if (!first) sb.Append(',');
                    first = false;
                    if (IsIonIdentifier(kv.Key)) sb.Append(kv.Key);
                    else sb.Append('\'').Append(kv.Key.Replace("'", "\\'", StringComparison.Ordinal)).Append('\'');
                    sb.Append(':');
                    WriteIon(sb, kv.Value);
                }
                sb.Append('}');
                break;
            case IReadOnlyList<object?> l:
                sb.Append('[');
                for (int i = 0; i < l.Count; i++)
                {
                    if (i > 0) sb.Append(',');
                    WriteIon(sb, l[i]);
                }
                sb.Append(']');
                break;
            case var o: ExpressionValues.WriteJsonString(sb, ExpressionValues.ToText(o)); break;
        }
    }

    private static bool IsIonIdentifier(string s) =>
        s.Length > 0 && (char.IsAsciiLetter(s[0]) || s[0] is '_' or '$') && s.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '_' or '$')
        && s is not ("null" or "true" or "false" or "nan");
}

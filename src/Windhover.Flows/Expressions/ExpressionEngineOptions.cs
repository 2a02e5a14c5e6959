namespace Windhover.Flows.Expressions;

/// <summary>Implementation of a function or filter. For filters, <see cref="ExpressionCall.Input"/> is the piped value.</summary>
public delegate object? ExpressionFunction(ExpressionCall call);

/// <summary>A named function or filter with its parameter names (positional arguments map to them in order).</summary>
public sealed class CallableDefinition
{
    public CallableDefinition(string name, IReadOnlyList<string> parameters, ExpressionFunction invoke)
    {
        Name = name;
        Parameters = parameters;
        Invoke = invoke;
    }

    public string Name { get; }
    public IReadOnlyList<string> Parameters { get; }
    public ExpressionFunction Invoke { get; }

    /// <summary>When true (e.g. the <c>default</c> filter), an undefined input is passed as null instead of failing.</summary>
    public bool AcceptsUndefinedInput { get; init; }

    /// <summary>When true, undefined arguments are passed as null instead of failing.</summary>
    public bool AcceptsUndefinedArguments { get; init; }
}

/// <summary>The arguments of one function/filter invocation.</summary>
public sealed class ExpressionCall
{
    internal static readonly object Missing = new();
    private readonly object?[] _values;
    internal EvalContext Context { get; }

    internal ExpressionCall(CallableDefinition definition, object? input, object?[] values, EvalContext context, int line)
    {
        Definition = definition;
        Input = input;
        _values = values;
        Context = context;
        Line = line;
    }

    public CallableDefinition Definition { get; }
    public string Name => Definition.Name;

    /// <summary>The piped value (filters only).</summary>
    public object? Input { get; }

    /// <summary>1-based line of the call in its template.</summary>
    public int Line { get; }

    public IExpressionHost Host => Context.Host;
    public TimeProvider TimeProvider => Context.Engine.Options.TimeProvider;
    public ExpressionEngine Engine => Context.Engine;

    /// <summary>Variables visible at the call (root variables plus loop/set locals).</summary>
    public IReadOnlyDictionary<string, object?> Variables => Context.Snapshot();

    public bool Has(int index) => index < _values.Length && !ReferenceEquals(_values[index], Missing);

    public bool Has(string name) => Has(IndexOf(name));

    public object? Get(int index) => Has(index) ? _values[index] : null;

    public object? Get(string name) => Get(IndexOf(name));

    public string? GetString(string name, string? fallback = null)
    {
        int i = IndexOf(name);
        if (!Has(i)) return fallback;
        return _values[i] is null ? fallback : ExpressionValues.ToText(_values[i]);
    }

    public long GetLong(string name, long fallback)
    {
        int i = IndexOf(name);
        if (!Has(i) || _values[i] is null) return fallback;
        return _values[i] switch
        {
            long l => l,
            double d => (long)d,
            string s when long.TryParse(s, out var p) => p,
            var other => throw new ExpressionException($"The '{Name}' argument '{name}' must be a number, got {ExpressionValues.TypeName(other)}"),
        };
    }

    public bool GetBool(string name, bool fallback)
    {
        int i = IndexOf(name);
        if (!Has(i) || _values[i] is null) return fallback;
        return _values[i] switch
        {
            bool b => b,
            string s => string.Equals(s, "true", StringComparison.OrdinalIgnoreCase),
            var other => ExpressionValues.IsTruthy(other),
        };
    }

    /// <summary>Fails with "The 'x' function expects an argument 'y'." when the argument is missing.</summary>
    public object? Require(string name)
    {
        int i = IndexOf(name);
        if (!Has(i)) throw new ExpressionException($"The '{Name}' call expects an argument '{name}'.");
        return _values[i];
    }

    private int IndexOf(string name)
    {
        var ps = Definition.Parameters;
        for (int i = 0; i < ps.Count; i++) if (ps[i] == name) return i;
        return int.MaxValue;
    }
}

/// <summary>Engine configuration.</summary>
public sealed class ExpressionEngineOptions
{
    /// <summary>Clock for <c>now()</c>. Defaults to <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Zone used when a date has no zone and no timeZone argument is given (Java's system default). Default UTC.</summary>
    public string DefaultTimeZone { get; init; } = "UTC";

    /// <summary>Maximum number of parsed templates kept in the cache.</summary>
    public int CacheSize { get; init; } = 10_000;

    /// <summary>Maximum nesting of render()/renderOnce() calls.</summary>
    public int MaxRenderDepth { get; init; } = 32;

    /// <summary>Extra functions (override built-ins with the same name).</summary>
    public IList<CallableDefinition> Functions { get; } = new List<CallableDefinition>();

    /// <summary>Extra filters (override built-ins with the same name).</summary>
    public IList<CallableDefinition> Filters { get; } = new List<CallableDefinition>();
}

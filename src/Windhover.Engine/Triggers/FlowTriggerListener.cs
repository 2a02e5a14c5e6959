using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Windhover.Engine.Executions;
using Windhover.Engine.Runtime;
using Windhover.Engine.Stores;
using Windhover.Flows.Model;

namespace Windhover.Engine.Triggers;

/// <summary>
/// Flow triggers (<c>io.kestra.plugin.core.trigger.Flow</c>): when an execution ends, every flow's Flow triggers are
/// evaluated (<c>states</c>, <c>conditions</c>, <c>preconditions</c>) and matching ones start their flow with
/// <c>trigger.{executionId, namespace, flowId, flowRevision, state, outputs}</c>.
/// </summary>
/// <remarks>
/// The new execution's id is derived from (ended execution, its state history, target trigger): a terminal step seen
/// twice creates one execution. Precondition progress is kept in the trigger state store (<see cref="TriggerState.Data"/>).
/// </remarks>
public sealed class FlowTriggerListener : IAsyncDisposable
{
    private readonly LocalRuntime _runtime;
    private readonly ITriggerStateStore _states;
    private readonly ConcurrentDictionary<string, int> _handled = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Flows with a Flow trigger, at a flow store version (read and written under <see cref="_gate"/>).</summary>
    private (long Version, IReadOnlyList<Flow> Flows)? _withFlowTriggers;
    private Channel<Execution>? _ended;
    private Task? _loop;

    public FlowTriggerListener(LocalRuntime runtime, ITriggerStateStore states, TimeProvider? timeProvider = null)
    {
        _runtime = runtime;
        _states = states;
        Time = timeProvider ?? runtime.Services.TimeProvider;
    }

    public TimeProvider Time { get; }

    /// <summary>Raised when evaluating a trigger or creating its execution fails (the listener goes on).</summary>
    public event Action<Exception>? Error;

    /// <summary>Raised with each execution created by a Flow trigger.</summary>
    public event Action<Execution>? Triggered;

    /// <summary>Listens to <see cref="LocalRuntime.ExecutionEnded"/> and <see cref="LocalRuntime.ExecutionStateChanged"/>: every state an execution reaches is evaluated, in order (triggers without <c>states</c> only match terminal ones).</summary>
    public void Start()
    {
        if (_ended is not null)
        {
            return;
        }

        _ended = Channel.CreateUnbounded<Execution>(new UnboundedChannelOptions { SingleReader = true });
        _runtime.ExecutionEnded += OnEnded;
        _runtime.ExecutionStateChanged += OnEnded;
        var reader = _ended.Reader;
        _loop = Task.Run(async () =>
        {
            await foreach (var execution in reader.ReadAllAsync().ConfigureAwait(false))
            {
                try
                {
                    await HandleAsync(execution).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    Error?.Invoke(e);
                }
            }
        });
    }

    private void OnEnded(Execution execution) => _ended?.Writer.TryWrite(execution);

    public async Task StopAsync()
    {
        _runtime.ExecutionEnded -= OnEnded;
        _runtime.ExecutionStateChanged -= OnEnded;
        _ended?.Writer.TryComplete();
        _ended = null;
        if (_loop is { } loop)
        {
            await loop.ConfigureAwait(false);
        }

        _loop = null;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _gate.Dispose();
    }

    /// <summary>Evaluates every Flow trigger against <paramref name="ended"/>; returns the executions created.</summary>
    public async Task<IReadOnlyList<Execution>> HandleAsync(Execution ended, CancellationToken cancellationToken = default)
    {
        var created = new List<Execution>();

        var step = ended.State.Histories.Length;
        if (_handled.TryGetValue(ended.Id, out var seen) && seen >= step)
        {
            return created;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_handled.TryGetValue(ended.Id, out seen) && seen >= step)
            {
                return created;
            }

            _handled[ended.Id] = step;
            if (_handled.Count > 10_000)
            {
                foreach (var key in _handled.Keys.Take(5_000))
                {
                    _handled.TryRemove(key, out _);
                }
            }

            var variables = Variables(ended);
            foreach (var flow in await FlowsWithFlowTriggersAsync(cancellationToken).ConfigureAwait(false))
            {
                if (flow.Disabled || (flow.Namespace == ended.Namespace && flow.Id == ended.FlowId))
                {
                    continue;
                }

                foreach (var trigger in flow.Triggers)
                {
                    if (!TriggerSupport.IsFlow(trigger))
                    {
                        continue;
                    }

                    try
                    {
                        if (await EvaluateAsync(flow, trigger, ended, variables, cancellationToken).ConfigureAwait(false) is { } execution)
                        {
                            created.Add(execution);
                            Triggered?.Invoke(execution);
                        }
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        Error?.Invoke(new InvalidOperationException($"Flow trigger {flow.Namespace}.{flow.Id}.{trigger.Id} on execution {ended.Id}: {e.Message}", e));
                    }
                }
            }

            return created;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// The latest revisions of the flows that have a Flow trigger. Read page by page from the store, and kept while the
    /// store's <see cref="IFlowStore.ChangeVersion"/> stays the one they were read at (a store that cannot tell is read
    /// every time). The version is read before the pages: a save during the read changes it, and the next call reads again.
    /// </summary>
    private async Task<IReadOnlyList<Flow>> FlowsWithFlowTriggersAsync(CancellationToken cancellationToken)
    {
        var store = _runtime.Stores.Flows;
        var version = store.ChangeVersion;
        if (version >= 0 && _withFlowTriggers is { } cached && cached.Version == version)
        {
            return cached.Flows;
        }

        var flows = new List<Flow>();
        for (var page = 1; ; page++)
        {
            var batch = await store.SearchAsync(new FlowQuery { Page = page, Size = 500 }, cancellationToken).ConfigureAwait(false);
            flows.AddRange(batch.Results.Select(r => r.Flow).Where(f => f.Triggers.Any(TriggerSupport.IsFlow)));
            if (batch.Results.Count < 500)
            {
                break;
            }
        }

        _withFlowTriggers = version >= 0 ? (version, flows) : null;
        return flows;
    }

    private static Dictionary<string, object?> Variables(Execution ended)
    {
        var variables = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["executionId"] = ended.Id,
            ["namespace"] = ended.Namespace,
            ["flowId"] = ended.FlowId,
            ["flowRevision"] = (long)ended.FlowRevision,
            ["state"] = ended.State.Current.ToKestraName(),
        };
        if (ended.Outputs is { } outputs)
        {
            variables["outputs"] = outputs;
        }

        return variables;
    }

    private async Task<Execution?> EvaluateAsync(Flow flow, TriggerDefinition trigger, Execution ended, Dictionary<string, object?> variables, CancellationToken cancellationToken)
    {
        var state = await _states.GetAsync(flow.Namespace, flow.Id, trigger.Id, cancellationToken).ConfigureAwait(false);
        if (state?.Disabled ?? trigger.Disabled)
        {
            return null;
        }

        var p = trigger.Properties;
        var states = TriggerSupport.Strings(TriggerSupport.Prop(p, "states")).Select(s => s.ToUpperInvariant()).ToList();
        var endedState = ended.State.Current.ToKestraName();
        if (states.Count > 0 ? !states.Contains(endedState) : !ended.State.Current.IsTerminal())
        {
            return null;
        }

        var context = Context(flow, ended, variables);
        var expressions = _runtime.Expressions;
        if (!trigger.Conditions.All(c => ConditionMet(TriggerSupport.ConditionName(c), c.Properties, ended, context)))
        {
            return null;
        }

        if (TriggerSupport.Map(TriggerSupport.Prop(p, "preconditions")) is { } preconditions
            && !await PreconditionsMetAsync(flow, trigger, state, preconditions, ended, context, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        var labels = TriggerSupport.Labels(trigger, expressions, context);
        if (ended.Labels.FirstOrDefault(l => l.Key == "system.correlationId") is { Value: { } correlation } && labels.All(l => l.Key != "system.correlationId"))
        {
            labels = labels.Add(new ExecutionLabel("system.correlationId", correlation));
        }

        return await _runtime.CreateExecutionAsync(new ExecutionRequest
        {
            Namespace = flow.Namespace,
            FlowId = flow.Id,
            ExecutionId = IdGenerator.Derive("flow-trigger", ended.Id, ended.State.Histories.Length.ToString(CultureInfo.InvariantCulture), flow.Namespace, flow.Id, trigger.Id),
            Inputs = TriggerSupport.RenderInputs(trigger, expressions, context),
            Labels = labels,
            Trigger = new ExecutionTrigger { Id = trigger.Id, Type = trigger.CanonicalType, Variables = variables },
            MissingRequiredInputsAllowed = true,
        }, cancellationToken).ConfigureAwait(false);
    }

    private static Dictionary<string, object?> Context(Flow flow, Execution ended, Dictionary<string, object?> variables) => new(StringComparer.Ordinal)
    {
        ["flow"] = new Dictionary<string, object?>(StringComparer.Ordinal) { ["id"] = flow.Id, ["namespace"] = flow.Namespace, ["revision"] = (long)(flow.Revision ?? 1) },
        ["trigger"] = variables,
        // As Kestra renders a Flow trigger with the triggering execution's run context: its task outputs are `outputs`.
        ["outputs"] = Windhover.Engine.Executor.RunVariables.Outputs(ended),
        ["execution"] = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["id"] = ended.Id,
            ["namespace"] = ended.Namespace,
            ["flowId"] = ended.FlowId,
            ["state"] = ended.State.Current.ToKestraName(),
            ["outputs"] = ended.Outputs,
            ["labels"] = ended.Labels.GroupBy(l => l.Key).ToDictionary(g => g.Key, g => (object?)g.Last().Value, StringComparer.Ordinal),
        },
        ["labels"] = ended.Labels.GroupBy(l => l.Key).ToDictionary(g => g.Key, g => (object?)g.Last().Value, StringComparer.Ordinal),
    };

    /// <summary>
    /// One condition on the ended execution: ExecutionStatus (in/notIn), ExecutionFlow (namespace+flowId),
    /// ExecutionNamespace (namespace; comparison EQUALS/PREFIX/SUFFIX or prefix: true), Expression, ExecutionLabels,
    /// ExecutionOutputs (expression), Not, Or. Unknown types are met, except the legacy MultipleCondition (use preconditions).
    /// </summary>
    private bool ConditionMet(string name, IReadOnlyDictionary<string, object?> p, Execution ended, IReadOnlyDictionary<string, object?> context)
    {
        var state = ended.State.Current.ToKestraName();
        switch (name)
        {
            case "ExecutionStatus":
            {
                var @in = TriggerSupport.Strings(TriggerSupport.Prop(p, "in")).Select(s => s.ToUpperInvariant()).ToList();
                var notIn = TriggerSupport.Strings(TriggerSupport.Prop(p, "notIn")).Select(s => s.ToUpperInvariant()).ToList();
                return (@in.Count == 0 || @in.Contains(state)) && !notIn.Contains(state);
            }

            case "ExecutionFlow":
                return TriggerSupport.Str(p, "namespace") == ended.Namespace && TriggerSupport.Str(p, "flowId") == ended.FlowId;
            case "ExecutionNamespace":
            {
                var ns = TriggerSupport.Str(p, "namespace") ?? "";
                var comparison = TriggerSupport.Str(p, "comparison")?.ToUpperInvariant() ?? (TriggerSupport.Flag(p, "prefix") ? "PREFIX" : "EQUALS");
                return comparison switch
                {
                    "PREFIX" => ended.Namespace.StartsWith(ns, StringComparison.Ordinal),
                    "SUFFIX" => ended.Namespace.EndsWith(ns, StringComparison.Ordinal),
                    _ => ended.Namespace == ns,
                };
            }

            case "Expression":
            case "ExecutionOutputs":
                return TriggerSupport.Expression(_runtime.Expressions, TriggerSupport.Str(p, "expression"), context);
            case "ExecutionLabels":
                return TriggerSupport.ExpectedLabels(TriggerSupport.Prop(p, "labels")).All(expected => ended.Labels.Any(l => l.Key == expected.Key && l.Value == expected.Value));
            case "Not":
                return !TriggerSupport.Conditions(p).Any(c => ConditionMet(TriggerSupport.ConditionName(c.Type), c.Props, ended, context));
            case "Or":
                return TriggerSupport.Conditions(p).Any(c => ConditionMet(TriggerSupport.ConditionName(c.Type), c.Props, ended, context));
            case "Multiple":
                return false;
            default:
                return true;
        }
    }


    // ================================================================ preconditions

    /// <summary>
    /// <c>preconditions</c>: every <c>flows</c> entry (namespace, flowId, states — default SUCCESS, labels) and every
    /// <c>where</c> entry (filters on NAMESPACE, FLOW_ID, STATE, EXPRESSION) must be matched by some execution within the
    /// <c>timeWindow</c> (DURATION_WINDOW — fixed windows of <c>window</c>, default PT24H —, SLIDING_WINDOW,
    /// DAILY_TIME_WINDOW, DAILY_TIME_DEADLINE). Progress is persisted; reset when fired unless <c>resetOnSuccess: false</c>.
    /// </summary>
    private async Task<bool> PreconditionsMetAsync(Flow flow, TriggerDefinition trigger, TriggerState? state, IReadOnlyDictionary<string, object?> preconditions,
        Execution ended, IReadOnlyDictionary<string, object?> context, CancellationToken cancellationToken)
    {
        var entries = new List<(string Id, Func<bool> Match)>();
        var index = 0;
        foreach (var upstream in (TriggerSupport.Prop(preconditions, "flows") as IEnumerable<object?> ?? []).OfType<IReadOnlyDictionary<string, object?>>())
        {
            var id = "flow_" + index++;
            entries.Add((id, () =>
            {
                var states = TriggerSupport.Strings(TriggerSupport.Prop(upstream, "states")).Select(s => s.ToUpperInvariant()).ToList();
                if (states.Count == 0)
                {
                    states.Add("SUCCESS");
                }

                return (TriggerSupport.Str(upstream, "namespace") is not { } ns || ns == ended.Namespace)
                    && (TriggerSupport.Str(upstream, "flowId") is not { } f || f == ended.FlowId)
                    && states.Contains(ended.State.Current.ToKestraName())
                    && TriggerSupport.ExpectedLabels(TriggerSupport.Prop(upstream, "labels")).All(expected => ended.Labels.Any(l => l.Key == expected.Key && l.Value == expected.Value));
            }));
        }

        index = 0;
        foreach (var where in (TriggerSupport.Prop(preconditions, "where") as IEnumerable<object?> ?? []).OfType<IReadOnlyDictionary<string, object?>>())
        {
            var id = "where_" + (TriggerSupport.Str(where, "id") ?? index.ToString(CultureInfo.InvariantCulture));
            index++;
            var filters = (TriggerSupport.Prop(where, "filters") as IEnumerable<object?> ?? []).OfType<IReadOnlyDictionary<string, object?>>().ToList();
            var any = TriggerSupport.Str(where, "operand")?.ToUpperInvariant() == "OR";
            entries.Add((id, () => any ? filters.Any(f => FilterMet(f, ended, context)) : filters.All(f => FilterMet(f, ended, context))));
        }

        if (entries.Count == 0)
        {
            return true;
        }

        var now = Time.GetUtcNow();
        var window = TriggerSupport.Map(TriggerSupport.Prop(preconditions, "timeWindow")) ?? ImmutableDictionary<string, object?>.Empty;
        var satisfied = Load(state?.Data);
        var (from, windowStart) = WindowStart(window, now);
        if (satisfied.WindowStart != windowStart)
        {
            satisfied = new Progress { WindowStart = windowStart };
        }

        foreach (var key in satisfied.Dates.Where(kv => kv.Value < from).Select(kv => kv.Key).ToList())
        {
            satisfied.Dates.Remove(key);
        }

        var changed = false;
        foreach (var (id, match) in entries)
        {
            if (from <= now && match())
            {
                satisfied.Dates[id] = now;
                changed = true;
            }
        }

        var met = entries.All(e => satisfied.Dates.ContainsKey(e.Id));
        if (met && TriggerSupport.Flag(preconditions, "resetOnSuccess", fallback: true))
        {
            satisfied.Dates.Clear();
            changed = true;
        }

        if (changed)
        {
            var updated = (state ?? new TriggerState { Namespace = flow.Namespace, FlowId = flow.Id, TriggerId = trigger.Id })
                with { Data = JsonSerializer.Serialize(satisfied.ToJson()), Updated = now, LastFire = met ? now : state?.LastFire };
            await _states.SaveAsync(updated, cancellationToken).ConfigureAwait(false);
        }

        return met;
    }

    private bool FilterMet(IReadOnlyDictionary<string, object?> filter, Execution ended, IReadOnlyDictionary<string, object?> context)
    {
        var field = TriggerSupport.Str(filter, "field")?.ToUpperInvariant();
        var type = TriggerSupport.Str(filter, "type")?.ToUpperInvariant() ?? "EQUAL_TO";
        var value = TriggerSupport.Prop(filter, "value");
        string? actual = field switch
        {
            "NAMESPACE" => ended.Namespace,
            "FLOW_ID" => ended.FlowId,
            "STATE" => ended.State.Current.ToKestraName(),
            "EXPRESSION" => null,
            _ => null,
        };
        if (field == "EXPRESSION")
        {
            var result = TriggerSupport.Expression(_runtime.Expressions, value?.ToString(), context);
            return type == "IS_FALSE" ? !result : result;
        }

        var text = value?.ToString();
        var values = TriggerSupport.Strings(value).ToList();
        return type switch
        {
            "EQUAL_TO" => actual == text,
            "NOT_EQUAL_TO" => actual != text,
            "IN" => values.Contains(actual ?? ""),
            "NOT_IN" => !values.Contains(actual ?? ""),
            "STARTS_WITH" => text is not null && actual?.StartsWith(text, StringComparison.Ordinal) == true,
            "ENDS_WITH" => text is not null && actual?.EndsWith(text, StringComparison.Ordinal) == true,
            "CONTAINS" => text is not null && actual?.Contains(text, StringComparison.Ordinal) == true,
            "REGEX" => text is not null && actual is not null && System.Text.RegularExpressions.Regex.IsMatch(actual, text),
            "IS_NULL" => actual is null,
            "IS_NOT_NULL" => actual is not null,
            _ => false,
        };
    }

    /// <summary>The earliest date a satisfaction still counts from, and the identity of the current fixed window (if any).</summary>
    private static (DateTimeOffset From, DateTimeOffset? WindowStart) WindowStart(IReadOnlyDictionary<string, object?> window, DateTimeOffset now)
    {
        var type = TriggerSupport.Str(window, "type")?.ToUpperInvariant() ?? "DURATION_WINDOW";
        var length = Duration(TriggerSupport.Str(window, "window")) ?? TimeSpan.FromDays(1);
        switch (type)
        {
            case "SLIDING_WINDOW":
                return (now - length, null);
            case "DAILY_TIME_WINDOW":
            {
                var start = now.Date + (TimeOfDay(TriggerSupport.Str(window, "startTime")) ?? TimeSpan.Zero);
                var end = now.Date + (TimeOfDay(TriggerSupport.Str(window, "endTime")) ?? TimeSpan.FromDays(1));
                var s = new DateTimeOffset(start, TimeSpan.Zero);
                return now <= new DateTimeOffset(end, TimeSpan.Zero) ? (s, s) : (DateTimeOffset.MaxValue, s);
            }

            case "DAILY_TIME_DEADLINE":
            {
                var day = new DateTimeOffset(now.Date, TimeSpan.Zero);
                var deadline = day + (TimeOfDay(TriggerSupport.Str(window, "deadline")) ?? TimeSpan.FromDays(1));
                return now <= deadline ? (day, day) : (DateTimeOffset.MaxValue, day);
            }

            default:
            {
                var advance = Duration(TriggerSupport.Str(window, "windowAdvance")) ?? TimeSpan.Zero;
                var ticks = (now - advance).UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
                var start = DateTimeOffset.UnixEpoch + advance + TimeSpan.FromTicks(ticks - (ticks % length.Ticks));
                return (start, start);
            }
        }
    }

    private static TimeSpan? Duration(string? iso)
    {
        if (iso is null)
        {
            return null;
        }

        try
        {
            return System.Xml.XmlConvert.ToTimeSpan(iso);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static TimeSpan? TimeOfDay(string? text) =>
        text is not null && TimeOnly.TryParse(text.Split('+', 'Z')[0], CultureInfo.InvariantCulture, out var t) ? t.ToTimeSpan() : null;

    private sealed class Progress
    {
        public DateTimeOffset? WindowStart { get; init; }
        public Dictionary<string, DateTimeOffset> Dates { get; } = new(StringComparer.Ordinal);

        public JsonObject ToJson()
        {
            var dates = new JsonObject();
            foreach (var (k, v) in Dates)
            {
                dates[k] = v.UtcTicks;
            }

            return new JsonObject { ["windowStart"] = WindowStart?.UtcTicks, ["satisfied"] = dates };
        }
    }

    private static Progress Load(string? data)
    {
        if (data is null || JsonNode.Parse(data) is not JsonObject o)
        {
            return new Progress();
        }

        var progress = new Progress { WindowStart = o["windowStart"] is JsonValue w && w.TryGetValue<long>(out var ws) ? new DateTimeOffset(ws, TimeSpan.Zero) : null };
        foreach (var (k, v) in o["satisfied"] as JsonObject ?? [])
        {
            if (v is JsonValue value && value.TryGetValue<long>(out var ticks))
            {
                progress.Dates[k] = new DateTimeOffset(ticks, TimeSpan.Zero);
            }
        }

        return progress;
    }
}

using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Text;

namespace Windhover.Flows.TaskTypes;

/// <summary>
/// The plugin types a flow may use. <see cref="CreateDefault"/> holds Kestra's core types; plugins add their own
/// with <see cref="Register"/> (register at start-up, before flows are parsed concurrently).
/// </summary>
public sealed class TaskTypeRegistry
{
    private readonly ConcurrentDictionary<string, ResolvedType> _byName = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TaskTypeDescriptor> _canonical = new(StringComparer.Ordinal);

    /// <summary>Properties every task accepts, in the order used by "known properties" messages.</summary>
    public static readonly ImmutableArray<PropertyDescriptor> CommonTaskPropertiesHead =
    [
        new("logLevel", PropertyKind.String) { AllowedValues = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"] },
        new("timeout", PropertyKind.Duration),
        new("retry", PropertyKind.Object),
        new("allowWarning", PropertyKind.Boolean),
    ];

    public static readonly ImmutableArray<PropertyDescriptor> CommonTaskPropertiesTail =
    [
        new("type", PropertyKind.String, true),
        new("id", PropertyKind.String, true),
        new("description", PropertyKind.String),
        new("workerGroup", PropertyKind.Object),
        new("runIf", PropertyKind.String | PropertyKind.Boolean),
        new("logToFile", PropertyKind.Boolean),
        new("disabled", PropertyKind.Boolean),
        new("allowFailure", PropertyKind.Boolean),
    ];

    /// <summary>Properties flowable tasks accept besides the common ones.</summary>
    public static readonly ImmutableArray<PropertyDescriptor> FlowableProperties =
    [
        new("errors", PropertyKind.Tasks),
        new("finally", PropertyKind.Tasks),
    ];

    public static readonly ImmutableArray<PropertyDescriptor> CommonTriggerProperties =
    [
        new("id", PropertyKind.String, true),
        new("type", PropertyKind.String, true),
        new("description", PropertyKind.String),
        new("conditions", PropertyKind.Conditions),
        new("disabled", PropertyKind.Boolean),
        new("workerGroup", PropertyKind.Object),
        new("logLevel", PropertyKind.String) { AllowedValues = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"] },
        new("minLogLevel", PropertyKind.String) { AllowedValues = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"] },
        new("logToFile", PropertyKind.Boolean),
        new("stopAfter", PropertyKind.List),
        new("failOnTriggerError", PropertyKind.Boolean),
    ];

    public static readonly ImmutableArray<PropertyDescriptor> CommonPluginProperties =
    [
        new("type", PropertyKind.String, true),
    ];

    public void Register(TaskTypeDescriptor descriptor)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        var resolved = new ResolvedType(descriptor);
        _canonical[descriptor.Name] = descriptor;
        _byName[descriptor.Name] = resolved;
        foreach (var alias in descriptor.Aliases)
        {
            _byName[alias] = resolved;
        }
    }

    /// <summary>The descriptor for a type name or alias, or null when unknown.</summary>
    public TaskTypeDescriptor? Resolve(string name) => _byName.TryGetValue(name, out var r) ? r.Descriptor : null;

    public bool IsKnown(string name) => _byName.ContainsKey(name);

    /// <summary>All registered descriptors (canonical names only).</summary>
    public IReadOnlyCollection<TaskTypeDescriptor> Types => (IReadOnlyCollection<TaskTypeDescriptor>)_canonical.Values;

    internal ResolvedType? ResolveInternal(string name) => _byName.TryGetValue(name, out var r) ? r : null;

    /// <summary>
    /// The known type (canonical name) closest to <paramref name="name"/> by edit distance on simple and full names,
    /// or null when nothing is reasonably close.
    /// </summary>
    public string? NearestKnown(string name) => NearestKnown(name, null);

    /// <summary>As <see cref="NearestKnown(string)"/>, among types of the given kinds only (all when null or empty).</summary>
    public string? NearestKnown(string name, IReadOnlyCollection<TaskKind>? kinds)
    {
        if (string.IsNullOrEmpty(name))
        {
            return null;
        }

        var simple = name[(name.LastIndexOf('.') + 1)..];
        string? best = null;
        int bestScore = int.MaxValue;
        foreach (var (candidateName, resolved) in _byName)
        {
            if (kinds is { Count: > 0 } && !kinds.Contains(resolved.Descriptor.Kind))
            {
                continue;
            }

            var candidateSimple = candidateName[(candidateName.LastIndexOf('.') + 1)..];
            var score = Math.Min(
                Levenshtein(simple, candidateSimple, ignoreCase: true),
                Levenshtein(name, candidateName, ignoreCase: true));
            if (score < bestScore || (score == bestScore && best is not null && string.CompareOrdinal(resolved.Descriptor.Name, best) < 0))
            {
                bestScore = score;
                best = resolved.Descriptor.Name;
            }
        }

        var threshold = Math.Max(2, simple.Length / 3);
        return bestScore <= threshold ? best : null;
    }

    internal static int Levenshtein(string a, string b, bool ignoreCase)
    {
        if (a.Length == 0)
        {
            return b.Length;
        }

        if (b.Length == 0)
        {
            return a.Length;
        }

        Span<int> prev = b.Length < 256 ? stackalloc int[b.Length + 1] : new int[b.Length + 1];
        Span<int> cur = b.Length < 256 ? stackalloc int[b.Length + 1] : new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++)
        {
            prev[j] = j;
        }

        for (int i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            var ca = ignoreCase ? char.ToLowerInvariant(a[i - 1]) : a[i - 1];
            for (int j = 1; j <= b.Length; j++)
            {
                var cb = ignoreCase ? char.ToLowerInvariant(b[j - 1]) : b[j - 1];
                var cost = ca == cb ? 0 : 1;
                cur[j] = Math.Min(Math.Min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }

            var tmp = prev;
            prev = cur;
            cur = tmp;
        }

        return prev[b.Length];
    }

    /// <summary>A registry with every Kestra core type.</summary>
    public static TaskTypeRegistry CreateDefault()
    {
        var registry = new TaskTypeRegistry();
        foreach (var d in CoreTaskTypes.All())
        {
            registry.Register(d);
        }

        return registry;
    }
}

/// <summary>A descriptor with its full property table (common + specific), computed once per type.</summary>
internal sealed class ResolvedType
{
    public ResolvedType(TaskTypeDescriptor descriptor)
    {
        Descriptor = descriptor;
        var all = new List<PropertyDescriptor>();
        switch (descriptor.Kind)
        {
            case TaskKind.Runnable or TaskKind.Flowable or TaskKind.Executable or TaskKind.Other:
                all.AddRange(TaskTypeRegistry.CommonTaskPropertiesHead);
                all.AddRange(descriptor.Properties);
                if (descriptor.Kind == TaskKind.Flowable)
                {
                    all.AddRange(TaskTypeRegistry.FlowableProperties);
                }

                all.AddRange(TaskTypeRegistry.CommonTaskPropertiesTail);
                break;
            case TaskKind.Trigger:
                all.AddRange(TaskTypeRegistry.CommonTriggerProperties);
                all.AddRange(descriptor.Properties);
                break;
            default:
                all.AddRange(descriptor.Properties);
                all.AddRange(TaskTypeRegistry.CommonPluginProperties);
                break;
        }

        var dict = new Dictionary<string, PropertyDescriptor>(StringComparer.Ordinal);
        var ordered = new List<PropertyDescriptor>();
        foreach (var p in all)
        {
            if (dict.TryAdd(p.Name, p))
            {
                ordered.Add(p);
            }
            else
            {
                // a type-specific definition overrides the common one
                dict[p.Name] = p;
                ordered[ordered.FindIndex(x => x.Name == p.Name)] = p;
            }
        }

        Properties = dict.ToFrozenDictionary(StringComparer.Ordinal);
        Ordered = [.. ordered];
        Required = [.. ordered.Where(p => p.Required && p.Name is not "id" and not "type")];
    }

    public TaskTypeDescriptor Descriptor { get; }
    public FrozenDictionary<string, PropertyDescriptor> Properties { get; }
    public ImmutableArray<PropertyDescriptor> Ordered { get; }
    public ImmutableArray<PropertyDescriptor> Required { get; }

    private string? _knownSuffix;

    /// <summary>Kestra/Jackson's message for a property the type does not know.</summary>
    public string UnrecognizedField(string field)
    {
        _knownSuffix ??= BuildKnownSuffix(Descriptor.Name, Ordered.Select(p => p.Name).ToList());
        return $"Unrecognized field \"{field}\" (class {Descriptor.Name}), not marked as ignorable {_knownSuffix}";
    }

    internal static string BuildKnownSuffix(string _, IReadOnlyList<string> names)
    {
        var sb = new StringBuilder();
        sb.Append('(').Append(names.Count).Append(" known properties: ");
        for (int i = 0; i < names.Count; i++)
        {
            if (i > 0)
            {
                sb.Append(", ");
            }

            sb.Append('"').Append(names[i]).Append('"');
        }

        return sb.Append("])").ToString();
    }
}

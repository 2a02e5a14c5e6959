using System.Collections.Immutable;
using Windhover.Flows.Model;
using Windhover.Flows.TaskTypes;
using Windhover.Flows.Validation;

namespace Windhover.Flows.Yaml;

/// <summary>The outcome of reading one YAML document.</summary>
/// <param name="Flow">The flow when the document has no problem; null otherwise (see <see cref="Draft"/>).</param>
/// <param name="Problems">Every problem found, in document order.</param>
public sealed record FlowParseResult(Flow? Flow, ImmutableArray<FlowProblem> Problems)
{
    /// <summary>The file the document came from ("" when parsed from a string).</summary>
    public string Path { get; init; } = "";

    /// <summary>The document's original text.</summary>
    public string Source { get; init; } = "";

    /// <summary>The flow as far as it could be read, even when there are problems (for tooling); null when not a map.</summary>
    public Flow? Draft { get; init; }

    public bool IsValid => Problems.IsEmpty && Flow is not null;
}

/// <summary>
/// Reads Kestra flow YAML into the immutable <see cref="Flow"/> model and validates it, reporting every problem
/// at once with its line and column. Thread-safe; reuse one instance.
/// </summary>
public sealed class FlowParser
{
    private static readonly Lazy<FlowParser> DefaultParser = new(() => new FlowParser(TaskTypeRegistry.CreateDefault()));

    private readonly FlowValidator _validator;

    public FlowParser(TaskTypeRegistry? registry = null, FlowValidationOptions? options = null)
    {
        Registry = registry ?? TaskTypeRegistry.CreateDefault();
        Options = options ?? FlowValidationOptions.Default;
        _validator = new FlowValidator(Registry, Options);
    }

    /// <summary>A parser over <see cref="TaskTypeRegistry.CreateDefault"/> with default options.</summary>
    public static FlowParser Default => DefaultParser.Value;

    public TaskTypeRegistry Registry { get; }

    public FlowValidationOptions Options { get; }

    /// <summary>Parses and validates a single flow. More than one document is a problem; use <see cref="ParseAll"/>.</summary>
    public FlowParseResult Parse(string yaml, string? path = null)
    {
        var results = ParseAll(yaml, path);
        if (results.Count == 1)
        {
            return results[0];
        }

        var first = results[0];
        var extra = new FlowProblem(path ?? "", $"Expected one flow but the text holds {results.Count} YAML documents",
            results[1].Draft?.Position ?? SourcePosition.Unknown, null);
        return first with { Flow = null, Problems = first.Problems.Add(extra) };
    }

    /// <summary>Parses and validates every document (separated by <c>---</c>), each as its own flow.</summary>
    public IReadOnlyList<FlowParseResult> ParseAll(string yaml, string? path = null)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        path ??= "";
        var documents = YamlLoader.Load(yaml);
        var results = new List<FlowParseResult>(Math.Max(1, documents.Count));
        if (documents.Count == 0)
        {
            results.Add(new FlowParseResult(null, [new FlowProblem(path, "The flow is empty", new SourcePosition(1, 1), null)]) { Path = path, Source = yaml });
            return results;
        }

        foreach (var document in documents)
        {
            // an empty document between or after flows (e.g. a trailing '---') is not a flow
            if (documents.Count > 1 && document.Errors.Count == 0 && IsEmpty(document.Root))
            {
                continue;
            }

            var problems = new List<FlowProblem>();
            foreach (var (message, position, propertyPath) in document.Errors)
            {
                problems.Add(new FlowProblem(path, message, position, propertyPath));
            }

            var source = yaml[document.StartIndex..Math.Max(document.StartIndex, document.EndIndex)];
            var reader = new FlowReader(Registry, Options, path, problems);
            var flow = document.Root is null && problems.Count > 0 ? null : reader.ReadFlow(document.Root, source, document.Position);
            if (flow is not null)
            {
                _validator.Validate(flow, path, problems);
            }

            problems.Sort(static (a, b) =>
            {
                var c = a.Position.Line.CompareTo(b.Position.Line);
                return c != 0 ? c : a.Position.Column.CompareTo(b.Position.Column);
            });
            results.Add(new FlowParseResult(problems.Count == 0 ? flow : null, [.. problems]) { Path = path, Source = source, Draft = flow });
        }

        if (results.Count == 0)
        {
            results.Add(new FlowParseResult(null, [new FlowProblem(path, "The flow is empty", new SourcePosition(1, 1), null)]) { Path = path, Source = yaml });
        }

        return results;
    }

    private static bool IsEmpty(YNode? root) => root is null || (root is YScalar s && s.IsPlain && s.Text.Length == 0);

    /// <summary>Reads and validates a file (all its documents).</summary>
    public IReadOnlyList<FlowParseResult> ParseFile(string filePath) => ParseAll(File.ReadAllText(filePath), filePath);
}

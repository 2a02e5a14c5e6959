using Windhover.Flows.Model;

namespace Windhover.Engine.Stores;

/// <summary>One stored revision of a flow: its YAML source and the parsed model (whose <see cref="Flow.Revision"/> is set).</summary>
public sealed record FlowRecord(string Namespace, string Id, int Revision, string Source, Flow Flow, DateTimeOffset Updated);

/// <summary>Flow search: namespace prefix (<c>a.b</c> matches <c>a.b</c> and <c>a.b.c</c>), free text in id or namespace, paging (1-based).</summary>
public sealed record FlowQuery
{
    public string? Namespace { get; init; }
    public string? Query { get; init; }
    public int Page { get; init; } = 1;
    public int Size { get; init; } = 25;
}

public sealed record PagedResult<T>(IReadOnlyList<T> Results, long Total);

/// <summary>
/// Flows by namespace and id, with revisions. Saving a source identical to the latest revision keeps that revision;
/// any change creates revision + 1. Deleting hides the flow (its revisions stay for executions that reference them);
/// saving it again continues the revision sequence.
/// </summary>
public interface IFlowStore
{
    /// <summary>Stores <paramref name="flow"/> (its <see cref="Flow.Source"/> is the content) and returns the current revision.</summary>
    Task<FlowRecord> SaveAsync(Flow flow, CancellationToken cancellationToken = default);

    /// <summary>The latest revision of a live flow, or a given revision (also of a deleted flow); null when absent.</summary>
    Task<FlowRecord?> GetAsync(string @namespace, string id, int? revision = null, CancellationToken cancellationToken = default);

    /// <summary>Every revision number of the flow, ascending.</summary>
    Task<IReadOnlyList<int>> RevisionsAsync(string @namespace, string id, CancellationToken cancellationToken = default);

    /// <summary>Latest revisions of live flows, ordered by namespace then id.</summary>
    Task<PagedResult<FlowRecord>> SearchAsync(FlowQuery query, CancellationToken cancellationToken = default);

    /// <summary>Distinct namespaces of live flows, sorted.</summary>
    Task<IReadOnlyList<string>> NamespacesAsync(CancellationToken cancellationToken = default);

    Task<bool> DeleteAsync(string @namespace, string id, CancellationToken cancellationToken = default);

    /// <summary>
    /// A number that changes whenever a flow is saved or deleted: by this process before the save returns, by another
    /// node as soon as the store is told. -1 when the store cannot tell (then callers must not cache flow lists).
    /// </summary>
    long ChangeVersion => -1;
}

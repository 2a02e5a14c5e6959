namespace Windhover.Flows.Model;

/// <summary>A 1-based line and column in a flow's YAML source.</summary>
public readonly record struct SourcePosition(int Line, int Column)
{
    public static readonly SourcePosition Unknown = new(0, 0);

    public override string ToString() => $"{Line}:{Column}";
}

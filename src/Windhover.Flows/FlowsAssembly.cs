namespace Windhover.Flows;

/// <summary>Marker type for the Windhover.Flows assembly.</summary>
public static class FlowsAssembly;

namespace Windhover.Engine.Tasks;

/// <summary>A task property is missing or cannot be converted to the type the task needs.</summary>
public sealed class TaskPropertyException(string message, Exception? inner = null) : Exception(message, inner);

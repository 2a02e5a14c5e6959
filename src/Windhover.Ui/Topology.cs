using Windhover.Flows.Model;

namespace Windhover.Ui;

/// <summary>Lays out a flow's tasks top to bottom for an SVG: a box per task, a dashed group around a flowable task's children.</summary>
internal static class Topology
{
    public sealed record Box(double X, double Y, double Width, double Height, string Label, string Type, bool Group);

    public sealed record Layout(IReadOnlyList<Box> Boxes, IReadOnlyList<(double X, double Y1, double Y2)> Edges, double Width, double Height);

    private const double BoxWidth = 240, BoxHeight = 40, Gap = 18, Pad = 12, Header = 26;

    private static readonly string[] ChildProperties = ["tasks", "then", "else"];

    public static Layout Of(IReadOnlyList<TaskDefinition> tasks)
    {
        var boxes = new List<Box>();
        var edges = new List<(double, double, double)>();
        var (width, height) = Place(tasks, 10, 10, boxes, edges);
        return new Layout(boxes, edges, width + 20, height + 20);
    }

    private static IReadOnlyList<TaskDefinition> Children(TaskDefinition task)
    {
        var list = new List<TaskDefinition>();
        foreach (var property in ChildProperties)
        {
            list.AddRange(task.TaskList(property));
        }

        if (task.Properties.TryGetValue("tasks", out var value) && value is IEnumerable<DagTaskDefinition> dag)
        {
            list.AddRange(dag.Select(d => d.Task));
        }

        return list;
    }

    private static (double Width, double Height) Place(IReadOnlyList<TaskDefinition> tasks, double x, double y, List<Box> boxes, List<(double, double, double)> edges)
    {
        var top = y;
        var width = BoxWidth;
        double? previousBottom = null;
        foreach (var task in tasks)
        {
            var shortType = task.Type[(task.Type.LastIndexOf('.') + 1)..];
            var children = Children(task);
            double height;
            if (children.Count == 0)
            {
                boxes.Add(new Box(x, y, BoxWidth, BoxHeight, task.Id, shortType, false));
                height = BoxHeight;
            }
            else
            {
                var groupIndex = boxes.Count;
                boxes.Add(null!);
                var (innerWidth, innerHeight) = Place(children, x + Pad, y + Header, boxes, edges);
                var groupWidth = Math.Max(BoxWidth, innerWidth + (2 * Pad));
                height = Header + innerHeight + Pad;
                boxes[groupIndex] = new Box(x, y, groupWidth, height, task.Id, shortType, true);
                width = Math.Max(width, groupWidth);
            }

            if (previousBottom is { } bottom)
            {
                edges.Add((x + (BoxWidth / 2), bottom, y));
            }

            previousBottom = y + height;
            y += height + Gap;
        }

        return (width, Math.Max(0, y - Gap - top));
    }
}

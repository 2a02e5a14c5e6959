using Windhover.Flows.TaskTypes;
using Windhover.Flows.Yaml;

namespace Windhover.Flows.Tests.TaskTypes;

public sealed class TaskTypeRegistryTests
{
    private static readonly TaskTypeRegistry Registry = TaskTypeRegistry.CreateDefault();

    [Theory]
    [InlineData("io.kestra.core.tasks.log.Log", "io.kestra.plugin.core.log.Log")]
    [InlineData("io.kestra.core.tasks.debug.Return", "io.kestra.plugin.core.debug.Return")]
    [InlineData("io.kestra.core.tasks.debug.Echo", "io.kestra.plugin.core.debug.Echo")]
    [InlineData("io.kestra.core.tasks.flows.Flow", "io.kestra.plugin.core.flow.Subflow")]
    [InlineData("io.kestra.core.tasks.flows.EachSequential", "io.kestra.plugin.core.flow.EachSequential")]
    [InlineData("io.kestra.core.tasks.flows.EachParallel", "io.kestra.plugin.core.flow.EachParallel")]
    [InlineData("io.kestra.core.tasks.flows.Pause", "io.kestra.plugin.core.flow.Pause")]
    [InlineData("io.kestra.core.tasks.executions.Fail", "io.kestra.plugin.core.execution.Fail")]
    [InlineData("io.kestra.core.tasks.trigger.Toggle", "io.kestra.plugin.core.trigger.Toggle")]
    [InlineData("io.kestra.core.models.triggers.types.Schedule", "io.kestra.plugin.core.trigger.Schedule")]
    [InlineData("io.kestra.core.models.conditions.types.ExecutionStatusCondition", "io.kestra.plugin.core.condition.ExecutionStatus")]
    [InlineData("io.kestra.plugin.core.flow.Dag", "io.kestra.plugin.core.flow.Dag")]
    public void Resolves_names_and_legacy_aliases(string name, string canonical)
    {
        Assert.Equal(canonical, Registry.Resolve(name)?.Name);
    }

    [Fact]
    public void Kinds_and_property_kinds()
    {
        Assert.Equal(TaskKind.Flowable, Registry.Resolve("io.kestra.plugin.core.flow.Parallel")!.Kind);
        Assert.Equal(TaskKind.Trigger, Registry.Resolve("io.kestra.plugin.core.trigger.Webhook")!.Kind);
        Assert.Equal(TaskKind.Condition, Registry.Resolve("io.kestra.plugin.core.condition.Expression")!.Kind);
        Assert.Equal(TaskKind.TaskRunner, Registry.Resolve("io.kestra.plugin.core.runner.Process")!.Kind);
        var sw = Registry.Resolve("io.kestra.plugin.core.flow.Switch")!;
        Assert.Equal(PropertyKind.TaskMap, sw.Properties.Single(p => p.Name == "cases").Kind);
        Assert.Equal(PropertyKind.DagTasks, Registry.Resolve("io.kestra.plugin.core.flow.Dag")!.Properties.Single(p => p.Name == "tasks").Kind);
        Assert.True(Registry.Resolve("io.kestra.plugin.core.log.Log")!.Properties.Single(p => p.Name == "message").Required);
    }

    [Fact]
    public void Nearest_known_by_edit_distance()
    {
        Assert.Equal("io.kestra.plugin.core.debug.Return", Registry.NearestKnown("io.kestra.plugin.core.debug.Retrun"));
        Assert.Equal("io.kestra.plugin.core.flow.Switch", Registry.NearestKnown("io.kestra.plugin.core.flows.Switch"));
        Assert.Equal("io.kestra.plugin.core.flow.Parallel", Registry.NearestKnown("Paralel"));
        Assert.Null(Registry.NearestKnown("com.acme.CompletelyDifferentThing"));
    }

    [Fact]
    public void Plugins_register_their_own_types()
    {
        var registry = TaskTypeRegistry.CreateDefault();
        registry.Register(new TaskTypeDescriptor
        {
            Name = "com.acme.Shout",
            Aliases = ["com.acme.legacy.Shout"],
            Kind = TaskKind.Runnable,
            Properties = [new PropertyDescriptor("text", PropertyKind.String, Required: true), new PropertyDescriptor("times", PropertyKind.Integer)],
        });
        var parser = new FlowParser(registry);
        var ok = parser.Parse("id: a\nnamespace: ns\ntasks:\n  - id: s\n    type: com.acme.legacy.Shout\n    text: hey\n    times: 3\n");
        Assert.True(ok.IsValid, string.Join("\n", ok.Problems));
        Assert.Equal("com.acme.Shout", ok.Flow!.Tasks[0].CanonicalType);

        var bad = parser.Parse("id: a\nnamespace: ns\ntasks:\n  - id: s\n    type: com.acme.Shout\n    times: x\n");
        Assert.Equal(["4:5: Missing required property 'text'", "6:12: Invalid value for 'times': expected an integer, got a string"],
            bad.Problems.Select(p => p.ToString()).ToArray());
        Assert.False(FlowParser.Default.Registry.IsKnown("com.acme.Shout"));
    }
}

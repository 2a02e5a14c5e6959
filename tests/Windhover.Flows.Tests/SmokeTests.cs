namespace Windhover.Flows.Tests;

public sealed class SmokeTests
{
    [Fact]
    public void Assembly_loads()
    {
        Assert.Equal("Windhover.Flows", typeof(Windhover.Flows.FlowsAssembly).Assembly.GetName().Name);
    }
}

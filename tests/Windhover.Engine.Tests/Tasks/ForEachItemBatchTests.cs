using Windhover.Engine.Tasks;
using Windhover.Engine.Tasks.Core;

namespace Windhover.Engine.Tests.Tasks;

/// <summary>How ForEachItem's split cuts the items file: by rows, by partitions, by size in bytes.</summary>
public sealed class ForEachItemBatchTests
{
    private static readonly string[] Lines = ["a", "bb", "ccc", "dddd", "eeeee"]; // 2, 3, 4, 5, 6 bytes with newlines

    [Fact]
    public void Rows_and_partitions()
    {
        Assert.Equal([(0, 2), (2, 2), (4, 1)], ForEachItemSplitTask.Batches(Lines, null, 2, null));
        Assert.Equal([(0, 1), (1, 1), (2, 1), (3, 1), (4, 1)], ForEachItemSplitTask.Batches(Lines, null, null, null));
        Assert.Equal([(0, 3), (3, 2)], ForEachItemSplitTask.Batches(Lines, 2, null, null));
    }

    [Fact]
    public void Bytes_take_as_many_whole_lines_as_fit_and_at_least_one()
    {
        Assert.Equal([(0, 2), (2, 1), (3, 1), (4, 1)], ForEachItemSplitTask.Batches(Lines, null, null, 5));
        Assert.Equal([(0, 3), (3, 1), (4, 1)], ForEachItemSplitTask.Batches(Lines, null, null, 9));
        Assert.Equal([(0, 5)], ForEachItemSplitTask.Batches(Lines, null, null, 1024));
        // a line longer than the limit still makes a batch of its own
        Assert.Equal([(0, 1), (1, 1), (2, 1), (3, 1), (4, 1)], ForEachItemSplitTask.Batches(Lines, null, null, 1));
        Assert.Empty(ForEachItemSplitTask.Batches([], null, null, 10));
    }

    [Theory]
    [InlineData("512", 512L)]
    [InlineData("10B", 10L)]
    [InlineData("2KB", 2048L)]
    [InlineData("10MB", 10L * 1024 * 1024)]
    [InlineData("1gb", 1024L * 1024 * 1024)]
    public void Sizes_as_Kestra_writes_them(string text, long bytes) =>
        Assert.Equal(bytes, ForEachItemSplitTask.DataSize(text, "batch.bytes"));

    [Theory]
    [InlineData("ten")]
    [InlineData("10TB")]
    [InlineData("0")]
    [InlineData("-5MB")]
    public void Bad_sizes_name_the_property(string text)
    {
        var error = Assert.Throws<TaskPropertyException>(() => ForEachItemSplitTask.DataSize(text, "batch.bytes"));
        Assert.Contains("batch.bytes", error.Message, StringComparison.Ordinal);
    }
}

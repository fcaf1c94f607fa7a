using ServeGate.LoadTests.Metrics;

namespace ServeGate.LoadTests.Tests;

public sealed class PercentilesTests
{
    [Theory]
    [InlineData(0, 1)]
    [InlineData(50, 50.5)]
    [InlineData(90, 90.1)]
    [InlineData(99, 99.01)]
    [InlineData(100, 100)]
    public void Of_OneToHundred_InterpolatesLikeNumpy(double percentile, double expected)
    {
        var values = Enumerable.Range(1, 100).Select(i => (double)i).ToArray();

        Assert.Equal(expected, Percentiles.Of(values, percentile), 9);
    }

    [Fact]
    public void Summarize_UnsortedValues_GivesCountMeanAndPercentiles()
    {
        var stats = Percentiles.Summarize([30, 10, 20, 40]);

        Assert.Equal(4, stats.Count);
        Assert.Equal(25, stats.Mean);
        Assert.Equal(10, stats.Min);
        Assert.Equal(25, stats.P50);
        Assert.Equal(37, stats.P90);
        Assert.Equal(40, stats.Max);
    }

    [Fact]
    public void Summarize_NoValues_AllNull()
    {
        var stats = Percentiles.Summarize([]);

        Assert.Equal(0, stats.Count);
        Assert.Null(stats.P50);
        Assert.Null(stats.P99);
        Assert.Null(stats.Mean);
    }
}

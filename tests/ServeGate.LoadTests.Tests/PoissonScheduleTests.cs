using ServeGate.LoadTests.Scenarios;

namespace ServeGate.LoadTests.Tests;

public sealed class PoissonScheduleTests
{
    [Fact]
    public void ArrivalOffsets_SameSeed_SameSchedule()
    {
        Assert.Equal(PoissonSchedule.ArrivalOffsets(5, 200, seed: 7), PoissonSchedule.ArrivalOffsets(5, 200, seed: 7));
        Assert.NotEqual(PoissonSchedule.ArrivalOffsets(5, 200, seed: 7), PoissonSchedule.ArrivalOffsets(5, 200, seed: 8));
    }

    [Theory]
    [InlineData(2.0)]
    [InlineData(50.0)]
    public void ArrivalOffsets_ManyArrivals_MeanGapCloseToInverseRate(double rate)
    {
        const int Count = 20_000;

        var offsets = PoissonSchedule.ArrivalOffsets(rate, Count, seed: 1);

        // Exponential gaps: mean 1/rate, standard deviation 1/rate, so the mean of 20,000 is within 3% (4 sigma).
        var gaps = offsets.Zip(offsets.Skip(1), (a, b) => b - a).Prepend(offsets[0]).ToArray();
        Assert.All(gaps, g => Assert.True(g >= 0));
        Assert.Equal(1 / rate, gaps.Average(), 0.03 / rate);
        var variance = gaps.Select(g => (g - gaps.Average()) * (g - gaps.Average())).Average();
        Assert.Equal(1 / rate, Math.Sqrt(variance), 0.05 / rate);
    }
}

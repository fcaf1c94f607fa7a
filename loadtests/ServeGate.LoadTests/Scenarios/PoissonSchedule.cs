using ServeGate.LoadTests.Workload;

namespace ServeGate.LoadTests.Scenarios;

/// <summary>Arrival times of a Poisson process: exponential gaps with mean 1/rate, repeatable from a seed.</summary>
internal static class PoissonSchedule
{
    /// <summary>The offsets, in seconds from the start, at which <paramref name="count"/> requests arrive.</summary>
    public static double[] ArrivalOffsets(double rate, int count, long seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rate);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var random = new Random(SyntheticWorkload.DeriveSeed(seed, -2));
        var offsets = new double[count];
        var t = 0.0;
        for (var i = 0; i < count; i++)
        {
            // Inverse transform sampling; 1 - U is in (0, 1], so the log is finite.
            t += -Math.Log(1.0 - random.NextDouble()) / rate;
            offsets[i] = t;
        }

        return offsets;
    }
}

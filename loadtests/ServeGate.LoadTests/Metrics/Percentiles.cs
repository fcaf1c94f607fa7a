using ServeGate.LoadTests.Results;

namespace ServeGate.LoadTests.Metrics;

/// <summary>Percentiles by linear interpolation between closest ranks (numpy's default, as vLLM's bench reports them).</summary>
internal static class Percentiles
{
    /// <summary>The <paramref name="percentile"/> (0 to 100) of ascending <paramref name="sorted"/> values.</summary>
    public static double Of(ReadOnlySpan<double> sorted, double percentile)
    {
        if (sorted.IsEmpty)
        {
            throw new ArgumentException("No values.", nameof(sorted));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(percentile, 0.0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(percentile, 100.0);
        var rank = percentile / 100.0 * (sorted.Length - 1);
        var lower = (int)Math.Floor(rank);
        var upper = Math.Min(lower + 1, sorted.Length - 1);
        return sorted[lower] + ((sorted[upper] - sorted[lower]) * (rank - lower));
    }

    /// <summary>Count, mean, min, p50, p90, p99 and max of <paramref name="values"/> (sorted in place), rounded to microseconds.</summary>
    public static LatencyStats Summarize(List<double> values)
    {
        if (values.Count == 0)
        {
            return new LatencyStats();
        }

        values.Sort();
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(values);
        var sum = 0.0;
        foreach (var value in span)
        {
            sum += value;
        }

        return new LatencyStats
        {
            Count = span.Length,
            Mean = Round(sum / span.Length),
            Min = Round(span[0]),
            P50 = Round(Of(span, 50)),
            P90 = Round(Of(span, 90)),
            P99 = Round(Of(span, 99)),
            Max = Round(span[^1]),
        };
    }

    internal static double Round(double value) => Math.Round(value, 3);
}

using System.Collections.Concurrent;

namespace ServeGate.Economics.Pricing;

/// <summary>
/// The default <see cref="IObservedTokenRate"/>: tokens counted in this process since the model's first request, over
/// the time since then, but never less than <see cref="MinimumWindow"/> (a burst at start is not a rate).
/// </summary>
public sealed class RunningTokenRate(TimeProvider time) : IObservedTokenRate
{
    /// <summary>The shortest time a rate is measured over.</summary>
    public static readonly TimeSpan MinimumWindow = TimeSpan.FromHours(1);

    private readonly ConcurrentDictionary<string, Counter> _counters = new(StringComparer.Ordinal);

    public double TokensPerSecond(string model)
    {
        if (!_counters.TryGetValue(model, out var counter))
        {
            return 0;
        }

        var elapsed = time.GetUtcNow() - counter.Since;
        return Interlocked.Read(ref counter.Tokens) / Math.Max(elapsed.TotalSeconds, MinimumWindow.TotalSeconds);
    }

    public void Observe(string model, long tokens)
    {
        if (tokens <= 0 || (_counters.Count >= 10_000 && !_counters.ContainsKey(model)))
        {
            return; // bounded: model ids come from requests
        }

        var counter = _counters.GetOrAdd(model, static (_, now) => new Counter(now), time.GetUtcNow());
        Interlocked.Add(ref counter.Tokens, tokens);
    }

    private sealed class Counter(DateTimeOffset since)
    {
        public readonly DateTimeOffset Since = since;
        public long Tokens;
    }
}

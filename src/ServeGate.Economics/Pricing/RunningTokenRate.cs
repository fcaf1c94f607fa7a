using System.Collections.Concurrent;

namespace ServeGate.Economics.Pricing;

/// <summary>
/// The default <see cref="IObservedTokenRate"/>: tokens counted since the model's first request (in this process, or
/// in the ledger when <see cref="Seed"/> fed it at start), over the time since then, but never less than
/// <see cref="MinimumWindow"/> (a burst at start is not a rate).
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

        var elapsed = time.GetUtcNow() - new DateTimeOffset(Interlocked.Read(ref counter.SinceTicks), TimeSpan.Zero);
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

    /// <summary>
    /// Adds tokens served before this process (read from the ledger at start) and moves the model's start back to
    /// <paramref name="since"/> if earlier, so a restart keeps the rate it had.
    /// </summary>
    public void Seed(string model, long tokens, DateTimeOffset since)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (tokens <= 0 || (_counters.Count >= 10_000 && !_counters.ContainsKey(model)))
        {
            return;
        }

        var counter = _counters.GetOrAdd(model, static (_, at) => new Counter(at), since);
        Interlocked.Add(ref counter.Tokens, tokens);
        var ticks = since.UtcTicks;
        for (var current = Interlocked.Read(ref counter.SinceTicks); ticks < current;)
        {
            var seen = Interlocked.CompareExchange(ref counter.SinceTicks, ticks, current);
            if (seen == current)
            {
                break;
            }

            current = seen;
        }
    }

    private sealed class Counter(DateTimeOffset since)
    {
        public long SinceTicks = since.UtcTicks;
        public long Tokens;
    }
}

namespace ServeGate.Core.Limits;

/// <summary>The counters of a single gateway, in memory under one lock (each call touches a handful of counters).</summary>
public sealed class InProcessRateLimitStore(TimeProvider time) : IRateLimitStore
{
    private readonly Dictionary<string, (long Value, DateTimeOffset Expires)> _counters = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private DateTimeOffset _nextSweep;

    public ValueTask<CounterResult> TryAddAllAsync(IReadOnlyList<CounterAdd> adds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(adds);
        var now = time.GetUtcNow();
        lock (_gate)
        {
            Sweep(now);
            var values = new long[adds.Count];
            for (var i = 0; i < adds.Count; i++)
            {
                values[i] = Current(adds[i].Key, now);
                if (adds[i].Limit >= 0 && values[i] + adds[i].Amount > adds[i].Limit)
                {
                    return ValueTask.FromResult(CounterResult.Refused(i, values));
                }
            }

            for (var i = 0; i < adds.Count; i++)
            {
                values[i] = Add(adds[i], now);
            }

            return ValueTask.FromResult(new CounterResult(true, -1, values));
        }
    }

    public ValueTask AddAsync(IReadOnlyList<CounterAdd> adds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(adds);
        var now = time.GetUtcNow();
        lock (_gate)
        {
            foreach (var add in adds)
            {
                Add(add, now);
            }
        }

        return ValueTask.CompletedTask;
    }

    private long Current(string key, DateTimeOffset now) =>
        _counters.TryGetValue(key, out var c) && c.Expires > now ? c.Value : 0;

    private long Add(CounterAdd add, DateTimeOffset now)
    {
        var value = Current(add.Key, now) + add.Amount;
        var expires = _counters.TryGetValue(add.Key, out var c) && c.Expires > now ? c.Expires : now + add.Ttl;
        _counters[add.Key] = (value, expires);
        return value;
    }

    private void Sweep(DateTimeOffset now)
    {
        if (now < _nextSweep)
        {
            return;
        }

        _nextSweep = now.AddMinutes(1);
        foreach (var key in _counters.Where(c => c.Value.Expires <= now).Select(c => c.Key).ToList())
        {
            _counters.Remove(key);
        }
    }
}

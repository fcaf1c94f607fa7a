namespace ServeGate.Core.Limits;

/// <summary>
/// Counters behind rate limits and budgets, in fixed windows (a minute, a day, a month): in process for a single
/// gateway, in Redis when gateway replicas share them. The gateway turns every limit of a request into one
/// <see cref="CounterAdd"/> (requests, tokens, micro-USD per key and per team) and reserves them all at once; after the
/// response it settles the difference between the estimate and the actual usage.
/// </summary>
public interface IRateLimitStore
{
    /// <summary>
    /// Atomically: when every counter stays within its limit after its add, adds them all and returns their new values;
    /// otherwise adds nothing and says which counter refused.
    /// </summary>
    ValueTask<CounterResult> TryAddAllAsync(IReadOnlyList<CounterAdd> adds, CancellationToken cancellationToken);

    /// <summary>Adds unconditionally (settling a reservation; amounts may be negative).</summary>
    ValueTask AddAsync(IReadOnlyList<CounterAdd> adds, CancellationToken cancellationToken);
}

/// <summary>One counter change: <paramref name="Limit"/> &lt; 0 means unlimited; the counter expires after <paramref name="Ttl"/>.</summary>
public readonly record struct CounterAdd(string Key, long Amount, long Limit, TimeSpan Ttl);

/// <summary>The outcome of <see cref="IRateLimitStore.TryAddAllAsync"/>.</summary>
public sealed record CounterResult(bool Allowed, int RefusedIndex, IReadOnlyList<long> Values)
{
    public static CounterResult Refused(int index, IReadOnlyList<long> values) => new(false, index, values);
}

/// <summary>The store could not be reached; the gateway fails open or closed as configured.</summary>
public sealed class RateLimitStoreUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

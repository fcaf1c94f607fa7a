using ServeGate.Ledger;

namespace ServeGate.Gateway.Reports;

/// <summary>
/// Idle capacity of a time range: per pool, its up-time in the range (intervals of every gateway merged, so replicas
/// recording the same pool count it once) at its hourly price, less the busy inference cost its requests were charged.
/// </summary>
internal static class IdleCost
{
    public static decimal Of(IReadOnlyList<PoolUptime> uptime, IEnumerable<UsageAggregate> busyByPool, DateTimeOffset start, DateTimeOffset end)
    {
        ArgumentNullException.ThrowIfNull(uptime);
        var busy = busyByPool.GroupBy(b => b.Pool ?? string.Empty, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Sum(b => b.InferenceCostUsd), StringComparer.Ordinal);
        var total = 0m;
        foreach (var pool in uptime.GroupBy(u => u.Pool, StringComparer.Ordinal))
        {
            var paid = 0m;
            foreach (var (from, to, price) in Merge(pool))
            {
                var s = from > start ? from : start;
                var e = to < end ? to : end;
                if (e > s)
                {
                    paid += (decimal)(e - s).TotalSeconds * price / 3600m;
                }
            }

            total += Math.Max(0m, paid - busy.GetValueOrDefault(pool.Key));
        }

        return decimal.Round(total, 9, MidpointRounding.AwayFromZero);
    }

    /// <summary>Per pool, its up-time within [<paramref name="start"/>, <paramref name="end"/>) (replicas' intervals merged) and its last recorded price.</summary>
    public static IEnumerable<(string Pool, double Seconds, decimal UsdPerHour)> Uptime(IReadOnlyList<PoolUptime> uptime, DateTimeOffset start, DateTimeOffset end)
    {
        ArgumentNullException.ThrowIfNull(uptime);
        foreach (var pool in uptime.GroupBy(u => u.Pool, StringComparer.Ordinal))
        {
            var merged = Merge(pool);
            var seconds = merged.Sum(m => Math.Max(0, ((m.To < end ? m.To : end) - (m.From > start ? m.From : start)).TotalSeconds));
            yield return (pool.Key, seconds, merged[^1].Price);
        }
    }

    /// <summary>Overlapping intervals joined (the higher price wins where they disagree).</summary>
    private static List<(DateTimeOffset From, DateTimeOffset To, decimal Price)> Merge(IEnumerable<PoolUptime> intervals)
    {
        var merged = new List<(DateTimeOffset From, DateTimeOffset To, decimal Price)>();
        foreach (var u in intervals.OrderBy(u => u.Start))
        {
            if (merged.Count > 0 && u.Start <= merged[^1].To)
            {
                var last = merged[^1];
                merged[^1] = (last.From, u.End > last.To ? u.End : last.To, Math.Max(last.Price, u.HardwareUsdPerHour));
            }
            else
            {
                merged.Add((u.Start, u.End, u.HardwareUsdPerHour));
            }
        }

        return merged;
    }
}

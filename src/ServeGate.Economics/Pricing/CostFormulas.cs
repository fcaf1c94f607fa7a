namespace ServeGate.Economics.Pricing;

/// <summary>The cost model's arithmetic, pure: each figure from its inputs (docs/economics.md has the worked example).</summary>
public static class CostFormulas
{
    /// <summary>A month of straight-line amortization: a Julian year / 12, in seconds.</summary>
    public const double SecondsPerMonth = 365.25 / 12 * 86_400;

    /// <summary>Busy inference cost: attributed compute seconds x the pool's USD/hour / 3600.</summary>
    public static decimal BusyCost(double computeSeconds, decimal usdPerHour) => ToDecimal(computeSeconds) * usdPerHour / 3600m;

    /// <summary>What cached prompt tokens would have cost to compute: tokens x seconds per computed prompt token x USD/hour / 3600.</summary>
    public static decimal CacheSavings(long cachedTokens, double secondsPerPromptToken, decimal usdPerHour) =>
        cachedTokens <= 0 ? 0m : BusyCost(cachedTokens * secondsPerPromptToken, usdPerHour);

    /// <summary>The pool's paid time not attributed to any request: up-time x price minus the busy cost (never below 0).</summary>
    public static decimal IdleCost(double uptimeSeconds, decimal usdPerHour, decimal busyCost) =>
        Math.Max(0m, BusyCost(uptimeSeconds, usdPerHour) - busyCost);

    /// <summary>Seconds to USD without overflow on absurd inputs (a clock gone wrong must not fail a request).</summary>
    internal static decimal ToDecimal(double value) =>
        double.IsFinite(value) ? (decimal)Math.Clamp(value, -1e15, 1e15) : 0m;
}

namespace ServeGate.Economics.Reports;

/// <summary>One worker pool over the period: paid time, busy time, and the idle cost between them.</summary>
public sealed record PoolEconomics
{
    public required string Pool { get; init; }

    public decimal HardwareUsdPerHour { get; init; }

    public required string HardwareSource { get; init; }

    public double UptimeSeconds { get; init; }

    public double ComputeSeconds { get; init; }

    public decimal InferenceCostUsd { get; init; }

    /// <summary>Up-time x price minus the busy cost; split across the variants by their busy share.</summary>
    public decimal IdleCostUsd { get; init; }

    /// <summary>Compute seconds / up-time seconds (0 when no up-time was reported).</summary>
    public double Utilization { get; init; }
}

namespace ServeGate.Economics.Reports;

/// <summary>How long a pool was up (paid for) in the period; <paramref name="HardwareUsdPerHour"/>: its price then, else the configured one.</summary>
public sealed record PoolUptimeTotal(string Pool, double UptimeSeconds, decimal? HardwareUsdPerHour = null);

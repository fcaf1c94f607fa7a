namespace ServeGate.Economics.Configuration;

/// <summary>A pool's price as used: configured, the embedded default, or unknown (0, "not configured").</summary>
public sealed record PoolPrice(string Pool, decimal UsdPerHour, string Source, bool IsConfiguredDefault);

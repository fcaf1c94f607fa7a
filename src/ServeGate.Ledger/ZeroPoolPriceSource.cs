namespace ServeGate.Ledger;

/// <summary>No prices configured: up-time is recorded, idle capacity costs 0.</summary>
public sealed class ZeroPoolPriceSource : IPoolPriceSource
{
    public decimal HardwareUsdPerHour(string pool) => 0m;
}

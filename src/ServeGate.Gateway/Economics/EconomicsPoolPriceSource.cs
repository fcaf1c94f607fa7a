using ServeGate.Economics.Configuration;
using ServeGate.Ledger;

namespace ServeGate.Gateway.Economics;

/// <summary>The pools' hardware prices for up-time and idle cost, from the economics settings the pricer uses too.</summary>
internal sealed class EconomicsPoolPriceSource(EconomicsSettings settings) : IPoolPriceSource
{
    public decimal HardwareUsdPerHour(string pool) => settings.PoolOf(pool).UsdPerHour;
}

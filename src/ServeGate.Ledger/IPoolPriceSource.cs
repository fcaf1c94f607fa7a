namespace ServeGate.Ledger;

/// <summary>
/// A worker pool's hardware price, USD per hour, busy or idle: what up-time is priced at for idle capacity. The
/// economics configuration provides it; without one, <see cref="ZeroPoolPriceSource"/> prices every pool at 0.
/// </summary>
public interface IPoolPriceSource
{
    decimal HardwareUsdPerHour(string pool);
}

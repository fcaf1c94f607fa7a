namespace ServeGate.Economics.Configuration;

/// <summary>The price of one worker pool's hardware (a GPU, or the CPU share a worker uses), by the hour, busy or not.</summary>
public sealed class PoolOptions
{
    /// <summary>What the hardware costs per hour (on-demand price, or purchase price amortized per hour).</summary>
    public decimal HardwareUsdPerHour { get; set; }

    /// <summary>Power drawn (W), priced at <see cref="EnergyUsdPerKwh"/> and added to the hardware price; none when null.</summary>
    public decimal? PowerWatts { get; set; }

    /// <summary>Energy price, USD per kWh; needed with <see cref="PowerWatts"/>.</summary>
    public decimal? EnergyUsdPerKwh { get; set; }

    /// <summary>Where the price comes from (an invoice, a cloud price page), shown beside every figure it prices.</summary>
    public string Source { get; set; } = string.Empty;

    /// <summary>Hardware plus energy, USD per hour.</summary>
    public decimal UsdPerHour => HardwareUsdPerHour + (PowerWatts ?? 0) / 1000m * (EnergyUsdPerKwh ?? 0);

    internal IEnumerable<string> Validate(string path)
    {
        if (HardwareUsdPerHour < 0)
        {
            yield return $"{path}:HardwareUsdPerHour must not be negative.";
        }

        if (PowerWatts is < 0)
        {
            yield return $"{path}:PowerWatts must not be negative.";
        }

        if (EnergyUsdPerKwh is < 0)
        {
            yield return $"{path}:EnergyUsdPerKwh must not be negative.";
        }

        if (PowerWatts is > 0 && EnergyUsdPerKwh is null)
        {
            yield return $"{path}:EnergyUsdPerKwh is needed to price PowerWatts.";
        }
    }
}

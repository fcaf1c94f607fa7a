using ServeGate.Economics.Pricing;
using ServeGate.Ledger;

namespace ServeGate.Gateway.Economics;

/// <summary>The economics' result as the ledger stores it (the two projects do not reference each other).</summary>
internal static class PricedUsageExtensions
{
    public static UsageCharges ToCharges(this PricedUsage priced) => new()
    {
        Pool = priced.Pool,
        Checkpoint = priced.Checkpoint,
        HardwareUsdPerHour = priced.HardwareUsdPerHour,
        InferenceCostUsd = priced.InferenceCostUsd,
        CacheSavingsUsd = priced.CacheSavingsUsd,
        TrainingUsdPerToken = priced.TrainingUsdPerToken,
        TrainingShareUsd = priced.TrainingShareUsd,
        ListPriceReference = priced.ListPriceReference,
        ListInputUsdPerMillion = priced.ListInputUsdPerMillion,
        ListCachedInputUsdPerMillion = priced.ListCachedInputUsdPerMillion,
        ListOutputUsdPerMillion = priced.ListOutputUsdPerMillion,
        ListPriceUsd = priced.ListPriceUsd,
    };
}

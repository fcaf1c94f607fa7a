namespace ServeGate.Economics.Pricing;

/// <summary>
/// What one request was priced at, with the unit prices used: the same figures as the ledger's <c>UsageCharges</c>,
/// which the gateway copies them into (this project references nothing of ours).
/// </summary>
public sealed record PricedUsage
{
    public required string Pool { get; init; }

    public required string Checkpoint { get; init; }

    public decimal HardwareUsdPerHour { get; init; }

    public decimal InferenceCostUsd { get; init; }

    public decimal CacheSavingsUsd { get; init; }

    /// <summary>The seconds per computed prompt token the savings were priced at (this request's, else the pool's average).</summary>
    public double SecondsPerPromptToken { get; init; }

    public decimal TrainingUsdPerToken { get; init; }

    public decimal TrainingShareUsd { get; init; }

    public string ListPriceReference { get; init; } = string.Empty;

    public decimal ListInputUsdPerMillion { get; init; }

    public decimal ListCachedInputUsdPerMillion { get; init; }

    public decimal ListOutputUsdPerMillion { get; init; }

    public decimal ListPriceUsd { get; init; }
}

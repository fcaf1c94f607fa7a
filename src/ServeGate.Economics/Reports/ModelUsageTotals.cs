namespace ServeGate.Economics.Reports;

/// <summary>
/// One model's traffic on one pool over the report's period, as the ledger sums it: tokens, compute, and the charges
/// its records were priced at when written (never re-priced).
/// </summary>
public sealed record ModelUsageTotals
{
    public required string Model { get; init; }

    public required string Pool { get; init; }

    public long Requests { get; init; }

    public long InputTokens { get; init; }

    public long CachedTokens { get; init; }

    public long OutputTokens { get; init; }

    public double ComputeSeconds { get; init; }

    /// <summary>Sum of the records' busy inference cost.</summary>
    public decimal InferenceCostUsd { get; init; }

    public decimal CacheSavingsUsd { get; init; }

    /// <summary>Sum of the records' amortized training share (what has been amortized so far).</summary>
    public decimal TrainingShareUsd { get; init; }

    public decimal ListPriceUsd { get; init; }

    /// <summary>The first and last request of the period.</summary>
    public required DateTimeOffset First { get; init; }

    public required DateTimeOffset Last { get; init; }
}

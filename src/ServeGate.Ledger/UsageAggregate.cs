namespace ServeGate.Ledger;

/// <summary>
/// The sums of one time bucket and group. Group fields not asked for in <see cref="UsageAggregateQuery.GroupBy"/>
/// are null. Money sums are of the amounts stored with each record (priced when written), never re-priced.
/// </summary>
public sealed record UsageAggregate
{
    public required DateTimeOffset BucketStart { get; init; }

    public string? Model { get; init; }

    public string? KeyId { get; init; }

    public string? Team { get; init; }

    public string? Checkpoint { get; init; }

    public string? Pool { get; init; }

    public long Requests { get; init; }

    public long InputTokens { get; init; }

    public long CachedTokens { get; init; }

    public long OutputTokens { get; init; }

    public double ComputeSeconds { get; init; }

    /// <summary>At the configured per-token prices (<see cref="UsageRecord.CostUsd"/>).</summary>
    public decimal CostUsd { get; init; }

    public decimal InferenceCostUsd { get; init; }

    public decimal CacheSavingsUsd { get; init; }

    public decimal TrainingShareUsd { get; init; }

    public decimal ListPriceUsd { get; init; }
}

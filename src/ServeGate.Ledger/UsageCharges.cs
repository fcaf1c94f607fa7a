namespace ServeGate.Ledger;

/// <summary>
/// What one usage record was priced at when it was written (ServeGate.Economics computes it; the ledger stores it as
/// it is). Every amount keeps the unit price it came from, so a later change of prices never rewrites history and a
/// re-pricing report can show the difference.
/// </summary>
public sealed record UsageCharges
{
    /// <summary>The worker pool that served the request (<c>local</c> for the in-process worker).</summary>
    public required string Pool { get; init; }

    /// <summary>The model checkpoint the served variant belongs to (variants of one checkpoint share its pretraining cost).</summary>
    public required string Checkpoint { get; init; }

    /// <summary>The pool's hardware price, USD per hour (compute, plus energy where configured).</summary>
    public decimal HardwareUsdPerHour { get; init; }

    /// <summary>Busy inference cost: the request's attributed compute seconds x <see cref="HardwareUsdPerHour"/> / 3600.</summary>
    public decimal InferenceCostUsd { get; init; }

    /// <summary>What the cached prompt tokens would have cost to compute (at this request's measured seconds per prompt token).</summary>
    public decimal CacheSavingsUsd { get; init; }

    /// <summary>Amortized training cost per token at the time of writing (pretraining share + post-training, over the basis).</summary>
    public decimal TrainingUsdPerToken { get; init; }

    /// <summary>This request's share of the training cost: its tokens x <see cref="TrainingUsdPerToken"/>.</summary>
    public decimal TrainingShareUsd { get; init; }

    /// <summary>The reference list price used (catalog entry id, e.g. <c>openai/gpt-4o-mini</c>); empty when none is chosen.</summary>
    public string ListPriceReference { get; init; } = string.Empty;

    /// <summary>List prices used, USD per 1M tokens.</summary>
    public decimal ListInputUsdPerMillion { get; init; }

    public decimal ListCachedInputUsdPerMillion { get; init; }

    public decimal ListOutputUsdPerMillion { get; init; }

    /// <summary>What the same tokens would have cost bought at the reference list price.</summary>
    public decimal ListPriceUsd { get; init; }
}

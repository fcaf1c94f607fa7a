namespace ServeGate.Economics.Reports;

/// <summary>One served model (a variant of a checkpoint) over the period: every figure, and in <see cref="Inputs"/> how each was reached.</summary>
public sealed record VariantEconomics
{
    public required string Model { get; init; }

    public required string Checkpoint { get; init; }

    public required IReadOnlyList<string> Pools { get; init; }

    public long Requests { get; init; }

    /// <summary>Input + output tokens.</summary>
    public long Tokens { get; init; }

    public long InputTokens { get; init; }

    public long CachedTokens { get; init; }

    public long OutputTokens { get; init; }

    public double ComputeSeconds { get; init; }

    /// <summary>The busy cost per compute hour (the pool's price, or the compute-weighted mean of several pools').</summary>
    public decimal HardwareUsdPerHour { get; init; }

    public decimal InferenceCostUsd { get; init; }

    public decimal IdleCostUsd { get; init; }

    /// <summary>Busy / (busy + idle) cost.</summary>
    public double Utilization { get; init; }

    public decimal UsdPerMillionTokensBusy { get; init; }

    public decimal UsdPerMillionTokensWithIdle { get; init; }

    public decimal UsdPerMillionTokensListPrice { get; init; }

    public string ListPriceReference { get; init; } = string.Empty;

    public decimal ListPriceUsd { get; init; }

    public decimal CacheSavingsUsd { get; init; }

    /// <summary>This variant's share of the checkpoint's pretraining cost (per the split setting).</summary>
    public decimal PretrainingShareUsd { get; init; }

    public decimal PostTrainingCostUsd { get; init; }

    /// <summary>(Pretraining share + post-training) x R&amp;D multiplier.</summary>
    public decimal TrainingCostUsd { get; init; }

    public required string TrainingSource { get; init; }

    /// <summary>Sum of the records' training shares.</summary>
    public decimal AmortizedTrainingUsd { get; init; }

    public decimal UnamortizedTrainingUsd { get; init; }

    public required BreakEven BreakEven { get; init; }

    public WhatIfEconomics? WhatIf { get; init; }

    /// <summary>Each figure's formula with its inputs.</summary>
    public required IReadOnlyDictionary<string, string> Inputs { get; init; }
}

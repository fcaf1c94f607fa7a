namespace ServeGate.Economics.Reports;

/// <summary>A checkpoint over the period: its variants together, against its whole training cost.</summary>
public sealed record CheckpointEconomics
{
    public required string Checkpoint { get; init; }

    public long Requests { get; init; }

    public long Tokens { get; init; }

    public double ComputeSeconds { get; init; }

    public decimal InferenceCostUsd { get; init; }

    public decimal IdleCostUsd { get; init; }

    public decimal ListPriceUsd { get; init; }

    public decimal CacheSavingsUsd { get; init; }

    public decimal PretrainingCostUsd { get; init; }

    public required string PretrainingSource { get; init; }

    /// <summary>(Pretraining + every variant's post-training) x R&amp;D multiplier.</summary>
    public decimal TrainingCostUsd { get; init; }

    public decimal AmortizedTrainingUsd { get; init; }

    public decimal UnamortizedTrainingUsd { get; init; }

    public required BreakEven BreakEven { get; init; }

    public required IReadOnlyList<VariantEconomics> Variants { get; init; }
}

namespace ServeGate.Economics.Configuration;

/// <summary>A pretrained checkpoint: its pretraining cost, how it is amortized, and the variants served from it.</summary>
public sealed class CheckpointOptions
{
    /// <summary>Pretraining cost, USD (the final run; <see cref="RdMultiplier"/> adds the compute around it).</summary>
    public decimal PretrainingCostUsd { get; set; }

    /// <summary>Where <see cref="PretrainingCostUsd"/> comes from (a paper, a model card, an invoice).</summary>
    public string PretrainingSource { get; set; } = string.Empty;

    /// <summary>The model ids served from this checkpoint.</summary>
    public Dictionary<string, VariantOptions> Variants { get; set; } = new(StringComparer.Ordinal);

    /// <summary>How the variants share <see cref="PretrainingCostUsd"/>.</summary>
    public PretrainingSplit Split { get; set; } = PretrainingSplit.ByTokens;

    public AmortizationBasis Basis { get; set; } = AmortizationBasis.LifetimeTokens;

    /// <summary>Tokens expected over the checkpoint's life, all variants together (<see cref="AmortizationBasis.LifetimeTokens"/>).</summary>
    public long LifetimeTokens { get; set; } = 1_000_000_000_000;

    /// <summary>Months of straight-line amortization (<see cref="AmortizationBasis.StraightLine"/>).</summary>
    public int Months { get; set; } = 24;

    /// <summary>
    /// Training cost multiplier for the experiments, ablations and failed runs around the final run (Epoch AI finds the
    /// final run a minority of a lab's training compute); 1: the final run only.
    /// </summary>
    public decimal RdMultiplier { get; set; } = 1m;

    internal IEnumerable<string> Validate(string path)
    {
        if (PretrainingCostUsd < 0)
        {
            yield return $"{path}:PretrainingCostUsd must not be negative.";
        }

        if (PretrainingCostUsd > 0 && string.IsNullOrWhiteSpace(PretrainingSource))
        {
            yield return $"{path}:PretrainingSource must say where the pretraining cost comes from.";
        }

        if (Variants.Count == 0)
        {
            yield return $"{path}:Variants must name at least one model.";
        }

        foreach (var (model, variant) in Variants)
        {
            if (variant.PostTrainingCostUsd < 0)
            {
                yield return $"{path}:Variants:{model}:PostTrainingCostUsd must not be negative.";
            }

            if (variant.PostTrainingCostUsd > 0 && string.IsNullOrWhiteSpace(variant.PostTrainingSource))
            {
                yield return $"{path}:Variants:{model}:PostTrainingSource must say where the post-training cost comes from.";
            }
        }

        if (Basis == AmortizationBasis.LifetimeTokens && LifetimeTokens < 1)
        {
            yield return $"{path}:LifetimeTokens must be positive.";
        }

        if (Basis == AmortizationBasis.StraightLine && Months < 1)
        {
            yield return $"{path}:Months must be positive.";
        }

        if (RdMultiplier < 1)
        {
            yield return $"{path}:RdMultiplier must be at least 1 (1: the final run only).";
        }
    }
}

using ServeGate.Economics.Configuration;

namespace ServeGate.Economics.Pricing;

/// <summary>Amortized training cost per token of one variant, pure: the observed token rates come in as a function.</summary>
public static class Amortization
{
    /// <summary>
    /// By tokens: every token of the checkpoint carries pretraining / B. Equally: a variant carries (pretraining / n) over
    /// its part of the basis, B x its share of the checkpoint's observed rate. Post-training is always over that part.
    /// </summary>
    public static TrainingRate PerToken(ModelEconomics model, Func<string, double> tokensPerSecond)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokensPerSecond);
        var checkpoint = model.CheckpointOptions;
        var n = model.Variants.Count;
        var checkpointRate = model.Variants.Sum(v => Math.Max(0, tokensPerSecond(v)));
        var share = checkpointRate > 0 ? Math.Max(0, tokensPerSecond(model.Model)) / checkpointRate : 1.0 / n;
        var basis = checkpoint.Basis == AmortizationBasis.LifetimeTokens
            ? checkpoint.LifetimeTokens
            : CostFormulas.ToDecimal(checkpoint.Months * CostFormulas.SecondsPerMonth * checkpointRate);
        var variantBasis = basis * CostFormulas.ToDecimal(share);
        if (basis <= 0 || variantBasis <= 0)
        {
            return new TrainingRate
            {
                CheckpointBasisTokens = basis,
                VariantBasisTokens = variantBasis,
                Note = checkpoint.Basis == AmortizationBasis.StraightLine ? "no tokens observed yet: the straight-line basis is not known" : "no basis tokens",
            };
        }

        var pretraining = checkpoint.Split == PretrainingSplit.ByTokens
            ? checkpoint.PretrainingCostUsd / basis
            : checkpoint.PretrainingCostUsd / n / variantBasis;
        var postTraining = model.Variant.PostTrainingCostUsd / variantBasis;
        return new TrainingRate
        {
            UsdPerToken = (pretraining + postTraining) * checkpoint.RdMultiplier,
            CheckpointBasisTokens = basis,
            VariantBasisTokens = variantBasis,
        };
    }
}

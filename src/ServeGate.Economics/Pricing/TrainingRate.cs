namespace ServeGate.Economics.Pricing;

/// <summary>
/// A variant's amortized training cost per token and how it was reached: (pretraining share + post-training) x R&amp;D
/// multiplier / basis tokens.
/// </summary>
public sealed record TrainingRate
{
    public decimal UsdPerToken { get; init; }

    /// <summary>The checkpoint's basis, all variants together (lifetime tokens, or months x observed tokens/s).</summary>
    public decimal CheckpointBasisTokens { get; init; }

    /// <summary>This variant's part of the basis (its share of the checkpoint's observed token rate; 1/variants when none was observed).</summary>
    public decimal VariantBasisTokens { get; init; }

    /// <summary>Why the rate is 0 when it is (no basis yet), else empty.</summary>
    public string Note { get; init; } = string.Empty;
}

namespace ServeGate.Economics.Configuration;

/// <summary>One model id served from a checkpoint (the base itself, an instruct tune, a fine-tune) and what it added.</summary>
public sealed class VariantOptions
{
    /// <summary>Post-training (SFT, RLHF/DPO, ...) cost of this variant, USD; 0 for the base.</summary>
    public decimal PostTrainingCostUsd { get; set; }

    /// <summary>Where <see cref="PostTrainingCostUsd"/> comes from.</summary>
    public string PostTrainingSource { get; set; } = string.Empty;

    /// <summary>A list-price catalog entry for this variant instead of <see cref="EconomicsOptions.ListPriceReference"/>.</summary>
    public string? ListPriceReference { get; set; }
}

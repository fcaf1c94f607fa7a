using ServeGate.Economics.Catalogs;

namespace ServeGate.Economics.Configuration;

/// <summary>One served model as the cost model sees it: its checkpoint, the variants it shares pretraining with, its list price.</summary>
public sealed record ModelEconomics
{
    public required string Model { get; init; }

    public required string Checkpoint { get; init; }

    public required CheckpointOptions CheckpointOptions { get; init; }

    public required VariantOptions Variant { get; init; }

    /// <summary>Every model id of <see cref="Checkpoint"/> (this one included), in a stable order.</summary>
    public required IReadOnlyList<string> Variants { get; init; }

    /// <summary>The list-price catalog id compared with; empty when none.</summary>
    public string ListPriceReference { get; init; } = string.Empty;

    public ListPrice? ListPrice { get; init; }

    /// <summary>The what-if training estimate's catalog id, if one is attached.</summary>
    public string? WhatIfEstimate { get; init; }

    public TrainingEstimate? WhatIf { get; init; }

    /// <summary>Where the pretraining figure comes from ("not configured" for a model no checkpoint names).</summary>
    public string PretrainingSource => CheckpointOptions.PretrainingSource;
}

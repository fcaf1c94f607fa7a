namespace ServeGate.Economics.Reports;

/// <summary>The same traffic priced as if the model had cost a published estimate to train ("as if it were Llama 3.1 405B").</summary>
public sealed record WhatIfEconomics
{
    /// <summary>The training-estimate catalog id.</summary>
    public required string Estimate { get; init; }

    public required string Name { get; init; }

    public decimal TrainingCostUsd { get; init; }

    /// <summary>How the cost is derived (GPU-hours x rate, or the published figure) and its source.</summary>
    public required string Source { get; init; }

    /// <summary>This traffic's share of that cost: tokens x cost / the variant's basis tokens.</summary>
    public decimal AmortizedTrainingUsd { get; init; }

    public required BreakEven BreakEven { get; init; }
}

namespace ServeGate.Economics.Reports;

/// <summary>What serving cost over a period, per pool, checkpoint and variant, beside what the models cost to train.</summary>
public sealed record EconomicsReport
{
    public required DateTimeOffset GeneratedAt { get; init; }

    public required IReadOnlyList<PoolEconomics> Pools { get; init; }

    public required IReadOnlyList<CheckpointEconomics> Checkpoints { get; init; }
}

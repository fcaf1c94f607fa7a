namespace ServeGate.Ledger;

/// <summary>What an aggregate is grouped by besides its time bucket (flags; none: one row per bucket).</summary>
[Flags]
public enum UsageGrouping
{
    None = 0,
    Model = 1,
    KeyId = 2,
    Team = 4,
    Checkpoint = 8,
    Pool = 16,
}

namespace ServeGate.Ledger;

/// <summary>Which records to list.</summary>
public sealed record UsageQuery
{
    public string? KeyId { get; init; }

    public string? Team { get; init; }

    public DateTimeOffset? Since { get; init; }

    /// <summary>Exclusive: records before it (the CSV export's range end).</summary>
    public DateTimeOffset? Until { get; init; }

    public int Limit { get; init; } = 100;
}

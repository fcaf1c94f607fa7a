namespace ServeGate.Ledger;

/// <summary>The durable usage ledger: SQLite in the embedded default (<see cref="SqliteUsageStore"/>).</summary>
public interface IUsageStore
{
    /// <summary>Appends records atomically (all or none).</summary>
    Task AppendAsync(IReadOnlyList<UsageRecord> records, CancellationToken cancellationToken);

    /// <summary>The newest records first, optionally of one key or team.</summary>
    Task<IReadOnlyList<UsageRecord>> QueryAsync(UsageQuery query, CancellationToken cancellationToken);
}

/// <summary>Which records to list.</summary>
public sealed record UsageQuery
{
    public string? KeyId { get; init; }

    public string? Team { get; init; }

    public DateTimeOffset? Since { get; init; }

    public int Limit { get; init; } = 100;
}

namespace ServeGate.Ledger;

/// <summary>
/// The durable usage ledger: SQLite in the embedded default (<see cref="SqliteUsageStore"/>), PostgreSQL when several
/// gateways share one. Every implementation has the same semantics, checked by the same conformance tests.
/// </summary>
public interface IUsageStore
{
    /// <summary>
    /// Appends records atomically (all or none), idempotent by <see cref="UsageRecord.RequestId"/>: a record whose id
    /// is stored already is skipped, so a replay never double-counts. Returns how many records were new.
    /// </summary>
    Task<int> AppendAsync(IReadOnlyList<UsageRecord> records, CancellationToken cancellationToken);

    /// <summary>The newest records first, optionally of one key or team.</summary>
    Task<IReadOnlyList<UsageRecord>> QueryAsync(UsageQuery query, CancellationToken cancellationToken);

    /// <summary>
    /// Sums of the records whose timestamp falls in [<see cref="UsageAggregateQuery.Start"/>, <see cref="UsageAggregateQuery.End"/>),
    /// per time bucket and per the requested grouping, ordered by bucket then group. Buckets with no record are absent.
    /// </summary>
    Task<IReadOnlyList<UsageAggregate>> AggregateAsync(UsageAggregateQuery query, CancellationToken cancellationToken);

    /// <summary>Records (inserts or extends) one pool instance's up-time interval: an upsert by (pool, instance id).</summary>
    Task RecordUptimeAsync(PoolUptime uptime, CancellationToken cancellationToken);

    /// <summary>The up-time intervals that overlap [<paramref name="start"/>, <paramref name="end"/>), unclipped.</summary>
    Task<IReadOnlyList<PoolUptime>> UptimeAsync(DateTimeOffset start, DateTimeOffset end, CancellationToken cancellationToken);
}

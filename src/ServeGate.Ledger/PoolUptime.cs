namespace ServeGate.Ledger;

/// <summary>
/// One interval during which a worker pool instance was up (paid for, busy or not): what idle cost is measured
/// against. An instance extends its interval while it runs; a restart opens a new one.
/// </summary>
public sealed record PoolUptime
{
    public required string Pool { get; init; }

    /// <summary>Unique per process start (a gateway or worker instance).</summary>
    public required string InstanceId { get; init; }

    public required DateTimeOffset Start { get; init; }

    public required DateTimeOffset End { get; init; }

    /// <summary>The pool's hardware price while this interval ran, USD per hour.</summary>
    public decimal HardwareUsdPerHour { get; init; }
}

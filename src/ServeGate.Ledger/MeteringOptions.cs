namespace ServeGate.Ledger;

/// <summary>What the writer does when its queue is full.</summary>
public enum UsageQueueFullMode
{
    /// <summary>The request that finished waits for room (back-pressure; no record is lost). The default.</summary>
    Wait,

    /// <summary>The record is dropped and counted in <c>servegate.usage.dropped</c>: the ledger is incomplete.</summary>
    Drop,
}

/// <summary>The usage ledger. Bound from <c>ServeGate:Metering</c>.</summary>
public sealed class MeteringOptions
{
    public const string SectionName = "ServeGate:Metering";

    /// <summary>Sqlite (a file of this gateway's own) or Postgres (one ledger shared by every gateway).</summary>
    public LedgerStoreKind Store { get; set; } = LedgerStoreKind.Sqlite;

    /// <summary>The PostgreSQL connection string when <see cref="Store"/> is Postgres (Npgsql syntax: <c>Host=db;Database=servegate;Username=...</c>).</summary>
    public string Postgres { get; set; } = string.Empty;

    /// <summary>The SQLite file; empty: <c>usage.db</c> in the ServeGate cache folder (<c>$SERVEGATE_CACHE</c>, default <c>~/.cache/servegate</c>).</summary>
    public string DatabasePath { get; set; } = string.Empty;

    /// <summary>Records waiting for the writer at most; beyond, <see cref="FullMode"/> decides.</summary>
    public int QueueCapacity { get; set; } = 10_000;

    public UsageQueueFullMode FullMode { get; set; } = UsageQueueFullMode.Wait;

    /// <summary>Records written per SQLite transaction at most.</summary>
    public int BatchSize { get; set; } = 256;

    /// <summary>
    /// How long the writer lets records gather after the first before it commits them together (0: at once). One
    /// commit (and disk sync) per interval instead of per request keeps the ledger's CPU off the request path's cores.
    /// </summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Problems with these settings, all at once.</summary>
    public IEnumerable<string> Validate()
    {
        if (QueueCapacity < 1)
        {
            yield return "ServeGate:Metering:QueueCapacity must be at least 1.";
        }

        if (BatchSize < 1)
        {
            yield return "ServeGate:Metering:BatchSize must be at least 1.";
        }

        if (FlushInterval < TimeSpan.Zero || FlushInterval > TimeSpan.FromSeconds(10))
        {
            yield return "ServeGate:Metering:FlushInterval must be from 0 to 10 seconds.";
        }

        if (!Enum.IsDefined(Store))
        {
            yield return "ServeGate:Metering:Store must be Sqlite or Postgres.";
        }
        else if (Store == LedgerStoreKind.Postgres && string.IsNullOrWhiteSpace(Postgres))
        {
            yield return "ServeGate:Metering:Postgres (a connection string) is required when ServeGate:Metering:Store is Postgres.";
        }

        if (!Enum.IsDefined(FullMode))
        {
            yield return "ServeGate:Metering:FullMode must be Wait or Drop.";
        }
    }

    public string ResolveDatabasePath()
    {
        if (!string.IsNullOrWhiteSpace(DatabasePath))
        {
            return Path.GetFullPath(DatabasePath);
        }

        var root = Environment.GetEnvironmentVariable("SERVEGATE_CACHE") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "servegate");
        return Path.Combine(root, "usage.db");
    }
}

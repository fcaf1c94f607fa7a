namespace ServeGate.Ledger;

/// <summary>What the writer does when its queue is full.</summary>
public enum UsageQueueFullMode
{
    /// <summary>The request that finished waits for room (back-pressure; no record is lost). The default.</summary>
    Wait,

    /// <summary>The record is dropped, logged and counted in <c>servegate.usage.dropped</c>: the ledger is incomplete.</summary>
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

    /// <summary>The SQLite file; empty: <c>usage.db</c> in the data folder (<see cref="DataDirectory"/>).</summary>
    public string DatabasePath { get; set; } = string.Empty;

    /// <summary>
    /// The data folder (the ledger, API keys, spools), set from <c>ServeGate:DataDirectory</c> (<c>--data-dir</c>); empty:
    /// <c>$XDG_DATA_HOME/servegate</c>, by default <c>~/.local/share/servegate</c>. Data, not cache: never delete it to free space.
    /// </summary>
    public string DataDirectory { get; set; } = string.Empty;

    /// <summary>
    /// Hold the end of each response until its record is synced to the spool, so a crash loses no record of a response
    /// a client saw finish (default). False: records are queued in memory only (a crash loses the last moments).
    /// </summary>
    public bool Durable { get; set; } = true;

    /// <summary>The spool folder; empty: <c>usage-spool</c> beside <see cref="DatabasePath"/>.</summary>
    public string SpoolDirectory { get; set; } = string.Empty;

    /// <summary>Records accepted and not yet in the store at most (the spool's bound); beyond, <see cref="FullMode"/> decides.</summary>
    public int QueueCapacity { get; set; } = 10_000;

    /// <summary>How long shutdown waits for the store to take spooled records; the rest are replayed at the next start.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public UsageQueueFullMode FullMode { get; set; } = UsageQueueFullMode.Wait;

    /// <summary>
    /// Records per store transaction: spooled groups are taken whole until this many. Larger batches share one commit and
    /// rollup pass (a request waits for the spool, never for the store); 1,024 measured faster than 256 on PostgreSQL.
    /// </summary>
    public int BatchSize { get; set; } = 1024;

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

        if (DrainTimeout < TimeSpan.Zero)
        {
            yield return "ServeGate:Metering:DrainTimeout must not be negative.";
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

    /// <summary>The configuration key of the data folder (also <c>--data-dir</c>).</summary>
    public const string DataDirectoryKey = "ServeGate:DataDirectory";

    public string ResolveDatabasePath() =>
        !string.IsNullOrWhiteSpace(DatabasePath) ? Path.GetFullPath(DatabasePath) : Path.Combine(ResolveDataDirectory(), "usage.db");

    public string ResolveSpoolDirectory() =>
        !string.IsNullOrWhiteSpace(SpoolDirectory) ? Path.GetFullPath(SpoolDirectory) : Path.Combine(Path.GetDirectoryName(ResolveDatabasePath())!, "usage-spool");

    public string ResolveDataDirectory() => !string.IsNullOrWhiteSpace(DataDirectory) ? Path.GetFullPath(DataDirectory) : DefaultDataDirectory();

    /// <summary><c>$XDG_DATA_HOME/servegate</c>, else <c>~/.local/share/servegate</c>.</summary>
    public static string DefaultDataDirectory() =>
        Environment.GetEnvironmentVariable("XDG_DATA_HOME") is { Length: > 0 } xdg && Path.IsPathRooted(xdg)
            ? Path.Combine(xdg, "servegate")
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share", "servegate");

    /// <summary>Where the ledger and keys lived before the data folder: the cache folder (<c>$SERVEGATE_CACHE</c>, else <c>~/.cache/servegate</c>).</summary>
    public static string LegacyCacheDirectory() =>
        Environment.GetEnvironmentVariable("SERVEGATE_CACHE") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "servegate");
}

namespace ServeGate.Ledger;

/// <summary>Where the usage ledger lives (<c>ServeGate:Metering:Store</c>).</summary>
public enum LedgerStoreKind
{
    /// <summary>A SQLite file of this gateway's own (<see cref="MeteringOptions.DatabasePath"/>). The default.</summary>
    Sqlite,

    /// <summary>A PostgreSQL database that several gateways share (<see cref="MeteringOptions.Postgres"/>; ServeGate.Ledger.Postgres).</summary>
    Postgres,
}

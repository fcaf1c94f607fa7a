using ServeGate.Ledger.Tests;
using ServeGate.Tests.Common;

namespace ServeGate.Ledger.Postgres.Tests;

/// <summary>The PostgreSQL store against the same conformance tests as the SQLite store: one contract, two stores.</summary>
public sealed class PostgresConformanceTests(PostgresServer server) : UsageStoreConformanceTests, IClassFixture<PostgresServer>
{
    private string _connectionString = string.Empty;

    protected override async Task<IUsageStore> CreateStoreAsync()
    {
        _connectionString = await server.CreateDatabaseAsync();
        return new PostgresUsageStore(_connectionString);
    }

    protected override async Task<IUsageStore> ReopenAsync(IUsageStore store)
    {
        await ((PostgresUsageStore)store).DisposeAsync();
        return new PostgresUsageStore(_connectionString);
    }

    public override async Task DisposeAsync()
    {
        await ((PostgresUsageStore)Store).DisposeAsync();
    }
}

using Microsoft.Extensions.Logging.Abstractions;
using ServeGate.Ledger;

namespace ServeGate.Ledger.Tests;

/// <summary>The ledger and keys move once from the old cache folder to the data folder, SQLite side files included.</summary>
public sealed class LedgerDataFolderTests
{
    [Fact]
    public async Task MoveFromLegacy_LedgerInCacheFolder_MovedWithWalOnceAndReadable()
    {
        var root = Directory.CreateTempSubdirectory("servegate-move-").FullName;
        var cache = Path.Combine(root, "cache");
        var data = Path.Combine(root, "data");
        using (var store = new SqliteUsageStore(Path.Combine(cache, "usage.db")))
        {
            await store.AppendAsync([new UsageRecord { RequestId = "r1", Timestamp = DateTimeOffset.UnixEpoch, KeyId = "k", Team = "t", Model = "m", Worker = "local", Endpoint = "/v1/completions" }], CancellationToken.None);
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        await File.WriteAllTextAsync(Path.Combine(cache, "keys.db"), "keys");
        await File.WriteAllTextAsync(Path.Combine(cache, "keys.db-wal"), "wal");

        var moved = LedgerDataFolder.MoveFromLegacy(cache, data, NullLogger.Instance);
        var again = LedgerDataFolder.MoveFromLegacy(cache, data, NullLogger.Instance);

        Assert.Equal(["usage.db", "keys.db"], moved);
        Assert.Empty(again);
        Assert.False(File.Exists(Path.Combine(cache, "usage.db")));
        Assert.Equal("wal", await File.ReadAllTextAsync(Path.Combine(data, "keys.db-wal")));
        using var reopened = new SqliteUsageStore(Path.Combine(data, "usage.db"));
        Assert.Equal("r1", Assert.Single(await reopened.QueryAsync(new UsageQuery(), CancellationToken.None)).RequestId);
    }

    [Fact]
    public void MoveFromLegacy_DataFolderHasALedger_LeavesBothAlone()
    {
        var root = Directory.CreateTempSubdirectory("servegate-move-").FullName;
        Directory.CreateDirectory(Path.Combine(root, "cache"));
        Directory.CreateDirectory(Path.Combine(root, "data"));
        File.WriteAllText(Path.Combine(root, "cache", "usage.db"), "old");
        File.WriteAllText(Path.Combine(root, "data", "usage.db"), "new");

        Assert.Empty(LedgerDataFolder.MoveFromLegacy(Path.Combine(root, "cache"), Path.Combine(root, "data"), NullLogger.Instance));
        Assert.Equal("new", File.ReadAllText(Path.Combine(root, "data", "usage.db")));
    }
}

using Microsoft.Data.Sqlite;
using ServeGate.Ledger;

namespace ServeGate.Ledger.Tests;

/// <summary>The embedded store against the conformance tests, plus what only SQLite has (an older file's upgrade).</summary>
public sealed class SqliteUsageStoreTests : UsageStoreConformanceTests
{
    private readonly string _path = Path.Combine(Directory.CreateTempSubdirectory("servegate-ledger-").FullName, "usage.db");

    protected override Task<IUsageStore> CreateStoreAsync() => Task.FromResult<IUsageStore>(new SqliteUsageStore(_path));

    protected override Task<IUsageStore> ReopenAsync(IUsageStore store)
    {
        (store as IDisposable)?.Dispose();
        return Task.FromResult<IUsageStore>(new SqliteUsageStore(_path));
    }

    [Fact]
    public async Task Open_LedgerOfAnEarlierRelease_GainsColumnsAndRollup()
    {
        (Store as IDisposable)?.Dispose();
        SqliteConnection.ClearAllPools(); // pooled connections would still reach the deleted file
        File.Delete(_path);
        using (var connection = new SqliteConnection($"Data Source={_path};Pooling=false"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = """
                CREATE TABLE usage (id INTEGER PRIMARY KEY AUTOINCREMENT, request_id TEXT NOT NULL, ts_unix_ms INTEGER NOT NULL, key_id TEXT NOT NULL,
                  team TEXT NOT NULL, model TEXT NOT NULL, worker TEXT NOT NULL, endpoint TEXT NOT NULL, stream INTEGER NOT NULL, prompt_tokens INTEGER NOT NULL,
                  cached_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL, estimated INTEGER NOT NULL, compute_seconds REAL NOT NULL,
                  latency_ms REAL NOT NULL, ttft_ms REAL, queue_ms REAL, http_status INTEGER NOT NULL, outcome TEXT NOT NULL, finish_reason TEXT, cost_usd TEXT NOT NULL);
                INSERT INTO usage (request_id, ts_unix_ms, key_id, team, model, worker, endpoint, stream, prompt_tokens, cached_tokens, completion_tokens,
                  estimated, compute_seconds, latency_ms, http_status, outcome, cost_usd)
                VALUES ('old-1', 1796079600000, 'k', 't', 'm', 'local', '/v1/completions', 0, 7, 1, 3, 0, 0.5, 9, 200, 'completed', '0.000002');
                """;
            command.ExecuteNonQuery();
        }

        using var store = new SqliteUsageStore(_path);
        var sums = Assert.Single(await store.AggregateAsync(new UsageAggregateQuery { Start = T0.AddDays(-1), End = T0, BucketWidth = TimeSpan.FromDays(1) }, CancellationToken.None));
        Assert.Equal((1L, 7L, 3L, 0.000002m), (sums.Requests, sums.InputTokens, sums.OutputTokens, sums.CostUsd));
        Assert.Equal(0, await store.AppendAsync([Record("old-1", T0)], CancellationToken.None)); // the unique id holds for old rows too
    }
}

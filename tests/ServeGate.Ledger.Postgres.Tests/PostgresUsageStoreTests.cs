using ServeGate.Tests.Common;

namespace ServeGate.Ledger.Postgres.Tests;

/// <summary>The <see cref="IUsageStore"/> contract on a real PostgreSQL server, a fresh database per test.</summary>
public sealed class PostgresUsageStoreTests(PostgresServer server) : IClassFixture<PostgresServer>
{
    private static readonly DateTimeOffset Day0 = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    private async Task<PostgresUsageStore> NewStoreAsync() => new(await server.CreateDatabaseAsync());

    private static Task<IReadOnlyList<UsageAggregate>> AggregateAsync(IUsageStore store, UsageAggregateQuery query) =>
        store.AggregateAsync(query, CancellationToken.None);

    private static UsageAggregateQuery AllOf(TimeSpan width, UsageGrouping groupBy = UsageGrouping.None) =>
        new() { Start = Day0.AddDays(-1), End = Day0.AddDays(10), BucketWidth = width, GroupBy = groupBy };

    [Fact]
    public async Task AppendAsync_SameBatchTwice_StoresAndCountsItOnce()
    {
        await using var store = await NewStoreAsync();
        var records = UsageRecords.Random(200, Day0, TimeSpan.FromDays(2), seed: 1);

        var first = await store.AppendAsync(records, CancellationToken.None);
        var second = await store.AppendAsync(records, CancellationToken.None);

        Assert.Equal(200, first);
        Assert.Equal(0, second);
        Assert.Equal(200, (await store.QueryAsync(new UsageQuery { Limit = 1000 }, CancellationToken.None)).Count);
        UsageRecords.AssertSame(UsageRecords.Expected(records, AllOf(TimeSpan.FromDays(1))), await AggregateAsync(store, AllOf(TimeSpan.FromDays(1))));
    }

    [Fact]
    public async Task AppendAsync_OverlappingBatches_CountsOnlyTheNewRecords()
    {
        await using var store = await NewStoreAsync();
        var records = UsageRecords.Random(300, Day0, TimeSpan.FromDays(1), seed: 2);

        var first = await store.AppendAsync(records[..200], CancellationToken.None);
        var second = await store.AppendAsync(records[100..], CancellationToken.None);
        var duplicatedInOneBatch = await store.AppendAsync([records[0], records[0]], CancellationToken.None);

        Assert.Equal(200, first);
        Assert.Equal(100, second);
        Assert.Equal(0, duplicatedInOneBatch);
        var byModel = AllOf(TimeSpan.FromHours(1), UsageGrouping.Model);
        UsageRecords.AssertSame(UsageRecords.Expected(records, byModel), await AggregateAsync(store, byModel));
    }

    [Fact]
    public async Task AppendAsync_TwoGatewaysAppendTheSameIdsAtOnce_EachRecordCountsOnce()
    {
        var connectionString = await server.CreateDatabaseAsync();
        await using var gatewayA = new PostgresUsageStore(connectionString);
        await using var gatewayB = new PostgresUsageStore(connectionString);
        var records = UsageRecords.Random(2000, Day0, TimeSpan.FromHours(6), seed: 3);
        var shuffled = records.OrderBy(r => r.RequestId.GetHashCode(StringComparison.Ordinal)).ToList();

        // Each gateway writes every record, in batches of different sizes and orders: the rollup rows they both update collide.
        async Task<int> WriteAllAsync(IUsageStore store, List<UsageRecord> all, int batch)
        {
            var added = 0;
            for (var i = 0; i < all.Count; i += batch)
            {
                added += await store.AppendAsync(all.Skip(i).Take(batch).ToList(), CancellationToken.None);
            }

            return added;
        }

        var counts = await Task.WhenAll(
            Task.Run(() => WriteAllAsync(gatewayA, records, 64)),
            Task.Run(() => WriteAllAsync(gatewayB, shuffled, 100)));

        Assert.Equal(2000, counts.Sum());
        var query = AllOf(TimeSpan.FromHours(1), UsageGrouping.Model | UsageGrouping.KeyId | UsageGrouping.Team | UsageGrouping.Checkpoint | UsageGrouping.Pool);
        var expected = UsageRecords.Expected(records, query);
        UsageRecords.AssertSame(expected, await AggregateAsync(gatewayA, query));
        UsageRecords.AssertSame(expected, await AggregateAsync(gatewayB, query));
        // The rollup (hour buckets) and the raw rows (minute buckets summed by hour in memory) agree.
        var minutes = await AggregateAsync(gatewayB, AllOf(TimeSpan.FromMinutes(1)));
        Assert.Equal(2000, minutes.Sum(m => m.Requests));
        Assert.Equal(records.Sum(r => r.CostUsd), minutes.Sum(m => m.CostUsd));
    }

    [Fact]
    public async Task QueryAsync_AfterAppend_ReturnsEveryFieldNewestFirst()
    {
        await using var store = await NewStoreAsync();
        var priced = UsageRecords.Random(1, Day0, TimeSpan.FromHours(1), seed: 4, idPrefix: "priced")[0] with
        {
            Charges = UsageRecords.Random(2, Day0, TimeSpan.FromHours(1), seed: 4)[1].Charges,
            Timestamp = Day0.AddMinutes(5).AddTicks(1230), // microseconds survive
            TimeToFirstTokenMs = 12.5,
            QueueMs = 3.25,
            FinishReason = "stop",
            Estimated = true,
            Outcome = UsageOutcome.Cancelled,
            CostUsd = 0.000001m,
        };
        var unpriced = priced with { RequestId = "unpriced", Timestamp = Day0, Charges = null, TimeToFirstTokenMs = null, QueueMs = null, FinishReason = null, Outcome = UsageOutcome.Failed, HttpStatus = 503 };
        await store.AppendAsync([unpriced, priced], CancellationToken.None);

        var all = await store.QueryAsync(new UsageQuery(), CancellationToken.None);
        var ofKey = await store.QueryAsync(new UsageQuery { KeyId = priced.KeyId, Since = Day0.AddMinutes(1) }, CancellationToken.None);

        Assert.Equal([priced, unpriced], all);
        Assert.NotNull(all[0].Charges);
        Assert.Equal([priced], ofKey);
    }

    [Fact]
    public async Task AggregateAsync_DailyByModelOverThirtyDays_MatchesHandSumsToTheMicroDollar()
    {
        await using var store = await NewStoreAsync();
        var records = UsageRecords.Random(3000, Day0, TimeSpan.FromDays(30), seed: 5);
        await store.AppendAsync(records, CancellationToken.None);
        // A range that starts and ends inside an hour: its edges are read from raw rows, the rest from the rollup.
        var query = new UsageAggregateQuery { Start = Day0.AddHours(3).AddMinutes(17), End = Day0.AddDays(29).AddMinutes(41), BucketWidth = TimeSpan.FromDays(1), GroupBy = UsageGrouping.Model };

        var actual = await AggregateAsync(store, query);

        var expected = UsageRecords.Expected(records, query);
        UsageRecords.AssertSame(expected, actual);
        Assert.Equal(records.Where(r => r.Timestamp >= query.Start && r.Timestamp < query.End).Sum(r => r.CostUsd), actual.Sum(a => a.CostUsd));
        Assert.All(actual, a => Assert.Equal(TimeSpan.Zero, a.BucketStart.TimeOfDay));
    }

    [Theory]
    [InlineData(60, UsageGrouping.None)]
    [InlineData(60, UsageGrouping.KeyId | UsageGrouping.Pool)]
    [InlineData(3600, UsageGrouping.Team | UsageGrouping.Checkpoint)]
    [InlineData(86400, UsageGrouping.Model | UsageGrouping.KeyId | UsageGrouping.Team | UsageGrouping.Checkpoint | UsageGrouping.Pool)]
    public async Task AggregateAsync_EachWidthAndGrouping_MatchesHandSums(int widthSeconds, UsageGrouping groupBy)
    {
        await using var store = await NewStoreAsync();
        var records = UsageRecords.Random(1500, Day0, TimeSpan.FromDays(3), seed: widthSeconds + (int)groupBy);
        await store.AppendAsync(records, CancellationToken.None);
        var query = new UsageAggregateQuery { Start = Day0.AddMinutes(90), End = Day0.AddDays(2).AddSeconds(30), BucketWidth = TimeSpan.FromSeconds(widthSeconds), GroupBy = groupBy };

        UsageRecords.AssertSame(UsageRecords.Expected(records, query), await AggregateAsync(store, query));
    }

    [Fact]
    public async Task AggregateAsync_Filters_MatchHandSums()
    {
        await using var store = await NewStoreAsync();
        var records = UsageRecords.Random(1500, Day0, TimeSpan.FromDays(3), seed: 6);
        await store.AppendAsync(records, CancellationToken.None);
        var queries = new[]
        {
            AllOf(TimeSpan.FromDays(1), UsageGrouping.Model) with { Teams = ["research"] },
            AllOf(TimeSpan.FromHours(1), UsageGrouping.Team) with { KeyIds = ["key-a", "key-c"] },
            AllOf(TimeSpan.FromMinutes(1), UsageGrouping.KeyId) with { Models = ["tiny-base"], Teams = ["support", "research"] },
            AllOf(TimeSpan.FromDays(1)) with { Models = ["no-such-model"] },
        };

        foreach (var query in queries)
        {
            UsageRecords.AssertSame(UsageRecords.Expected(records, query), await AggregateAsync(store, query));
        }
    }

    [Fact]
    public async Task AggregateAsync_MicroDollarAmounts_SumExactly()
    {
        await using var store = await NewStoreAsync();
        var template = UsageRecords.Random(1, Day0, TimeSpan.FromHours(1), seed: 7)[0];
        var records = Enumerable.Range(0, 1000).Select(i => template with
        {
            RequestId = $"micro-{i}",
            Timestamp = Day0.AddSeconds(i * 7),
            CostUsd = 0.000001m,
            Charges = new UsageCharges { Pool = "local", Checkpoint = "tiny", InferenceCostUsd = 0.000003m, TrainingShareUsd = 0.0000001m },
        }).ToList();
        await store.AppendAsync(records, CancellationToken.None);

        var day = Assert.Single(await AggregateAsync(store, AllOf(TimeSpan.FromDays(1))));

        Assert.Equal(0.001m, day.CostUsd);
        Assert.Equal(0.003m, day.InferenceCostUsd);
        Assert.Equal(0.0001m, day.TrainingShareUsd);
    }

    [Fact]
    public async Task RecordUptimeAsync_SameInstance_ExtendsItsIntervalAndUptimeReturnsOverlapsOnly()
    {
        await using var store = await NewStoreAsync();
        var t = Day0.AddHours(10);
        await store.RecordUptimeAsync(new PoolUptime { Pool = "gpu", InstanceId = "w1", Start = t, End = t.AddMinutes(1), HardwareUsdPerHour = 2.5m }, CancellationToken.None);
        await store.RecordUptimeAsync(new PoolUptime { Pool = "gpu", InstanceId = "w1", Start = t, End = t.AddMinutes(30), HardwareUsdPerHour = 2.75m }, CancellationToken.None);
        await store.RecordUptimeAsync(new PoolUptime { Pool = "gpu", InstanceId = "w2", Start = t.AddHours(2), End = t.AddHours(3) }, CancellationToken.None);
        await store.RecordUptimeAsync(new PoolUptime { Pool = "local", InstanceId = "w1", Start = t.AddMinutes(-10), End = t.AddMinutes(5) }, CancellationToken.None);

        var first = await store.UptimeAsync(t.AddMinutes(20), t.AddHours(2), CancellationToken.None);
        var all = await store.UptimeAsync(t.AddHours(-1), t.AddHours(4), CancellationToken.None);

        var extended = Assert.Single(first); // w2 starts at the exclusive end; local/w1 ended before the start
        Assert.Equal(new PoolUptime { Pool = "gpu", InstanceId = "w1", Start = t, End = t.AddMinutes(30), HardwareUsdPerHour = 2.75m }, extended);
        Assert.Equal(["local/w1", "gpu/w1", "gpu/w2"], all.Select(u => $"{u.Pool}/{u.InstanceId}"));
    }

    [Fact]
    public async Task EnsureSchemaAsync_FourGatewaysStartAtOnce_AllSucceedAndShareOneLedger()
    {
        var connectionString = await server.CreateDatabaseAsync();
        var stores = Enumerable.Range(0, 4).Select(_ => new PostgresUsageStore(connectionString)).ToList();
        try
        {
            await Task.WhenAll(stores.Select(s => Task.Run(() => s.EnsureSchemaAsync(CancellationToken.None))));
            var record = UsageRecords.Random(1, Day0, TimeSpan.FromHours(1), seed: 8)[0];

            var added = await Task.WhenAll(stores.Select(s => s.AppendAsync([record], CancellationToken.None)));

            Assert.Equal(1, added.Sum());
            Assert.All(await Task.WhenAll(stores.Select(s => s.QueryAsync(new UsageQuery(), CancellationToken.None))), r => Assert.Equal([record], r));
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.DisposeAsync();
            }
        }
    }
}

using ServeGate.Ledger;

namespace ServeGate.Ledger.Tests;

/// <summary>
/// What every <see cref="IUsageStore"/> must do, checked against hand sums: idempotent appends, aggregates per
/// grouping and bucket width, filters, up-time. A store's test class derives from this and says how to make one.
/// </summary>
public abstract class UsageStoreConformanceTests : IAsyncLifetime
{
    protected static readonly DateTimeOffset T0 = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

    protected IUsageStore Store { get; private set; } = null!;

    /// <summary>A new, empty store (its own file, schema or database).</summary>
    protected abstract Task<IUsageStore> CreateStoreAsync();

    /// <summary>The same store reopened (a restart), when the store can be; else the same instance.</summary>
    protected virtual Task<IUsageStore> ReopenAsync(IUsageStore store) => Task.FromResult(store);

    public async Task InitializeAsync() => Store = await CreateStoreAsync();

    public virtual Task DisposeAsync()
    {
        (Store as IDisposable)?.Dispose();
        return Task.CompletedTask;
    }

    protected static UsageRecord Record(string id, DateTimeOffset at, string model = "m1", string key = "k1", string team = "t1", int prompt = 10, int cached = 2, int completion = 5, UsageCharges? charges = null) => new()
    {
        RequestId = id,
        Timestamp = at,
        KeyId = key,
        Team = team,
        Model = model,
        Worker = "local",
        Endpoint = "/v1/completions",
        PromptTokens = prompt,
        CachedTokens = cached,
        CompletionTokens = completion,
        ComputeSeconds = 0.25,
        LatencyMs = 12.5,
        HttpStatus = 200,
        Outcome = UsageOutcome.Completed,
        FinishReason = "stop",
        CostUsd = 0.000123m,
        Charges = charges ?? new UsageCharges
        {
            Pool = "local",
            Checkpoint = "ck-" + model,
            HardwareUsdPerHour = 1.5m,
            InferenceCostUsd = 0.000104167m,
            CacheSavingsUsd = 0.00001m,
            TrainingUsdPerToken = 0.0000000012345m,
            TrainingShareUsd = 0.000000019m,
            ListPriceReference = "openai/gpt-4o-mini",
            ListInputUsdPerMillion = 0.15m,
            ListCachedInputUsdPerMillion = 0.075m,
            ListOutputUsdPerMillion = 0.6m,
            ListPriceUsd = 0.00000435m,
        },
    };

    [Fact]
    public async Task AppendAsync_Replay_CountsOnlyNewRecordsAndNeverDoubles()
    {
        var first = new[] { Record("a", T0), Record("b", T0.AddMinutes(1)) };
        Assert.Equal(2, await Store.AppendAsync(first, CancellationToken.None));

        var replay = new[] { Record("b", T0.AddMinutes(1)), Record("c", T0.AddMinutes(2)) };
        Assert.Equal(1, await Store.AppendAsync(replay, CancellationToken.None));
        Assert.Equal(0, await Store.AppendAsync(replay, CancellationToken.None));

        var records = await Store.QueryAsync(new UsageQuery { Limit = 100 }, CancellationToken.None);
        Assert.Equal(["a", "b", "c"], records.Select(r => r.RequestId).Order());
        var sums = await Store.AggregateAsync(new UsageAggregateQuery { Start = T0, End = T0.AddDays(1), BucketWidth = TimeSpan.FromDays(1) }, CancellationToken.None);
        var day = Assert.Single(sums);
        Assert.Equal(3, day.Requests);
        Assert.Equal(30, day.InputTokens);
    }

    [Fact]
    public async Task QueryAsync_RecordWithCharges_RoundTripsEveryField()
    {
        var record = Record("rt", T0.AddSeconds(7)) with { TimeToFirstTokenMs = 3.5, QueueMs = 1.25, Stream = true, Estimated = true };
        await Store.AppendAsync([record], CancellationToken.None);

        var read = Assert.Single(await Store.QueryAsync(new UsageQuery(), CancellationToken.None));
        Assert.Equal(record, read);
    }

    [Fact]
    public async Task QueryAsync_RecordWithoutCharges_ReadsBackWithoutCharges()
    {
        await Store.AppendAsync([Record("nc", T0) with { Charges = null }], CancellationToken.None);
        var read = Assert.Single(await Store.QueryAsync(new UsageQuery(), CancellationToken.None));
        Assert.Null(read.Charges);
    }

    private async Task<List<UsageRecord>> SeedAsync()
    {
        // Three days, two models, two keys in two teams, at odd minutes (some hours only partly covered).
        var records = new List<UsageRecord>();
        var n = 0;
        for (var minute = 0; minute < 3 * 24 * 60; minute += 37)
        {
            var i = n++;
            records.Add(Record(
                "s" + i, T0.AddMinutes(minute).AddSeconds(i % 60),
                model: i % 3 == 0 ? "m2" : "m1", key: i % 2 == 0 ? "k1" : "k2", team: i % 2 == 0 ? "t1" : "t2",
                prompt: 10 + i, cached: i % 5, completion: 1 + (i % 7),
                charges: new UsageCharges { Pool = i % 4 == 0 ? "gpu-a" : "local", Checkpoint = "ck", InferenceCostUsd = 0.000001m * i, TrainingShareUsd = 0.000000001m * i, ListPriceUsd = 0.0000001m * i, CacheSavingsUsd = 0.0000002m * i }));
        }

        foreach (var chunk in records.Chunk(50))
        {
            await Store.AppendAsync(chunk, CancellationToken.None);
        }

        return records;
    }

    public static TheoryData<int, int, int> Widths => new()
    {
        { 1, 0, 0 },     // 1m over the whole range
        { 60, 0, 0 },    // 1h, aligned range (the rollup)
        { 1440, 0, 0 },  // 1d
        { 60, 13, 17 },  // 1h, range starting and ending mid-hour (rollup + raw rows)
        { 1440, 95, 1441 },
    };

    [Theory]
    [MemberData(nameof(Widths))]
    public async Task AggregateAsync_EachGrouping_EqualsHandSums(int widthMinutes, int startOffsetMinutes, int endCutMinutes)
    {
        var records = await SeedAsync();
        var width = TimeSpan.FromMinutes(widthMinutes);
        var start = T0.AddMinutes(startOffsetMinutes);
        var end = T0.AddDays(3).AddMinutes(-endCutMinutes);
        foreach (var grouping in new[] { UsageGrouping.None, UsageGrouping.Model, UsageGrouping.KeyId, UsageGrouping.Team, UsageGrouping.Pool, UsageGrouping.Checkpoint, UsageGrouping.Model | UsageGrouping.Team })
        {
            var actual = await Store.AggregateAsync(new UsageAggregateQuery { Start = start, End = end, BucketWidth = width, GroupBy = grouping }, CancellationToken.None);
            var expected = Expected(records.Where(r => r.Timestamp >= start && r.Timestamp < end), width, grouping);
            Assert.Equal(expected, actual);
        }
    }

    [Fact]
    public async Task AggregateAsync_Filters_OnlyMatchingRecords()
    {
        var records = await SeedAsync();
        var query = new UsageAggregateQuery
        {
            Start = T0,
            End = T0.AddDays(3),
            BucketWidth = TimeSpan.FromDays(1),
            GroupBy = UsageGrouping.Model,
            Teams = ["t2"],
            Models = ["m1", "nope"],
            KeyIds = ["k2", "k1"],
        };
        var actual = await Store.AggregateAsync(query, CancellationToken.None);
        var expected = Expected(records.Where(r => r.Team == "t2" && r.Model == "m1"), TimeSpan.FromDays(1), UsageGrouping.Model);
        Assert.Equal(expected, actual);
        Assert.Empty(await Store.AggregateAsync(query with { KeyIds = ["nobody"] }, CancellationToken.None));
    }

    [Fact]
    public async Task AggregateAsync_AfterReopen_SameSums()
    {
        var records = await SeedAsync();
        Store = await ReopenAsync(Store);
        var actual = await Store.AggregateAsync(new UsageAggregateQuery { Start = T0, End = T0.AddDays(3), BucketWidth = TimeSpan.FromHours(1), GroupBy = UsageGrouping.KeyId }, CancellationToken.None);
        Assert.Equal(Expected(records, TimeSpan.FromHours(1), UsageGrouping.KeyId), actual);
    }

    [Fact]
    public async Task AppendAsync_ReplayedBatches_RollupsNeverDoubleCount()
    {
        // A crash between the store's commit and the spool forgetting replays stored batches, whole or cut differently,
        // and a batch may hold one record twice: the hourly and daily rollups must count each record once, like raw rows.
        var records = await SeedAsync();
        foreach (var chunk in records.Chunk(50).Concat(records.Chunk(73)))
        {
            Assert.Equal(0, await Store.AppendAsync(chunk, CancellationToken.None));
        }

        var extra = Record("extra", T0.AddHours(5).AddMinutes(3), model: "m2", key: "k2", team: "t2");
        Assert.Equal(1, await Store.AppendAsync([extra, records[0], extra], CancellationToken.None));
        records.Add(extra);

        foreach (var width in new[] { TimeSpan.FromMinutes(1), TimeSpan.FromHours(1), TimeSpan.FromDays(1) })
        {
            var actual = await Store.AggregateAsync(new UsageAggregateQuery { Start = T0, End = T0.AddDays(3), BucketWidth = width, GroupBy = UsageGrouping.Model | UsageGrouping.KeyId }, CancellationToken.None);
            Assert.Equal(Expected(records, width, UsageGrouping.Model | UsageGrouping.KeyId), actual);
        }
    }

    private static List<UsageAggregate> Expected(IEnumerable<UsageRecord> records, TimeSpan width, UsageGrouping g)
    {
        var w = (long)width.TotalMilliseconds;
        return
        [
            .. records
                .GroupBy(r => (
                    Bucket: r.Timestamp.ToUnixTimeMilliseconds() / w * w,
                    Model: g.HasFlag(UsageGrouping.Model) ? r.Model : null,
                    Key: g.HasFlag(UsageGrouping.KeyId) ? r.KeyId : null,
                    Team: g.HasFlag(UsageGrouping.Team) ? r.Team : null,
                    Checkpoint: g.HasFlag(UsageGrouping.Checkpoint) ? r.Charges!.Checkpoint : null,
                    Pool: g.HasFlag(UsageGrouping.Pool) ? r.Charges!.Pool : null))
                .OrderBy(x => x.Key.Bucket).ThenBy(x => x.Key.Model, StringComparer.Ordinal).ThenBy(x => x.Key.Key, StringComparer.Ordinal)
                .ThenBy(x => x.Key.Team, StringComparer.Ordinal).ThenBy(x => x.Key.Checkpoint, StringComparer.Ordinal).ThenBy(x => x.Key.Pool, StringComparer.Ordinal)
                .Select(x => new UsageAggregate
                {
                    BucketStart = DateTimeOffset.FromUnixTimeMilliseconds(x.Key.Bucket),
                    Model = x.Key.Model,
                    KeyId = x.Key.Key,
                    Team = x.Key.Team,
                    Checkpoint = x.Key.Checkpoint,
                    Pool = x.Key.Pool,
                    Requests = x.Count(),
                    InputTokens = x.Sum(r => (long)r.PromptTokens),
                    CachedTokens = x.Sum(r => (long)r.CachedTokens),
                    OutputTokens = x.Sum(r => (long)r.CompletionTokens),
                    ComputeSeconds = x.Sum(r => r.ComputeSeconds),
                    CostUsd = x.Sum(r => r.CostUsd),
                    InferenceCostUsd = x.Sum(r => r.Charges!.InferenceCostUsd),
                    CacheSavingsUsd = x.Sum(r => r.Charges!.CacheSavingsUsd),
                    TrainingShareUsd = x.Sum(r => r.Charges!.TrainingShareUsd),
                    ListPriceUsd = x.Sum(r => r.Charges!.ListPriceUsd),
                }),
        ];
    }

    [Fact]
    public async Task RecordUptimeAsync_SameInstance_ExtendsOneInterval()
    {
        await Store.RecordUptimeAsync(new PoolUptime { Pool = "local", InstanceId = "i1", Start = T0, End = T0.AddSeconds(15), HardwareUsdPerHour = 2m }, CancellationToken.None);
        await Store.RecordUptimeAsync(new PoolUptime { Pool = "local", InstanceId = "i1", Start = T0, End = T0.AddSeconds(30), HardwareUsdPerHour = 2m }, CancellationToken.None);
        await Store.RecordUptimeAsync(new PoolUptime { Pool = "local", InstanceId = "i2", Start = T0.AddHours(2), End = T0.AddHours(3), HardwareUsdPerHour = 2.5m }, CancellationToken.None);
        await Store.RecordUptimeAsync(new PoolUptime { Pool = "gpu", InstanceId = "i1", Start = T0.AddMinutes(1), End = T0.AddMinutes(2), HardwareUsdPerHour = 0.1m }, CancellationToken.None);

        var first = await Store.UptimeAsync(T0.AddSeconds(10), T0.AddHours(1), CancellationToken.None);
        Assert.Equal(2, first.Count);
        var local = Assert.Single(first, u => u.Pool == "local");
        Assert.Equal(new PoolUptime { Pool = "local", InstanceId = "i1", Start = T0, End = T0.AddSeconds(30), HardwareUsdPerHour = 2m }, local);
        var later = Assert.Single(await Store.UptimeAsync(T0.AddHours(2).AddMinutes(30), T0.AddHours(4), CancellationToken.None));
        Assert.Equal(("i2", 2.5m), (later.InstanceId, later.HardwareUsdPerHour));
        Assert.Empty(await Store.UptimeAsync(T0.AddHours(3), T0.AddHours(4), CancellationToken.None)); // end is exclusive
    }
}

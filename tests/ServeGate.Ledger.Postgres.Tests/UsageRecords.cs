namespace ServeGate.Ledger.Postgres.Tests;

/// <summary>Usage records to write and the sums an aggregate of them must return, computed in memory.</summary>
internal static class UsageRecords
{
    public static readonly string[] Models = ["tiny-base", "tiny-instruct", "llama-3b"];
    public static readonly string[] Teams = ["research", "support"];
    public static readonly string[] Keys = ["key-a", "key-b", "key-c", "key-d"];

    /// <summary>Random records from <paramref name="start"/> over <paramref name="span"/>, a third without charges, money in micro-dollars.</summary>
    public static List<UsageRecord> Random(int count, DateTimeOffset start, TimeSpan span, int seed, string idPrefix = "req")
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(i =>
        {
            var key = random.Next(Keys.Length);
            var model = Models[random.Next(Models.Length)];
            return new UsageRecord
            {
                RequestId = $"{idPrefix}-{i}",
                Timestamp = start.AddMilliseconds(random.NextInt64((long)span.TotalMilliseconds)),
                KeyId = Keys[key],
                Team = Teams[key % Teams.Length],
                Model = model,
                Worker = "local",
                Endpoint = "/v1/chat/completions",
                Stream = random.Next(2) == 0,
                PromptTokens = random.Next(1, 2000),
                CachedTokens = random.Next(0, 500),
                CompletionTokens = random.Next(1, 500),
                ComputeSeconds = random.Next(1, 4000) / 1000.0,
                LatencyMs = random.Next(1, 9000),
                HttpStatus = 200,
                CostUsd = random.Next(0, 50_000) / 1_000_000m,
                Charges = i % 3 == 0 ? null : new UsageCharges
                {
                    Pool = i % 2 == 0 ? "local" : "gpu",
                    Checkpoint = model.StartsWith("tiny", StringComparison.Ordinal) ? "tiny" : "llama",
                    HardwareUsdPerHour = 1.25m,
                    InferenceCostUsd = random.Next(0, 90_000) / 1_000_000m,
                    CacheSavingsUsd = random.Next(0, 9_000) / 1_000_000m,
                    TrainingUsdPerToken = 0.000000123m,
                    TrainingShareUsd = random.Next(0, 5_000) / 1_000_000m,
                    ListPriceReference = "openai/gpt-4o-mini",
                    ListInputUsdPerMillion = 0.15m,
                    ListCachedInputUsdPerMillion = 0.075m,
                    ListOutputUsdPerMillion = 0.6m,
                    ListPriceUsd = random.Next(0, 70_000) / 1_000_000m,
                },
            };
        })];
    }

    /// <summary>What <see cref="IUsageStore.AggregateAsync"/> must return for <paramref name="query"/>, by LINQ over the records.</summary>
    public static List<UsageAggregate> Expected(IEnumerable<UsageRecord> records, UsageAggregateQuery query)
    {
        var width = query.BucketWidth.Ticks;
        string? Pick(UsageGrouping flag, string value) => query.GroupBy.HasFlag(flag) ? value : null;
        return [.. records
            .Where(r => r.Timestamp >= query.Start && r.Timestamp < query.End)
            .Where(r => query.Teams.Count == 0 || query.Teams.Contains(r.Team))
            .Where(r => query.KeyIds.Count == 0 || query.KeyIds.Contains(r.KeyId))
            .Where(r => query.Models.Count == 0 || query.Models.Contains(r.Model))
            .GroupBy(r => (
                Bucket: new DateTimeOffset(DateTimeOffset.UnixEpoch.UtcTicks + ((r.Timestamp.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / width * width), TimeSpan.Zero),
                Model: Pick(UsageGrouping.Model, r.Model),
                Key: Pick(UsageGrouping.KeyId, r.KeyId),
                Team: Pick(UsageGrouping.Team, r.Team),
                Checkpoint: Pick(UsageGrouping.Checkpoint, r.Charges?.Checkpoint ?? string.Empty),
                Pool: Pick(UsageGrouping.Pool, r.Charges?.Pool ?? string.Empty)))
            .Select(g => new UsageAggregate
            {
                BucketStart = g.Key.Bucket,
                Model = g.Key.Model,
                KeyId = g.Key.Key,
                Team = g.Key.Team,
                Checkpoint = g.Key.Checkpoint,
                Pool = g.Key.Pool,
                Requests = g.Count(),
                InputTokens = g.Sum(r => (long)r.PromptTokens),
                CachedTokens = g.Sum(r => (long)r.CachedTokens),
                OutputTokens = g.Sum(r => (long)r.CompletionTokens),
                ComputeSeconds = g.Sum(r => r.ComputeSeconds),
                CostUsd = g.Sum(r => r.CostUsd),
                InferenceCostUsd = g.Sum(r => r.Charges?.InferenceCostUsd ?? 0),
                CacheSavingsUsd = g.Sum(r => r.Charges?.CacheSavingsUsd ?? 0),
                TrainingShareUsd = g.Sum(r => r.Charges?.TrainingShareUsd ?? 0),
                ListPriceUsd = g.Sum(r => r.Charges?.ListPriceUsd ?? 0),
            })
            .OrderBy(a => a.BucketStart).ThenBy(a => a.Model, StringComparer.Ordinal).ThenBy(a => a.KeyId, StringComparer.Ordinal)
            .ThenBy(a => a.Team, StringComparer.Ordinal).ThenBy(a => a.Checkpoint, StringComparer.Ordinal).ThenBy(a => a.Pool, StringComparer.Ordinal)];
    }

    /// <summary>Equal sums, compute seconds to a rounding error (summed in a different order), money exactly.</summary>
    public static void AssertSame(IReadOnlyList<UsageAggregate> expected, IReadOnlyList<UsageAggregate> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.True(Math.Abs(expected[i].ComputeSeconds - actual[i].ComputeSeconds) < 1e-6, $"compute seconds of row {i}: {expected[i].ComputeSeconds} != {actual[i].ComputeSeconds}");
            Assert.Equal(expected[i] with { ComputeSeconds = 0 }, actual[i] with { ComputeSeconds = 0 });
        }
    }
}

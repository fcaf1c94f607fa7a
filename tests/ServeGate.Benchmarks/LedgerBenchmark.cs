using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ServeGate.Ledger;
using ServeGate.Ledger.Postgres;

namespace ServeGate.Benchmarks;

/// <summary>
/// The PostgreSQL ledger: records/s through <see cref="UsageWriter"/> into an empty database, then the 30-day
/// daily-by-model aggregate over what was written (p50/p95 of timed runs). Results: docs/benchmarks.md "Ledger".
/// </summary>
internal static class LedgerBenchmark
{
    private static readonly string[] Models = ["llama-3b", "qwen-7b", "tiny-base", "tiny-instruct"];

    public static async Task<int> RunAsync(string connectionString, int records, int batchSize, int runs)
    {
        await using var store = new PostgresUsageStore(connectionString);
        await store.EnsureSchemaAsync(CancellationToken.None);
        var end = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
        var start = end.AddDays(-30);
        var step = TimeSpan.FromDays(30).Ticks / records;

        // A spool of the run's own (not the user's data folder), and 256 producers as concurrent requests would be: each
        // WriteAsync waits for its record's spool sync, so one producer alone measures sync latency, not throughput.
        var spool = Directory.CreateTempSubdirectory("servegate-ledger-bench-").FullName;
        var options = Options.Create(new MeteringOptions { BatchSize = batchSize, SpoolDirectory = spool });
        var writer = new UsageWriter(store, options, NullLogger<UsageWriter>.Instance);
        await writer.StartAsync(CancellationToken.None);
        var clock = Stopwatch.StartNew();
        await Parallel.ForAsync(0, records, new ParallelOptions { MaxDegreeOfParallelism = 256 }, async (i, _) =>
            await writer.WriteAsync(Record(i, start.AddTicks(step * i))));

        await writer.StopAsync(CancellationToken.None); // drains: every record is committed when it returns
        var writeSeconds = clock.Elapsed.TotalSeconds;

        var query = new UsageAggregateQuery { Start = start, End = end, BucketWidth = TimeSpan.FromDays(1), GroupBy = UsageGrouping.Model };
        var timings = new List<double>();
        IReadOnlyList<UsageAggregate> rows = [];
        for (var run = -2; run < runs; run++)
        {
            clock.Restart();
            rows = await store.AggregateAsync(query, CancellationToken.None);
            if (run >= 0)
            {
                timings.Add(clock.Elapsed.TotalMilliseconds);
            }
        }

        timings.Sort();
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            records,
            batch_size = batchSize,
            written = writer.Written,
            dropped = writer.Dropped,
            write_seconds = Math.Round(writeSeconds, 2),
            records_per_second = Math.Round(records / writeSeconds),
            aggregate_rows = rows.Count,
            aggregate_requests = rows.Sum(r => r.Requests),
            aggregate_ms_p50 = Math.Round(timings[timings.Count / 2], 1),
            aggregate_ms_p95 = Math.Round(timings[Math.Min(timings.Count - 1, (int)(timings.Count * 0.95))], 1),
        }, new JsonSerializerOptions { WriteIndented = true }));
        return writer.Written == records ? 0 : 1;
    }

    // 4 models, 40 keys in 8 teams, 2 pools: the shape of a small organisation's month.
    private static UsageRecord Record(int i, DateTimeOffset timestamp) => new()
    {
        RequestId = "bench-" + i.ToString("x8", System.Globalization.CultureInfo.InvariantCulture),
        Timestamp = timestamp,
        KeyId = "key-" + (i % 40).ToString(System.Globalization.CultureInfo.InvariantCulture),
        Team = "team-" + (i % 8).ToString(System.Globalization.CultureInfo.InvariantCulture),
        Model = Models[i / 40 % Models.Length],
        Worker = "local",
        Endpoint = "/v1/chat/completions",
        Stream = (i & 1) == 0,
        PromptTokens = 200 + (i % 1000),
        CachedTokens = i % 128,
        CompletionTokens = 50 + (i % 300),
        ComputeSeconds = 0.25 + (i % 100) / 100.0,
        LatencyMs = 300 + (i % 700),
        TimeToFirstTokenMs = 40,
        HttpStatus = 200,
        FinishReason = "stop",
        CostUsd = (i % 5000) / 1_000_000m,
        Charges = new UsageCharges
        {
            Pool = (i & 2) == 0 ? "local" : "gpu",
            Checkpoint = Models[i / 40 % Models.Length],
            HardwareUsdPerHour = 1.2m,
            InferenceCostUsd = (i % 3000) / 1_000_000m,
            CacheSavingsUsd = (i % 300) / 1_000_000m,
            TrainingUsdPerToken = 0.00000002m,
            TrainingShareUsd = (i % 70) / 1_000_000m,
            ListPriceReference = "openai/gpt-4o-mini",
            ListInputUsdPerMillion = 0.15m,
            ListCachedInputUsdPerMillion = 0.075m,
            ListOutputUsdPerMillion = 0.6m,
            ListPriceUsd = (i % 4000) / 1_000_000m,
        },
    };
}

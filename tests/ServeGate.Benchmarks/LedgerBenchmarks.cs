using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ServeGate.Ledger;
using ServeGate.Tests.Common;

/// <summary>The ledger: write throughput through the spooled writer, and the costs report's store query over a big ledger.</summary>
internal static class LedgerBenchmarks
{
    /// <summary>Records through <see cref="UsageWriter"/> (spool fsync + SQLite), <paramref name="producers"/> requests at a time.</summary>
    public static async Task<int> WriteAsync(int records, int producers)
    {
        var directory = Directory.CreateTempSubdirectory("servegate-bench-ledger-").FullName;
        var options = new MeteringOptions { DatabasePath = Path.Combine(directory, "usage.db") };
        using var store = new SqliteUsageStore(options.ResolveDatabasePath());
        var writer = new UsageWriter(store, Options.Create(options), NullLogger<UsageWriter>.Instance);
        await writer.StartAsync(CancellationToken.None);
        var at = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var spooled = new long[records];
        await Parallel.ForAsync(0, records, new ParallelOptions { MaxDegreeOfParallelism = producers }, async (i, ct) =>
        {
            var start = Stopwatch.GetTimestamp();
            await writer.WriteAsync(LedgerFill.Record(i, at), ct);
            spooled[i] = Stopwatch.GetTimestamp() - start;
        });
        var accepted = clock.Elapsed;
        await writer.StopAsync(CancellationToken.None);
        var stored = clock.Elapsed;
        await writer.DisposeAsync();
        Array.Sort(spooled);
        double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
        Console.WriteLine($"ledger-write: {records} records, {producers} producers: accepted+spooled in {accepted.TotalSeconds:F2} s ({records / accepted.TotalSeconds:F0}/s), stored in {stored.TotalSeconds:F2} s ({records / stored.TotalSeconds:F0}/s); WriteAsync p50 {Ms(spooled[records / 2]):F2} ms, p99 {Ms(spooled[records * 99 / 100]):F2} ms");
        Directory.Delete(directory, recursive: true);
        return 0;
    }

    /// <summary>The store queries of <c>GET /v1/organization/costs</c> for 30 days, daily, grouped by model, over <paramref name="records"/> records.</summary>
    public static async Task<int> CostsAsync(int records, int reps)
    {
        var directory = Directory.CreateTempSubdirectory("servegate-bench-costs-").FullName;
        using var store = new SqliteUsageStore(Path.Combine(directory, "usage.db"));
        var end = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
        var start = end.AddDays(-30);
        var fill = await LedgerFill.FillAsync(store, records, start, end);
        Console.WriteLine($"ledger-costs: {records} records appended in {fill.TotalSeconds:F1} s ({records / fill.TotalSeconds:F0}/s, batches of 2,000)");
        var times = new List<double>();
        for (var r = 0; r < reps; r++)
        {
            var clock = Stopwatch.StartNew();
            // What the costs handler asks the store: the grouped sums, the per-pool busy cost and the up-time.
            var query = new UsageAggregateQuery { Start = start, End = end, BucketWidth = TimeSpan.FromDays(1), GroupBy = UsageGrouping.Model };
            var sums = await store.AggregateAsync(query, CancellationToken.None);
            var busy = await store.AggregateAsync(query with { GroupBy = UsageGrouping.Pool }, CancellationToken.None);
            var uptime = await store.UptimeAsync(start, end, CancellationToken.None);
            times.Add(clock.Elapsed.TotalMilliseconds);
            if (sums.Count != 30 * 4 || sums.Sum(s => s.Requests) != records || busy.Count != 30 || uptime.Count != 1)
            {
                Console.Error.WriteLine($"unexpected answer: {sums.Count} rows, {sums.Sum(s => s.Requests)} requests");
                return 1;
            }
        }

        times.Sort();
        Console.WriteLine($"ledger-costs: 30 days x 1d x model, {reps} runs: p50 {times[times.Count / 2]:F1} ms, min {times[0]:F1} ms, max {times[^1]:F1} ms");
        Directory.Delete(directory, recursive: true);
        return 0;
    }
}

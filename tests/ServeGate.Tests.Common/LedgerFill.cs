using System.Globalization;
using ServeGate.Ledger;

namespace ServeGate.Tests.Common;

/// <summary>
/// A big ledger for benchmarks and load tests: records spread evenly over a period, 4 models, 20 keys in 5 teams, 2
/// checkpoints, appended straight into a store in batches (the shape behind docs/benchmarks.md "Ledger" and "Dashboard").
/// </summary>
public static class LedgerFill
{
    /// <summary>The models the records name unless told otherwise.</summary>
    public static readonly IReadOnlyList<string> DefaultModels = ["model-0", "model-1", "model-2", "model-3"];

    /// <summary>Record <paramref name="i"/> at <paramref name="at"/>: key i%20, team i%5, model i%4 of <paramref name="models"/>.</summary>
    public static UsageRecord Record(long i, DateTimeOffset at, IReadOnlyList<string>? models = null) => new()
    {
        RequestId = "bench-" + i.ToString(CultureInfo.InvariantCulture),
        Timestamp = at,
        KeyId = "key-" + (i % 20).ToString(CultureInfo.InvariantCulture),
        Team = "team-" + (i % 5).ToString(CultureInfo.InvariantCulture),
        Model = (models ?? DefaultModels)[(int)(i % (models ?? DefaultModels).Count)],
        Worker = "local",
        Endpoint = "/v1/chat/completions",
        Stream = i % 2 == 0,
        PromptTokens = 200 + (int)(i % 300),
        CachedTokens = (int)(i % 128),
        CompletionTokens = 50 + (int)(i % 100),
        ComputeSeconds = 0.05,
        LatencyMs = 300,
        TimeToFirstTokenMs = 40,
        HttpStatus = 200,
        FinishReason = "stop",
        CostUsd = 0.0001m,
        Charges = new UsageCharges
        {
            Pool = "local",
            Checkpoint = "ck-" + (i % 2).ToString(CultureInfo.InvariantCulture),
            HardwareUsdPerHour = 2m,
            InferenceCostUsd = 0.0000277m,
            CacheSavingsUsd = 0.000001m,
            TrainingUsdPerToken = 0.000000001m,
            TrainingShareUsd = 0.00000025m,
            ListPriceUsd = 0.00006m,
        },
    };

    /// <summary>
    /// Appends <paramref name="records"/> records spread evenly over [<paramref name="start"/>, <paramref name="end"/>)
    /// in batches of 2,000, and the pool "local" up the whole period; returns the time it took.
    /// </summary>
    public static async Task<TimeSpan> FillAsync(IUsageStore store, int records, DateTimeOffset start, DateTimeOffset end, IReadOnlyList<string>? models = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        const int Batch = 2000;
        var step = (end - start) / records;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < records; i += Batch)
        {
            var batch = new UsageRecord[Math.Min(Batch, records - i)];
            for (var j = 0; j < batch.Length; j++)
            {
                batch[j] = Record(i + j, start + (step * (i + j)), models);
            }

            await store.AppendAsync(batch, CancellationToken.None);
        }

        await store.RecordUptimeAsync(new PoolUptime { Pool = "local", InstanceId = "bench", Start = start, End = end, HardwareUsdPerHour = 2m }, CancellationToken.None);
        return clock.Elapsed;
    }
}

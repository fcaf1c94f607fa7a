using ServeGate.Economics.Pricing;
using ServeGate.Ledger;

namespace ServeGate.Gateway.Economics;

/// <summary>
/// Feeds the <see cref="RunningTokenRate"/> at start with each model's tokens in the ledger over the last
/// <see cref="Window"/>, from its first record there, so a restart does not reset the straight-line amortization's rate.
/// </summary>
internal sealed partial class TokenRateSeeder(IObservedTokenRate rate, IUsageStore store, TimeProvider time, ILogger<TokenRateSeeder> logger) : IHostedService
{
    /// <summary>How far back the ledger is read; older traffic no longer says how fast a model is served.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromDays(7);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (rate is not RunningTokenRate running)
        {
            return; // another rate source was registered: it keeps its own
        }

        try
        {
            foreach (var (model, tokens, since) in await ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                running.Seed(model, tokens, since);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
        {
            Log.SeedFailed(logger, ex); // the rate counts from now, as without a ledger
        }
    }

    /// <summary>Each model's tokens (prompt and completion, as priced) and first minute with traffic in the window.</summary>
    private async Task<List<(string Model, long Tokens, DateTimeOffset Since)>> ReadAsync(CancellationToken cancellationToken)
    {
        var end = time.GetUtcNow();
        var start = end - Window;
        var hours = await store.AggregateAsync(Query(start, end, TimeSpan.FromHours(1)), cancellationToken).ConfigureAwait(false);
        var seeds = new List<(string, long, DateTimeOffset)>();
        foreach (var model in hours.Where(h => h.Model is not null).GroupBy(h => h.Model!, StringComparer.Ordinal))
        {
            var tokens = model.Sum(h => h.InputTokens + h.OutputTokens);
            if (tokens <= 0)
            {
                continue;
            }

            // The first hour's minutes say when within it the traffic began (the rate of a short history needs them).
            var firstHour = model.Min(h => h.BucketStart);
            var from = firstHour > start ? firstHour : start;
            var to = firstHour.AddHours(1) < end ? firstHour.AddHours(1) : end;
            var minutes = await store.AggregateAsync(Query(from, to, TimeSpan.FromMinutes(1)) with { Models = [model.Key] }, cancellationToken).ConfigureAwait(false);
            seeds.Add((model.Key, tokens, minutes.Count == 0 ? from : minutes.Min(m => m.BucketStart)));
        }

        return seeds;
    }

    private static UsageAggregateQuery Query(DateTimeOffset start, DateTimeOffset end, TimeSpan width) =>
        new() { Start = start, End = end, BucketWidth = width, GroupBy = UsageGrouping.Model };

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static partial class Log
    {
        [LoggerMessage(EventId = GatewayLogEvents.TokenRateSeedFailed, Level = LogLevel.Warning,
            Message = "Could not read the observed token rates from the ledger; they count from this start.")]
        public static partial void SeedFailed(ILogger logger, Exception exception);
    }
}

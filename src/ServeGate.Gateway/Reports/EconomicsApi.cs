using Microsoft.Extensions.Primitives;
using ServeGate.Core.OpenAi;
using ServeGate.Economics.Reports;
using ServeGate.Gateway.Auth;
using ServeGate.Ledger;

namespace ServeGate.Gateway.Reports;

/// <summary>
/// <c>GET /v1/economics</c>: per pool, checkpoint and variant, what serving cost (busy and idle), what the model cost to
/// train, how much of it the traffic has amortized, and when inference spend overtakes it, from the ledger's totals
/// (<see cref="EconomicsReportBuilder"/>). The period is the whole ledger unless <c>start_time</c>/<c>end_time</c> narrow
/// it. A team's key sees its own team's traffic and no idle capacity (which belongs to no team).
/// </summary>
internal static class EconomicsApi
{
    private static readonly HashSet<string> Parameters = new(StringComparer.Ordinal) { "start_time", "end_time", "format" };

    public static IEndpointRouteBuilder MapEconomicsApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/v1/economics", EconomicsAsync);
        return endpoints;
    }

    private static async Task<IResult> EconomicsAsync(
        HttpContext context, AccessPolicy policy, IApiKeyStore keys, IUsageStore store, EconomicsReportBuilder builder, TimeProvider time)
    {
        var (scope, denied) = await ReportAccess.AuthorizeAsync(context, policy, keys).ConfigureAwait(false);
        if (denied is not null)
        {
            return denied;
        }

        var query = context.Request.Query;
        if (query.Keys.FirstOrDefault(k => !Parameters.Contains(k)) is { } unknown)
        {
            return UsageApi.Error(ApiError.InvalidRequest($"Unknown parameter '{unknown}': /v1/economics takes start_time, end_time and format.", unknown, "unsupported_parameter"));
        }

        var now = time.GetUtcNow();
        var start = DateTimeOffset.UnixEpoch;
        var end = now;
        if ((query.TryGetValue("start_time", out var s) && !TryTime(s, out start)) || (query.TryGetValue("end_time", out var e) && !TryTime(e, out end)))
        {
            return UsageApi.Error(ApiError.InvalidRequest("start_time and end_time are Unix seconds.", query.ContainsKey("start_time") && !TryTime(s, out _) ? "start_time" : "end_time"));
        }

        if (end <= start)
        {
            return UsageApi.Error(ApiError.InvalidRequest("end_time must be after start_time.", "end_time"));
        }

        if (query.TryGetValue("format", out var format) && format != "json" && format != "csv")
        {
            return UsageApi.Error(ApiError.InvalidRequest("format must be json or csv.", "format"));
        }

        var teams = scope!.All ? [] : new[] { scope.Team! };
        var totals = await TotalsAsync(store, start, end, teams, context.RequestAborted).ConfigureAwait(false);
        var uptime = scope.All
            ? IdleCost.Uptime(await store.UptimeAsync(start, end, context.RequestAborted).ConfigureAwait(false), start, end)
                .Select(u => new PoolUptimeTotal(u.Pool, u.Seconds, u.UsdPerHour)).ToList()
            : [];
        var report = builder.Build(totals, uptime, now);
        return format == "csv" || ReportRequest.WantsCsv(context.Request)
            ? TypedResults.Text(ReportCsv.Economics(report), "text/csv; charset=utf-8", System.Text.Encoding.UTF8)
            : TypedResults.Json(report, EconomicsJsonContext.Default.EconomicsReport);
    }

    /// <summary>
    /// Each model's totals per pool over the period: daily sums for the figures, then minute buckets in the first and
    /// last hour with traffic for when it began and ended (the observed rate of a short run needs minutes, not days).
    /// </summary>
    private static async Task<List<ModelUsageTotals>> TotalsAsync(IUsageStore store, DateTimeOffset start, DateTimeOffset end, IReadOnlyList<string> teams, CancellationToken cancellationToken)
    {
        const UsageGrouping grouping = UsageGrouping.Model | UsageGrouping.Pool;
        var days = await store.AggregateAsync(Query(start, end, TimeSpan.FromDays(1), grouping, teams), cancellationToken).ConfigureAwait(false);
        if (days.Count == 0)
        {
            return [];
        }

        var firstDay = days.Min(d => d.BucketStart);
        var lastDay = days.Max(d => d.BucketStart);
        var early = await EdgeMinutesAsync(store, Query(Max(firstDay, start), Min(firstDay.AddDays(1), end), TimeSpan.FromHours(1), grouping, teams), first: true, cancellationToken).ConfigureAwait(false);
        var late = await EdgeMinutesAsync(store, Query(Max(lastDay, start), Min(lastDay.AddDays(1), end), TimeSpan.FromHours(1), grouping, teams), first: false, cancellationToken).ConfigureAwait(false);
        return [.. days
            .GroupBy(d => (Model: d.Model ?? string.Empty, Pool: d.Pool ?? string.Empty))
            .Select(g => new ModelUsageTotals
            {
                Model = g.Key.Model,
                Pool = g.Key.Pool,
                Requests = g.Sum(d => d.Requests),
                InputTokens = g.Sum(d => d.InputTokens),
                CachedTokens = g.Sum(d => d.CachedTokens),
                OutputTokens = g.Sum(d => d.OutputTokens),
                ComputeSeconds = g.Sum(d => d.ComputeSeconds),
                InferenceCostUsd = g.Sum(d => d.InferenceCostUsd),
                CacheSavingsUsd = g.Sum(d => d.CacheSavingsUsd),
                TrainingShareUsd = g.Sum(d => d.TrainingShareUsd),
                ListPriceUsd = g.Sum(d => d.ListPriceUsd),
                First = Max(early.Where(m => Same(m, g.Key)).Select(m => m.BucketStart).DefaultIfEmpty(g.Min(d => d.BucketStart)).Min(), start),
                Last = Min(late.Where(m => Same(m, g.Key)).Select(m => m.BucketStart.AddMinutes(1)).DefaultIfEmpty(g.Max(d => d.BucketStart).AddDays(1)).Max(), end),
            })];
    }

    /// <summary>
    /// The minute buckets of each group's first (or last) hour with traffic in <paramref name="day"/>: hours come from the
    /// stores' hourly rollups, so only those hours' raw records are read, not a whole day's (docs/benchmarks.md, "Dashboard").
    /// </summary>
    private static async Task<List<UsageAggregate>> EdgeMinutesAsync(IUsageStore store, UsageAggregateQuery day, bool first, CancellationToken cancellationToken)
    {
        var hours = await store.AggregateAsync(day, cancellationToken).ConfigureAwait(false);
        var edges = hours
            .GroupBy(h => (h.Model, h.Pool))
            .Select(g => first ? g.Min(h => h.BucketStart) : g.Max(h => h.BucketStart))
            .Distinct();
        var minutes = new List<UsageAggregate>();
        foreach (var hour in edges)
        {
            var query = day with { Start = Max(hour, day.Start), End = Min(hour.AddHours(1), day.End), BucketWidth = TimeSpan.FromMinutes(1) };
            minutes.AddRange(await store.AggregateAsync(query, cancellationToken).ConfigureAwait(false));
        }

        return minutes;
    }

    private static bool Same(UsageAggregate a, (string Model, string Pool) key) => (a.Model ?? string.Empty) == key.Model && (a.Pool ?? string.Empty) == key.Pool;

    private static UsageAggregateQuery Query(DateTimeOffset start, DateTimeOffset end, TimeSpan width, UsageGrouping grouping, IReadOnlyList<string> teams) =>
        new() { Start = start, End = end, BucketWidth = width, GroupBy = grouping, Teams = teams };

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private static bool TryTime(StringValues value, out DateTimeOffset at) => ReportRequest.TryUnix(value, out at);
}

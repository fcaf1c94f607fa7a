using System.Globalization;
using System.Text;
using ServeGate.Core.OpenAi;
using ServeGate.Gateway.Auth;
using ServeGate.Ledger;

namespace ServeGate.Gateway.Reports;

/// <summary>
/// The ledger as OpenAI's Usage and Costs APIs show an organization's (<c>/v1/organization/usage/completions</c>,
/// <c>/v1/organization/costs</c>), each also as CSV, and the ledger's records as CSV (<c>/v1/organization/usage/export</c>).
/// The admin key (or open local mode) sees everything; a team's API key sees its own team (a project) and nothing else.
/// </summary>
internal static class UsageApi
{
    /// <summary>The cost line items: busy inference compute, amortized training, and paid up-time no request used.</summary>
    public const string InferenceLineItem = "inference";
    public const string TrainingLineItem = "training";
    public const string IdleLineItem = "idle capacity";

    /// <summary>Rows of the CSV export at most per call (narrow the time range for more).</summary>
    public const int MaxExportRows = 100_000;

    public static IEndpointRouteBuilder MapUsageApi(this IEndpointRouteBuilder endpoints)
    {
        var organization = endpoints.MapGroup("/v1/organization");
        organization.MapGet("/usage/completions", CompletionsAsync);
        organization.MapGet("/costs", CostsAsync);
        organization.MapGet("/usage/export", ExportAsync);
        return endpoints;
    }

    private static async Task<IResult> CompletionsAsync(HttpContext context, AccessPolicy policy, IApiKeyStore keys, IUsageStore store, TimeProvider time)
    {
        var (scope, denied) = await ReportAccess.AuthorizeAsync(context, policy, keys).ConfigureAwait(false);
        if (denied is not null)
        {
            return denied;
        }

        var (request, invalid) = ReportRequest.Parse(context.Request, ReportRequest.Completions, time);
        if (invalid is not null)
        {
            return Error(invalid);
        }

        var (teams, nothing) = scope!.Teams(request!.ProjectIds);
        var grouping = Grouping(request.GroupBy);
        var sums = nothing ? [] : await store.AggregateAsync(Query(request, grouping, teams), context.RequestAborted).ConfigureAwait(false);
        var buckets = Buckets(request).Select(b => new CompletionsUsageBucket
        {
            StartTime = b.Start.ToUnixTimeSeconds(),
            EndTime = b.End.ToUnixTimeSeconds(),
            Results =
            [
                .. sums.Where(s => s.BucketStart == b.Aligned).Select(s => new CompletionsUsageResult
                {
                    InputTokens = s.InputTokens,
                    OutputTokens = s.OutputTokens,
                    InputCachedTokens = s.CachedTokens,
                    NumModelRequests = s.Requests,
                    ProjectId = s.Team,
                    ApiKeyId = s.KeyId,
                    Model = s.Model,
                }),
            ],
        }).ToList();
        var page = new CompletionsUsagePage { Data = buckets, HasMore = request.HasMore, NextPage = request.HasMore ? request.NextPage : null };
        return request.Csv ? Csv(ReportCsv.Completions(page)) : TypedResults.Json(page, GatewayJsonContext.Default.CompletionsUsagePage);
    }

    private static async Task<IResult> CostsAsync(HttpContext context, AccessPolicy policy, IApiKeyStore keys, IUsageStore store, TimeProvider time)
    {
        var (scope, denied) = await ReportAccess.AuthorizeAsync(context, policy, keys).ConfigureAwait(false);
        if (denied is not null)
        {
            return denied;
        }

        var (request, invalid) = ReportRequest.Parse(context.Request, ReportRequest.Costs, time);
        if (invalid is not null)
        {
            return Error(invalid);
        }

        var (teams, nothing) = scope!.Teams(request!.ProjectIds);
        var grouping = Grouping(request.GroupBy);
        var sums = nothing ? [] : await store.AggregateAsync(Query(request, grouping, teams), context.RequestAborted).ConfigureAwait(false);

        // Idle capacity belongs to no team, key or model: shown to the organization's view only, unfiltered.
        var idle = new Dictionary<DateTimeOffset, decimal>();
        if (scope.All && request.ProjectIds.Count == 0 && request.ApiKeyIds.Count == 0 && request.Models.Count == 0)
        {
            var query = Query(request, UsageGrouping.Pool, []);
            var busy = await store.AggregateAsync(query, context.RequestAborted).ConfigureAwait(false);
            var uptime = await store.UptimeAsync(query.Start, query.End, context.RequestAborted).ConfigureAwait(false);
            foreach (var b in Buckets(request))
            {
                idle[b.Aligned] = IdleCost.Of(uptime, busy.Where(s => s.BucketStart == b.Aligned), b.Start, b.End);
            }
        }

        var byLineItem = request.GroupBy.Contains("line_item");
        var buckets = Buckets(request).Select(b =>
        {
            var results = new List<CostsResult>();
            foreach (var s in sums.Where(s => s.BucketStart == b.Aligned))
            {
                if (byLineItem)
                {
                    results.Add(Cost(s, InferenceLineItem, s.InferenceCostUsd));
                    if (s.TrainingShareUsd != 0)
                    {
                        results.Add(Cost(s, TrainingLineItem, s.TrainingShareUsd));
                    }
                }
                else
                {
                    results.Add(Cost(s, null, s.InferenceCostUsd + s.TrainingShareUsd));
                }
            }

            if (idle.TryGetValue(b.Aligned, out var idleCost) && idleCost != 0)
            {
                if (!byLineItem && request.GroupBy.Count == 0 && results.Count == 1)
                {
                    results[0] = new CostsResult { Amount = new CostsAmount { Value = results[0].Amount.Value + idleCost } };
                }
                else
                {
                    results.Add(new CostsResult { Amount = new CostsAmount { Value = idleCost }, LineItem = byLineItem ? IdleLineItem : null });
                }
            }

            return new CostsBucket { StartTime = b.Start.ToUnixTimeSeconds(), EndTime = b.End.ToUnixTimeSeconds(), Results = results };
        }).ToList();
        var page = new CostsPage { Data = buckets, HasMore = request.HasMore, NextPage = request.HasMore ? request.NextPage : null };
        return request.Csv ? Csv(ReportCsv.Costs(page)) : TypedResults.Json(page, GatewayJsonContext.Default.CostsPage);
    }

    private static CostsResult Cost(UsageAggregate s, string? lineItem, decimal value) => new()
    {
        Amount = new CostsAmount { Value = value },
        LineItem = lineItem,
        ProjectId = s.Team,
        Model = s.Model,
        ApiKeyId = s.KeyId,
    };

    private static async Task<IResult> ExportAsync(HttpContext context, AccessPolicy policy, IApiKeyStore keys, IUsageStore store, TimeProvider time)
    {
        var (scope, denied) = await ReportAccess.AuthorizeAsync(context, policy, keys).ConfigureAwait(false);
        if (denied is not null)
        {
            return denied;
        }

        var query = context.Request.Query;
        if (query.Keys.FirstOrDefault(k => k is not ("start_time" or "end_time" or "project_id")) is { } unknown)
        {
            return Error(ApiError.InvalidRequest($"Unsupported query parameter '{unknown}'.", unknown, "unsupported_parameter"));
        }

        if (!ReportRequest.TryUnix(query["start_time"], out var start))
        {
            return Error(ApiError.InvalidRequest("start_time is required: the start of the range, in Unix seconds (inclusive).", "start_time"));
        }

        var end = time.GetUtcNow();
        if (query.ContainsKey("end_time") && !ReportRequest.TryUnix(query["end_time"], out end))
        {
            return Error(ApiError.InvalidRequest("end_time must be Unix seconds (exclusive).", "end_time"));
        }

        var requested = query["project_id"].ToString();
        var (teams, nothing) = scope!.Teams(requested.Length == 0 ? [] : [requested]);
        var records = nothing ? [] : await store.QueryAsync(new UsageQuery
        {
            Team = teams.Count == 1 ? teams[0] : null,
            Since = start,
            Until = end,
            Limit = MaxExportRows,
        }, context.RequestAborted).ConfigureAwait(false);
        if (records.Count == MaxExportRows)
        {
            context.Response.Headers["x-servegate-truncated"] = "true"; // the newest rows; narrow the range for the rest
        }

        return Csv(ReportCsv.Records(records.Reverse()));
    }

    private static UsageAggregateQuery Query(ReportRequest request, UsageGrouping grouping, IReadOnlyList<string> teams) => new()
    {
        Start = request.PageStart < request.Start ? request.Start : request.PageStart,
        End = request.PageEnd,
        BucketWidth = request.BucketWidth,
        GroupBy = grouping,
        Teams = teams,
        KeyIds = request.ApiKeyIds,
        Models = request.Models,
    };

    private static UsageGrouping Grouping(IReadOnlySet<string> groupBy) =>
        (groupBy.Contains("model") ? UsageGrouping.Model : UsageGrouping.None)
        | (groupBy.Contains("api_key_id") ? UsageGrouping.KeyId : UsageGrouping.None)
        | (groupBy.Contains("project_id") ? UsageGrouping.Team : UsageGrouping.None);

    /// <summary>The page's buckets: epoch-aligned, their bounds clipped to the query's range.</summary>
    private static IEnumerable<(DateTimeOffset Aligned, DateTimeOffset Start, DateTimeOffset End)> Buckets(ReportRequest request)
    {
        for (var b = request.PageStart; b < request.PageEnd; b += request.BucketWidth)
        {
            var end = b + request.BucketWidth;
            yield return (b, b < request.Start ? request.Start : b, end > request.End ? request.End : end);
        }
    }

    private static IResult Csv(string csv) => TypedResults.Text(csv, "text/csv; charset=utf-8", Encoding.UTF8);

    internal static IResult Error(ApiError error) => TypedResults.Json(error.ToEnvelope(), OpenAiJson.Context.ErrorEnvelope, statusCode: error.Status);
}

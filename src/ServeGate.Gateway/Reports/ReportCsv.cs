using System.Globalization;
using System.Text;
using ServeGate.Ledger;

namespace ServeGate.Gateway.Reports;

/// <summary>The reports and the ledger as CSV (RFC 4180, a header row, times in ISO 8601 UTC, money in USD).</summary>
internal static class ReportCsv
{
    public static string Completions(CompletionsUsagePage page)
    {
        ArgumentNullException.ThrowIfNull(page);
        var csv = new StringBuilder("start_time,end_time,project_id,api_key_id,model,num_model_requests,input_tokens,input_cached_tokens,output_tokens\r\n");
        foreach (var bucket in page.Data)
        {
            foreach (var r in bucket.Results)
            {
                Row(csv, Time(bucket.StartTime), Time(bucket.EndTime), r.ProjectId, r.ApiKeyId, r.Model, Num(r.NumModelRequests), Num(r.InputTokens), Num(r.InputCachedTokens), Num(r.OutputTokens));
            }
        }

        return csv.ToString();
    }

    public static string Costs(CostsPage page)
    {
        ArgumentNullException.ThrowIfNull(page);
        var csv = new StringBuilder("start_time,end_time,line_item,project_id,api_key_id,model,amount_usd\r\n");
        foreach (var bucket in page.Data)
        {
            foreach (var r in bucket.Results)
            {
                Row(csv, Time(bucket.StartTime), Time(bucket.EndTime), r.LineItem, r.ProjectId, r.ApiKeyId, r.Model, r.Amount.Value.ToString(CultureInfo.InvariantCulture));
            }
        }

        return csv.ToString();
    }

    /// <summary>The economics report, one row per variant (model) with its checkpoint's training figures.</summary>
    public static string Economics(ServeGate.Economics.Reports.EconomicsReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var csv = new StringBuilder(
            "checkpoint,model,requests,tokens,input_tokens,cached_tokens,output_tokens,compute_seconds,hardware_usd_per_hour,inference_cost_usd,idle_cost_usd," +
            "utilization,usd_per_million_tokens_busy,usd_per_million_tokens_with_idle,usd_per_million_tokens_list_price,list_price_reference,list_price_usd," +
            "cache_savings_usd,training_cost_usd,training_source,amortized_training_usd,unamortized_training_usd,break_even_date,break_even\r\n");
        foreach (var v in report.Checkpoints.SelectMany(c => c.Variants))
        {
            Row(csv, v.Checkpoint, v.Model, Num(v.Requests), Num(v.Tokens), Num(v.InputTokens), Num(v.CachedTokens), Num(v.OutputTokens), Real(v.ComputeSeconds),
                Money(v.HardwareUsdPerHour), Money(v.InferenceCostUsd), Money(v.IdleCostUsd), Real(v.Utilization), Money(v.UsdPerMillionTokensBusy),
                Money(v.UsdPerMillionTokensWithIdle), Money(v.UsdPerMillionTokensListPrice), v.ListPriceReference, Money(v.ListPriceUsd), Money(v.CacheSavingsUsd),
                Money(v.TrainingCostUsd), v.TrainingSource, Money(v.AmortizedTrainingUsd), Money(v.UnamortizedTrainingUsd),
                v.BreakEven.Date is { } date ? Time(date.ToUnixTimeSeconds()) : null, v.BreakEven.Summary);
        }

        return csv.ToString();
    }

    public static string Records(IEnumerable<UsageRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var csv = new StringBuilder(
            "request_id,timestamp,project_id,api_key_id,model,worker,endpoint,stream,outcome,http_status,finish_reason,prompt_tokens,cached_tokens," +
            "completion_tokens,estimated,compute_seconds,latency_ms,ttft_ms,queue_ms,cost_usd,pool,checkpoint,hardware_usd_per_hour,inference_cost_usd," +
            "cache_savings_usd,training_usd_per_token,training_share_usd,list_price_reference,list_input_usd_per_million," +
            "list_cached_input_usd_per_million,list_output_usd_per_million,list_price_usd\r\n");
        foreach (var r in records)
        {
            var c = r.Charges;
            Row(csv,
                r.RequestId, r.Timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture), r.Team, r.KeyId, r.Model, r.Worker,
                r.Endpoint, r.Stream ? "true" : "false", r.Outcome.ToString().ToLowerInvariant(), Num(r.HttpStatus), r.FinishReason, Num(r.PromptTokens),
                Num(r.CachedTokens), Num(r.CompletionTokens), r.Estimated ? "true" : "false", Real(r.ComputeSeconds), Real(r.LatencyMs),
                r.TimeToFirstTokenMs is { } ttft ? Real(ttft) : null, r.QueueMs is { } queue ? Real(queue) : null, Money(r.CostUsd),
                c?.Pool, c?.Checkpoint, Money(c?.HardwareUsdPerHour), Money(c?.InferenceCostUsd), Money(c?.CacheSavingsUsd),
                Money(c?.TrainingUsdPerToken), Money(c?.TrainingShareUsd), c?.ListPriceReference, Money(c?.ListInputUsdPerMillion),
                Money(c?.ListCachedInputUsdPerMillion), Money(c?.ListOutputUsdPerMillion), Money(c?.ListPriceUsd));
        }

        return csv.ToString();
    }

    private static string Time(long unixSeconds) =>
        DateTimeOffset.FromUnixTimeSeconds(unixSeconds).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string Num(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Real(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string? Money(decimal? value) => value?.ToString(CultureInfo.InvariantCulture);

    private static void Row(StringBuilder csv, params string?[] fields)
    {
        for (var i = 0; i < fields.Length; i++)
        {
            if (i > 0)
            {
                csv.Append(',');
            }

            var field = fields[i] ?? string.Empty;
            if (field.AsSpan().IndexOfAny(",\"\r\n") >= 0)
            {
                csv.Append('"').Append(field.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
            }
            else
            {
                csv.Append(field);
            }
        }

        csv.Append("\r\n");
    }
}

using System.Globalization;
using System.Text.Json.Nodes;

namespace ServeGate.Dashboard.Tests;

/// <summary>
/// The usage and costs APIs' totals over the range the dashboard shows by default (the last 7 UTC days), so a test can
/// hold the page's figures against them.
/// </summary>
internal static class ReportApi
{
    public sealed record UsageTotals(long Requests, long InputTokens, long OutputTokens);

    public static async Task<UsageTotals> UsageAsync(DashboardGateway gateway, string filters = "", string? bearer = null)
    {
        long requests = 0, input = 0, output = 0;
        await foreach (var result in ResultsAsync(gateway, "/v1/organization/usage/completions", filters, bearer))
        {
            requests += result["num_model_requests"]?.GetValue<long>() ?? 0;
            input += result["input_tokens"]?.GetValue<long>() ?? 0;
            output += result["output_tokens"]?.GetValue<long>() ?? 0;
        }

        return new UsageTotals(requests, input, output);
    }

    public static async Task<decimal> CostsAsync(DashboardGateway gateway, string filters = "", string? bearer = null)
    {
        decimal total = 0;
        await foreach (var result in ResultsAsync(gateway, "/v1/organization/costs", filters, bearer))
        {
            total += result["amount"]?["value"]?.GetValue<decimal>() ?? 0;
        }

        return total;
    }

    private static async IAsyncEnumerable<JsonNode> ResultsAsync(DashboardGateway gateway, string path, string filters, string? bearer)
    {
        var end = new DateTimeOffset(DateTime.UtcNow.Date.AddDays(1), TimeSpan.Zero).ToUnixTimeSeconds();
        var start = end - (7 * 86400);
        string? page = null;
        do
        {
            var query = string.Create(CultureInfo.InvariantCulture, $"{path}?start_time={start}&end_time={end}&bucket_width=1d&limit=31{filters}");
            var body = await gateway.GetJsonAsync(page is null ? query : $"{query}&page={Uri.EscapeDataString(page)}", bearer);
            foreach (var bucket in body["data"]!.AsArray())
            {
                foreach (var result in bucket!["results"]!.AsArray())
                {
                    yield return result!;
                }
            }

            page = body["has_more"]?.GetValue<bool>() == true ? body["next_page"]?.GetValue<string>() : null;
        }
        while (page is not null);
    }

    /// <summary>A figure as the page shows it ("1,234", "$0.0042") as a number.</summary>
    public static decimal Figure(string text) =>
        decimal.Parse(text.Replace("$", string.Empty, StringComparison.Ordinal), NumberStyles.Number, CultureInfo.InvariantCulture);
}

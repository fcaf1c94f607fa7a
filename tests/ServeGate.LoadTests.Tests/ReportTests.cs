using System.Text.Json;
using ServeGate.LoadTests.Tests.Infrastructure;

namespace ServeGate.LoadTests.Tests;

/// <summary>The files a run writes: the documented result.json fields, Markdown tables, a self-contained HTML page.</summary>
public sealed class ReportTests
{
    [Fact]
    public async Task Run_Sweep_WritesDocumentedJsonMarkdownAndSelfContainedHtml()
    {
        await using var server = await FakeOpenAiServer.StartAsync(new FakeServerBehavior { TokenInterval = TimeSpan.FromMilliseconds(2) });
        using var dir = new TempDir();

        var (run, result) = await LoadTester.RunLoadTestAsync(server, dir.Path,
            ["--sweep", "1,2", "--requests", "4", "--max-tokens", "4", "--progress", "plain"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("done 8/8", run.Output, StringComparison.Ordinal);
        Assert.Contains("| TTFT |", run.Output, StringComparison.Ordinal);

        string[] fields =
        [
            "schema_version", "tool", "scenario", "started_at", "aborted", "config", "requests", "successful_requests", "errors",
            "cancelled_requests", "duration_s", "requests_per_second", "prompt_tokens", "output_tokens", "output_tokens_per_second",
            "total_tokens_per_second", "ttft_ms", "itl_ms", "tpot_ms", "e2e_ms", "goodput", "usage_reported_requests",
            "cached_token_ratio", "cached_tokens", "errors_by_type", "error_samples", "steps",
        ];
        Assert.Equal(fields.Order(), result.EnumerateObject().Select(p => p.Name).Order());
        Assert.False(result.TryGetProperty("cost", out _));
        foreach (var metric in new[] { "ttft_ms", "itl_ms", "tpot_ms", "e2e_ms" })
        {
            Assert.Equal(["count", "mean", "min", "p50", "p90", "p99", "max"], result.GetProperty(metric).EnumerateObject().Select(p => p.Name));
        }

        Assert.Equal(["http_429", "http_4xx", "http_5xx", "timeout", "disconnect", "network", "stream_error", "invalid_response"],
            result.GetProperty("errors_by_type").EnumerateObject().Select(p => p.Name));
        Assert.False(result.GetProperty("config").TryGetProperty("api_key", out _));

        var markdown = await File.ReadAllTextAsync(dir.File("result.md"));
        Assert.Contains("| Latency (ms) | Mean | P50 | P90 | P99 | Max | Count |", markdown, StringComparison.Ordinal);
        Assert.Contains("| c=2 |", markdown, StringComparison.Ordinal);

        var html = await File.ReadAllTextAsync(dir.File("report.html"));
        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
        Assert.Equal(8, html.Split("<svg").Length - 1);
        Assert.Contains("Latency vs concurrency", html, StringComparison.Ordinal);
        Assert.Contains("Throughput vs concurrency", html, StringComparison.Ordinal);
        Assert.Contains("TTFT distribution", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("src=", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("href=", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("@import", html, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Run_CostUrl_EmbedsItsJson()
    {
        await using var server = await FakeOpenAiServer.StartAsync(new FakeServerBehavior
        {
            TokenInterval = TimeSpan.FromMilliseconds(1),
            CostJson = "{\"usd_per_million_tokens\": 0.42}",
        });
        using var dir = new TempDir();

        var (run, result) = await LoadTester.RunLoadTestAsync(server, dir.Path,
            ["--requests", "1", "--max-tokens", "2", "--cost-url", server.BaseUrl + "economics"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(0.42, result.GetProperty("cost").GetProperty("usd_per_million_tokens").GetDouble());
    }

    [Fact]
    public async Task Run_CostUrlUnreachable_RecordsWhyAndStillSucceeds()
    {
        await using var server = await FakeOpenAiServer.StartAsync(new FakeServerBehavior { TokenInterval = TimeSpan.FromMilliseconds(1) });
        using var dir = new TempDir();

        var (run, result) = await LoadTester.RunLoadTestAsync(server, dir.Path,
            ["--requests", "1", "--max-tokens", "2", "--cost-url", server.BaseUrl + "economics"]);

        Assert.Equal(0, run.ExitCode);
        Assert.False(result.TryGetProperty("cost", out _));
        Assert.Contains("HTTP 404", result.GetProperty("cost_error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_CostUrlIsTheCostsApi_ReadsTheRunsWindowAndReportsCostPerMillionTokens()
    {
        await using var server = await FakeOpenAiServer.StartAsync(new FakeServerBehavior
        {
            TokenInterval = TimeSpan.FromMilliseconds(1),
            CostJson = """
                {"object": "page", "has_more": false, "next_page": null, "data": [{"object": "bucket", "start_time": 1, "end_time": 2, "results": [
                  {"object": "organization.costs.result", "amount": {"value": 0.25, "currency": "usd"}, "line_item": "inference", "project_id": null},
                  {"object": "organization.costs.result", "amount": {"value": 0.75, "currency": "usd"}, "line_item": "idle capacity", "project_id": null}]}]}
                """,
        });
        using var dir = new TempDir();
        var before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        var (run, result) = await LoadTester.RunLoadTestAsync(server, dir.Path,
            ["--requests", "2", "--max-tokens", "2", "--cost-url", server.BaseUrl + "v1/organization/costs"]);

        Assert.Equal(0, run.ExitCode);
        var query = System.Web.HttpUtility.ParseQueryString(server.CostQuery!);
        Assert.InRange(long.Parse(query["start_time"]!, System.Globalization.CultureInfo.InvariantCulture), before - 1, before + 5);
        Assert.True(long.Parse(query["end_time"]!, System.Globalization.CultureInfo.InvariantCulture) > long.Parse(query["start_time"]!, System.Globalization.CultureInfo.InvariantCulture));
        var tokens = result.GetProperty("prompt_tokens").GetInt64() + result.GetProperty("output_tokens").GetInt64();
        Assert.Equal(1.0m, result.GetProperty("cost_usd").GetDecimal());
        Assert.Equal(decimal.Round(1.0m * 1_000_000m / tokens, 6), result.GetProperty("cost_usd_per_million_tokens").GetDecimal());
    }
}

using System.Text.Json;
using ServeGate.LoadTests.Tests.Infrastructure;

namespace ServeGate.LoadTests.Tests;

/// <summary>
/// The load tester measures back the timing of a fake server that answers with known delays: first content
/// chunk 50 ms after the request, then one token every 20 ms.
/// Tolerances, generous for timer jitter on a loaded 2-core machine: TTFT p50 within -5/+40 ms, ITL and TPOT p50
/// within ±8 ms, output tokens/s between 60% and 105% of the ideal rate.
/// </summary>
public sealed class StreamingMeasurementTests
{
    private const double TtftMs = 50;
    private const double IntervalMs = 20;
    private const int Tokens = 10;

    [Fact]
    public async Task Run_StreamingChat_MeasuresKnownTimingsWithinTolerance()
    {
        await using var server = await FakeOpenAiServer.StartAsync();
        using var dir = new TempDir();

        var (run, result) = await LoadTester.RunLoadTestAsync(server, dir.Path,
            ["--concurrency", "2", "--requests", "12", "--max-tokens", Tokens.ToString(), "--prompt-tokens", "32", "--ignore-eos",
                "--api-key", "test-key"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(12, result.GetProperty("requests").GetInt32());
        Assert.Equal(0, result.GetProperty("errors").GetInt32());
        Assert.InRange(P50(result, "ttft_ms"), TtftMs - 5, TtftMs + 40);
        Assert.InRange(P50(result, "itl_ms"), IntervalMs - 8, IntervalMs + 8);
        Assert.InRange(P50(result, "tpot_ms"), IntervalMs - 8, IntervalMs + 8);
        Assert.Equal(12 * (Tokens - 1), result.GetProperty("itl_ms").GetProperty("count").GetInt32());

        // Output tokens come from the server's usage; throughput is tokens over the run's wall time.
        var outputTokens = result.GetProperty("output_tokens").GetInt64();
        var duration = result.GetProperty("duration_s").GetDouble();
        var tokensPerSecond = result.GetProperty("output_tokens_per_second").GetDouble();
        Assert.Equal(12 * Tokens, outputTokens);
        Assert.Equal(outputTokens / duration, tokensPerSecond, 0.01 * tokensPerSecond);
        var ideal = 2 * Tokens / ((TtftMs + ((Tokens - 1) * IntervalMs)) / 1000.0);
        Assert.InRange(tokensPerSecond, 0.6 * ideal, 1.05 * ideal);

        // 25 of 100 prompt tokens cached, as the fake server reports.
        Assert.Equal(0.25, result.GetProperty("cached_token_ratio").GetDouble(), 3);
        Assert.Equal(12, result.GetProperty("usage_reported_requests").GetInt32());
    }

    [Fact]
    public async Task Run_Streaming_SendsUsageRequestIgnoreEosAndBearerKey()
    {
        await using var server = await FakeOpenAiServer.StartAsync(new FakeServerBehavior { TokenInterval = TimeSpan.FromMilliseconds(1) });
        using var dir = new TempDir();

        var (run, _) = await LoadTester.RunLoadTestAsync(server, dir.Path,
            ["--requests", "2", "--max-tokens", "7", "--ignore-eos", "--api-key", "test-key", "--model", "m1"]);

        Assert.Equal(0, run.ExitCode);
        var (body, authorization, path) = Assert.Single(server.Received.Take(1));
        Assert.Equal("/v1/chat/completions", path);
        Assert.Equal("Bearer test-key", authorization);
        Assert.Equal("m1", body.GetProperty("model").GetString());
        Assert.Equal(7, body.GetProperty("max_tokens").GetInt32());
        Assert.True(body.GetProperty("stream").GetBoolean());
        Assert.True(body.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
        Assert.True(body.GetProperty("ignore_eos").GetBoolean());
        Assert.Equal("user", body.GetProperty("messages")[0].GetProperty("role").GetString());
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(true, 5)]
    public async Task Run_NoKeepAlive_OpensAConnectionPerRequest(bool noKeepAlive, int expectedConnections)
    {
        await using var server = await FakeOpenAiServer.StartAsync(new FakeServerBehavior { TokenInterval = TimeSpan.FromMilliseconds(1) });
        using var dir = new TempDir();
        string[] args = ["--requests", "4", "--max-tokens", "3", "--concurrency", "1"];

        var (run, result) = await LoadTester.RunLoadTestAsync(server, dir.Path, noKeepAlive ? [.. args, "--no-keep-alive"] : args);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(5, server.ConnectionIds.Count); // one warm-up request, then four
        Assert.Equal(expectedConnections, server.ConnectionIds.Distinct().Count());
        Assert.Equal(noKeepAlive, result.GetProperty("config").GetProperty("no_keep_alive").GetBoolean());
    }

    [Fact]
    public async Task Run_CompletionsWithoutUsage_CountsStreamedChunksAsTokens()
    {
        await using var server = await FakeOpenAiServer.StartAsync(new FakeServerBehavior
        {
            ReportUsage = false,
            TokenInterval = TimeSpan.FromMilliseconds(2),
        });
        using var dir = new TempDir();

        var (run, result) = await LoadTester.RunLoadTestAsync(server, dir.Path,
            ["--endpoint", "completions", "--requests", "3", "--max-tokens", "6", "--prompt-tokens", "20"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("/v1/completions", server.Received.First().Path);
        Assert.Equal(20, server.Received.First().Body.GetProperty("prompt").GetString()!.Split(' ').Length);
        Assert.Equal(18, result.GetProperty("output_tokens").GetInt64());
        Assert.Equal(60, result.GetProperty("prompt_tokens").GetInt64());
        Assert.Equal(JsonValueKind.Null, result.GetProperty("cached_token_ratio").ValueKind);
        Assert.Equal(0, result.GetProperty("usage_reported_requests").GetInt32());
    }

    [Fact]
    public async Task Run_NotStreaming_MeasuresEndToEndOnlyAndReadsUsage()
    {
        await using var server = await FakeOpenAiServer.StartAsync();
        using var dir = new TempDir();

        var (run, result) = await LoadTester.RunLoadTestAsync(server, dir.Path,
            ["--stream", "false", "--requests", "8", "--concurrency", "2", "--max-tokens", Tokens.ToString()]);

        Assert.Equal(0, run.ExitCode);
        var body = server.Received.First().Body;
        Assert.False(body.GetProperty("stream").GetBoolean());
        Assert.False(body.TryGetProperty("stream_options", out _));
        Assert.Equal(0, result.GetProperty("ttft_ms").GetProperty("count").GetInt32());
        Assert.Equal(JsonValueKind.Null, result.GetProperty("ttft_ms").GetProperty("p50").ValueKind);
        Assert.Equal(0, result.GetProperty("itl_ms").GetProperty("count").GetInt32());
        // Each request's own span (~230 ms), not time since the run began (four rounds: a median near 575 ms). Eight
        // requests, so that one or two slowed by a busy CI machine (once 551 ms of four) do not move the median.
        Assert.InRange(P50(result, "e2e_ms"), TtftMs + ((Tokens - 1) * IntervalMs) - 5, TtftMs + ((Tokens - 1) * IntervalMs) + 100);
        Assert.Equal(8 * Tokens, result.GetProperty("output_tokens").GetInt64());
        Assert.Equal(0.25, result.GetProperty("cached_token_ratio").GetDouble(), 3);
    }

    [Fact]
    public async Task Run_SloObjectives_CountsGoodputAgainstThem()
    {
        await using var server = await FakeOpenAiServer.StartAsync(new FakeServerBehavior { TokenInterval = TimeSpan.FromMilliseconds(5) });
        using var dir = new TempDir();

        // TTFT is about 50 ms: an objective of 5 ms fails every request, one of 5 s passes them all.
        var (_, strict) = await LoadTester.RunLoadTestAsync(server, dir.File("strict"), ["--requests", "3", "--max-tokens", "4", "--slo-ttft-ms", "5"]);
        var (_, loose) = await LoadTester.RunLoadTestAsync(server, dir.File("loose"),
            ["--requests", "3", "--max-tokens", "4", "--slo-ttft-ms", "5000", "--slo-tpot-ms", "5000"]);

        Assert.Equal(0, strict.GetProperty("goodput").GetProperty("requests").GetInt32());
        Assert.Equal(5, strict.GetProperty("goodput").GetProperty("slo_ttft_ms").GetDouble());
        Assert.Equal(3, loose.GetProperty("goodput").GetProperty("requests").GetInt32());
        Assert.Equal(1.0, loose.GetProperty("goodput").GetProperty("ratio").GetDouble());
        Assert.True(loose.GetProperty("goodput").GetProperty("requests_per_second").GetDouble() > 0);
    }

    private static double P50(JsonElement result, string metric) => result.GetProperty(metric).GetProperty("p50").GetDouble();
}

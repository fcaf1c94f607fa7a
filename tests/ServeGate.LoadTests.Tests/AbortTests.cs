using System.Text.Json;
using ServeGate.LoadTests.Tests.Infrastructure;

namespace ServeGate.LoadTests.Tests;

/// <summary>Cancelling a run (what Ctrl+C does) still leaves a valid, flagged, partial result.</summary>
public sealed class AbortTests
{
    [Fact]
    public async Task Run_CancelledMidRun_WritesPartialResultFlaggedAborted()
    {
        // Each request takes about 50 + 4 * 50 = 250 ms; 100 of them at concurrency 2 would take over 12 s. The abort comes
        // after 2.5 s, late enough that a loaded 2-core machine has finished JIT and a few requests.
        await using var server = await FakeOpenAiServer.StartAsync(new FakeServerBehavior { TokenInterval = TimeSpan.FromMilliseconds(50) });
        using var dir = new TempDir();
        using var abort = new CancellationTokenSource(TimeSpan.FromMilliseconds(2500));
        var started = System.Diagnostics.Stopwatch.StartNew();

        var (run, result) = await LoadTester.RunLoadTestAsync(server, dir.Path,
            ["--requests", "100", "--concurrency", "2", "--max-tokens", "5", "--warmup", "0"], abort.Token);

        Assert.Equal(130, run.ExitCode);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(8), $"took {started.Elapsed}");
        Assert.True(result.GetProperty("aborted").GetBoolean());
        var finished = result.GetProperty("requests").GetInt32();
        Assert.InRange(finished, 1, 99);
        // Both clients are almost always mid-request when the abort comes; between two requests one may hold none.
        Assert.InRange(result.GetProperty("cancelled_requests").GetInt32(), 1, 2);
        Assert.Equal(finished, result.GetProperty("successful_requests").GetInt32());
        foreach (var field in new[] { "errors", "output_tokens_per_second", "total_tokens_per_second", "requests_per_second", "cached_token_ratio",
            "started_at", "duration_s", "config" })
        {
            Assert.True(result.TryGetProperty(field, out _), field);
        }

        foreach (var metric in new[] { "ttft_ms", "itl_ms", "tpot_ms", "e2e_ms" })
        {
            Assert.Equal(JsonValueKind.Number, result.GetProperty(metric).GetProperty("p50").ValueKind);
            Assert.Equal(JsonValueKind.Number, result.GetProperty(metric).GetProperty("p90").ValueKind);
            Assert.Equal(JsonValueKind.Number, result.GetProperty(metric).GetProperty("p99").ValueKind);
        }

        Assert.Contains("Aborted", await File.ReadAllTextAsync(dir.File("result.md")), StringComparison.Ordinal);
        Assert.Contains("Aborted", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_DurationBound_StopsSendingAndFinishesInFlight()
    {
        await using var server = await FakeOpenAiServer.StartAsync(new FakeServerBehavior { TokenInterval = TimeSpan.FromMilliseconds(50) });
        using var dir = new TempDir();

        var (run, result) = await LoadTester.RunLoadTestAsync(server, dir.Path,
            ["--requests", "1000", "--concurrency", "2", "--max-tokens", "3", "--warmup", "0", "--duration", "0.6"]);

        Assert.Equal(0, run.ExitCode);
        Assert.False(result.GetProperty("aborted").GetBoolean());
        Assert.InRange(result.GetProperty("requests").GetInt32(), 2, 20);
        Assert.Equal(0, result.GetProperty("errors").GetInt32());
        Assert.Equal(0, result.GetProperty("cancelled_requests").GetInt32());
        Assert.InRange(result.GetProperty("duration_s").GetDouble(), 0.6, 3);
    }
}

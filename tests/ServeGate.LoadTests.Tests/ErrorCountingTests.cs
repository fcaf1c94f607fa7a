using System.Net;
using System.Net.Sockets;
using ServeGate.LoadTests.Tests.Infrastructure;

namespace ServeGate.LoadTests.Tests;

/// <summary>Failed requests are counted by type, and the run goes on and reports them.</summary>
public sealed class ErrorCountingTests
{
    [Fact]
    public async Task Run_Server429And500_CountsEachType()
    {
        // Requests 1, 4, 7 get 429; 2, 5, 8 get 500; the rest succeed. One client, so the numbering is exact.
        await using var server = await FakeOpenAiServer.StartAsync(new FakeServerBehavior
        {
            TokenInterval = TimeSpan.FromMilliseconds(1),
            FailWith = n => (n % 3) switch { 1 => 429, 2 => 500, _ => null },
        });
        using var dir = new TempDir();

        var (run, result) = await LoadTester.RunLoadTestAsync(server, dir.Path, ["--requests", "9", "--max-tokens", "3", "--warmup", "0"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(9, result.GetProperty("requests").GetInt32());
        Assert.Equal(3, result.GetProperty("successful_requests").GetInt32());
        Assert.Equal(6, result.GetProperty("errors").GetInt32());
        var byType = result.GetProperty("errors_by_type");
        Assert.Equal(3, byType.GetProperty("http_429").GetInt32());
        Assert.Equal(3, byType.GetProperty("http_5xx").GetInt32());
        Assert.Equal(0, byType.GetProperty("http_4xx").GetInt32());
        Assert.Equal(0, byType.GetProperty("timeout").GetInt32());
        Assert.Contains(result.GetProperty("error_samples").EnumerateArray(),
            s => s.GetProperty("type").GetString() == "http_429" && s.GetProperty("message").GetString()!.Contains("HTTP 429", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Run_Server404_CountsHttp4xxAndExitsWithNoSuccess()
    {
        await using var server = await FakeOpenAiServer.StartAsync(new FakeServerBehavior { FailWith = _ => 404 });
        using var dir = new TempDir();

        var (run, result) = await LoadTester.RunLoadTestAsync(server, dir.Path, ["--requests", "2", "--warmup", "0"]);

        Assert.Equal(3, run.ExitCode);
        Assert.Contains("no request succeeded", run.Error, StringComparison.Ordinal);
        Assert.Equal(2, result.GetProperty("errors_by_type").GetProperty("http_4xx").GetInt32());
    }

    [Fact]
    public async Task Run_ServerSlowerThanTimeout_CountsTimeouts()
    {
        await using var server = await FakeOpenAiServer.StartAsync(new FakeServerBehavior { HeaderDelay = TimeSpan.FromSeconds(10) });
        using var dir = new TempDir();
        var started = System.Diagnostics.Stopwatch.StartNew();

        var (run, result) = await LoadTester.RunLoadTestAsync(server, dir.Path,
            ["--requests", "3", "--concurrency", "3", "--warmup", "0", "--timeout", "0.3"]);

        Assert.Equal(3, run.ExitCode);
        Assert.Equal(3, result.GetProperty("errors_by_type").GetProperty("timeout").GetInt32());
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(5), $"took {started.Elapsed}");
    }

    [Fact]
    public async Task Run_StreamBreaksMidway_CountsDisconnects()
    {
        await using var server = await FakeOpenAiServer.StartAsync(new FakeServerBehavior
        {
            TokenInterval = TimeSpan.FromMilliseconds(1),
            DisconnectAfterTokens = 2,
        });
        using var dir = new TempDir();

        var (_, result) = await LoadTester.RunLoadTestAsync(server, dir.Path, ["--requests", "2", "--max-tokens", "5", "--warmup", "0"]);

        Assert.Equal(2, result.GetProperty("errors_by_type").GetProperty("disconnect").GetInt32());
    }

    [Fact]
    public async Task Run_ErrorEventInStream_CountsStreamErrors()
    {
        await using var server = await FakeOpenAiServer.StartAsync(new FakeServerBehavior
        {
            TokenInterval = TimeSpan.FromMilliseconds(1),
            ErrorEventAfterTokens = 1,
        });
        using var dir = new TempDir();

        var (_, result) = await LoadTester.RunLoadTestAsync(server, dir.Path, ["--requests", "2", "--max-tokens", "5", "--warmup", "0"]);

        Assert.Equal(2, result.GetProperty("errors_by_type").GetProperty("stream_error").GetInt32());
        Assert.Contains("fake failure in the stream", result.GetProperty("error_samples")[0].GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_JsonInsteadOfStream_CountsInvalidResponses()
    {
        await using var server = await FakeOpenAiServer.StartAsync(new FakeServerBehavior
        {
            TokenInterval = TimeSpan.FromMilliseconds(1),
            IgnoreStream = true,
        });
        using var dir = new TempDir();

        var (_, result) = await LoadTester.RunLoadTestAsync(server, dir.Path, ["--requests", "2", "--max-tokens", "3", "--warmup", "0"]);

        Assert.Equal(2, result.GetProperty("errors_by_type").GetProperty("invalid_response").GetInt32());
    }

    [Fact]
    public async Task Run_NothingListening_CountsNetworkErrors()
    {
        // A port that was free a moment ago: loopback only, refused at once.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var dir = new TempDir();

        var run = await LoadTester.RunAsync(
            ["--url", $"http://127.0.0.1:{port}", "--requests", "2", "--warmup", "0", "--progress", "none", "--out", dir.Path]);

        Assert.Equal(3, run.ExitCode);
        var result = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(dir.File("result.json"))).RootElement;
        Assert.Equal(2, result.GetProperty("errors_by_type").GetProperty("network").GetInt32());
    }
}

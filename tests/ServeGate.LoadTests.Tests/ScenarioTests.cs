using ServeGate.LoadTests.Tests.Infrastructure;

namespace ServeGate.LoadTests.Tests;

/// <summary>Each scenario against the fake server, end to end through the command line.</summary>
public sealed class ScenarioTests
{
    private static readonly FakeServerBehavior Fast = new()
    {
        TimeToFirstToken = TimeSpan.FromMilliseconds(10),
        TokenInterval = TimeSpan.FromMilliseconds(5),
    };

    [Fact]
    public async Task Run_Sweep_OneStepPerLevelWithItsOwnRequests()
    {
        await using var server = await FakeOpenAiServer.StartAsync(Fast);
        using var dir = new TempDir();

        var (run, result) = await LoadTester.RunLoadTestAsync(server, dir.Path,
            ["--sweep", "1,2,4", "--requests", "4", "--max-tokens", "4", "--warmup", "0"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("sweep", result.GetProperty("scenario").GetString());
        var steps = result.GetProperty("steps").EnumerateArray().ToList();
        Assert.Equal(["c=1", "c=2", "c=4"], steps.Select(s => s.GetProperty("label").GetString()));
        Assert.Equal([1, 2, 4], steps.Select(s => s.GetProperty("concurrency").GetInt32()));
        Assert.All(steps, s => Assert.Equal(4, s.GetProperty("requests").GetInt32()));
        Assert.Equal(12, result.GetProperty("requests").GetInt32());
        Assert.Equal(12, server.RequestCount);

        // No two requests of the sweep share a prompt, so no step is helped by an earlier step's cache.
        Assert.Equal(12, server.Received.Select(r => r.Body.GetProperty("messages")[0].GetProperty("content").GetString()).Distinct().Count());
    }

    [Fact]
    public async Task Run_PoissonRate_SendsAllRequestsAtAboutTheRate()
    {
        await using var server = await FakeOpenAiServer.StartAsync(Fast);
        using var dir = new TempDir();

        var (run, result) = await LoadTester.RunLoadTestAsync(server, dir.Path,
            ["--rate", "40", "--requests", "20", "--max-tokens", "3", "--warmup", "0", "--seed", "3"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("poisson", result.GetProperty("scenario").GetString());
        Assert.Equal(20, result.GetProperty("successful_requests").GetInt32());
        var step = Assert.Single(result.GetProperty("steps").EnumerateArray());
        Assert.Equal("rate=40", step.GetProperty("label").GetString());
        Assert.Equal(40, step.GetProperty("rate").GetDouble());

        // 20 arrivals at 40/s take about half a second (wide bounds: a Poisson sample of 20 gaps, and jitter).
        Assert.InRange(result.GetProperty("duration_s").GetDouble(), 0.15, 2.5);
    }

    [Fact]
    public async Task Run_RampUp_StepsByConcurrencyReachedUpToTarget()
    {
        await using var server = await FakeOpenAiServer.StartAsync(Fast);
        using var dir = new TempDir();

        var (run, result) = await LoadTester.RunLoadTestAsync(server, dir.Path,
            ["--ramp-up", "0.4", "--concurrency", "3", "--requests", "30", "--max-tokens", "4", "--warmup", "0"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("ramp", result.GetProperty("scenario").GetString());
        var levels = result.GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("concurrency").GetInt32()).ToList();
        Assert.Equal(levels.Order(), levels);
        Assert.Equal(1, levels[0]);
        Assert.Equal(3, levels[^1]);
        Assert.Equal(30, result.GetProperty("steps").EnumerateArray().Sum(s => s.GetProperty("requests").GetInt32()));
    }

    [Fact]
    public async Task Run_PromptsFile_SendsTheFilesMessages()
    {
        await using var server = await FakeOpenAiServer.StartAsync(Fast);
        using var dir = new TempDir();
        await File.WriteAllLinesAsync(dir.File("prompts.jsonl"),
        [
            "{\"messages\": [{\"role\": \"system\", \"content\": \"be brief\"}, {\"role\": \"user\", \"content\": \"hello\"}], \"max_tokens\": 2}",
            "{\"prompt\": \"tell me a story\"}",
        ]);

        var (run, result) = await LoadTester.RunLoadTestAsync(server, dir.File("out"),
            ["--prompts-file", dir.File("prompts.jsonl"), "--requests", "2", "--max-tokens", "3", "--warmup", "0"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(5, result.GetProperty("output_tokens").GetInt64());
        var bodies = server.Received.Select(r => r.Body).OrderBy(b => b.GetProperty("max_tokens").GetInt32()).ToList();
        Assert.Equal("be brief", bodies[0].GetProperty("messages")[0].GetProperty("content").GetString());
        Assert.Equal("tell me a story", bodies[1].GetProperty("messages")[0].GetProperty("content").GetString());
    }

    [Fact]
    public async Task Run_Warmup_SendsUnmeasuredRequestsFirst()
    {
        await using var server = await FakeOpenAiServer.StartAsync(Fast);
        using var dir = new TempDir();

        var (_, result) = await LoadTester.RunLoadTestAsync(server, dir.Path, ["--requests", "3", "--max-tokens", "2", "--warmup", "2"]);

        Assert.Equal(5, server.RequestCount);
        Assert.Equal(3, result.GetProperty("requests").GetInt32());
    }
}

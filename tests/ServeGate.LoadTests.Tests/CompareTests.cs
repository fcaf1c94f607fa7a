using ServeGate.LoadTests.Reports;
using ServeGate.LoadTests.Results;
using ServeGate.LoadTests.Tests.Infrastructure;

namespace ServeGate.LoadTests.Tests;

public sealed class CompareTests
{
    [Fact]
    public async Task Compare_TwoResults_WritesRatiosAgainstFirst()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("llama"));
        Directory.CreateDirectory(dir.File("servegate"));
        await File.WriteAllTextAsync(dir.File("llama/result.json"), ReportWriter.Serialize(Result(tokensPerSecond: 100, ttftP50: 200)));
        await File.WriteAllTextAsync(dir.File("servegate/result.json"), ReportWriter.Serialize(Result(tokensPerSecond: 250, ttftP50: 100)));

        var run = await LoadTester.RunAsync(
            ["compare", dir.File("llama/result.json"), dir.File("servegate/result.json"), "--out", dir.File("cmp")]);

        Assert.Equal(0, run.ExitCode);
        var markdown = await File.ReadAllTextAsync(dir.File("cmp/compare.md"));
        Assert.Equal(markdown, run.Output[..markdown.Length]);
        Assert.Contains("| Metric | llama | servegate | servegate / llama |", markdown, StringComparison.Ordinal);
        Assert.Contains("| Output tokens/s | 100 | 250 | 2.50x |", markdown, StringComparison.Ordinal);
        Assert.Contains("| TTFT p50 (ms) | 200 | 100 | 0.50x |", markdown, StringComparison.Ordinal);
        Assert.Contains("| c=4 Output tokens/s | 100 | 250 | 2.50x |", markdown, StringComparison.Ordinal);
        var html = await File.ReadAllTextAsync(dir.File("cmp/compare.html"));
        Assert.Contains("2.50x", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Overall_MissingOrZeroBaseline_ShowsNoRatio()
    {
        var first = Result(tokensPerSecond: 0, ttftP50: null);
        var second = Result(tokensPerSecond: 10, ttftP50: 5);

        var table = CompareReport.Overall([new NamedResult("a", "a", first), new NamedResult("b", "b", second)]);

        Assert.Equal(["Output tokens/s", "0", "10", "-"], table.Rows.Single(r => r[0] == "Output tokens/s"));
        Assert.Equal(["TTFT p50 (ms)", "-", "5", "-"], table.Rows.Single(r => r[0] == "TTFT p50 (ms)"));
    }

    private static RunResult Result(double tokensPerSecond, double? ttftP50)
    {
        var result = new RunResult { Scenario = "closed", Config = new RunConfig { Url = "http://127.0.0.1:1/", Model = "m" } };
        var step = new StepResult { Label = "c=4", Concurrency = 4 };
        foreach (var block in new MeasuredBlock[] { result, step })
        {
            block.Requests = 10;
            block.OutputTokensPerSecond = tokensPerSecond;
            block.TtftMs = new LatencyStats { Count = 10, P50 = ttftP50 };
        }

        result.Steps.Add(step);
        return result;
    }
}

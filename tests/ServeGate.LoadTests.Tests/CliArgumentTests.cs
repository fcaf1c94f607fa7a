using ServeGate.LoadTests.Tests.Infrastructure;

namespace ServeGate.LoadTests.Tests;

/// <summary>Bad arguments give a clear message and exit code 1, never a stack trace, and send nothing.</summary>
public sealed class CliArgumentTests
{
    [Theory]
    [InlineData(new[] { "--requests", "3" }, "--url is required")]
    [InlineData(new[] { "--url", "http://127.0.0.1:9", "--concurrency", "-1" }, "--concurrency -1 must be between 1")]
    [InlineData(new[] { "--url", "http://127.0.0.1:9", "--concurrency", "many" }, "'many'")]
    [InlineData(new[] { "--url", "http://127.0.0.1:9", "--prompt-tokens", "zipf:1.2" }, "unknown distribution 'zipf'")]
    [InlineData(new[] { "--url", "http://127.0.0.1:9", "--max-tokens", "uniform:512:128" }, "uniform:MIN:MAX")]
    [InlineData(new[] { "--url", "http://127.0.0.1:9", "--shared-prefix-ratio", "1.5" }, "--shared-prefix-ratio 1.5 must be between 0 and 1")]
    [InlineData(new[] { "--url", "ftp://127.0.0.1:9" }, "not an absolute http://")]
    [InlineData(new[] { "--url", "http://127.0.0.1:9", "--endpoint", "embeddings" }, "--endpoint 'embeddings'")]
    [InlineData(new[] { "--url", "http://127.0.0.1:9", "--sweep", "1,x,4" }, "--sweep '1,x,4'")]
    [InlineData(new[] { "--url", "http://127.0.0.1:9", "--sweep", "1,2", "--rate", "5" }, "give at most one")]
    [InlineData(new[] { "--url", "http://127.0.0.1:9", "--rate", "0" }, "--rate 0 must be")]
    [InlineData(new[] { "--url", "http://127.0.0.1:9", "--duration", "-5" }, "--duration -5 must be")]
    [InlineData(new[] { "--url", "http://127.0.0.1:9", "--prompts-file", "/nonexistent/prompts.jsonl" }, "cannot read prompts file '/nonexistent/prompts.jsonl'")]
    [InlineData(new[] { "--url", "http://127.0.0.1:9", "--no-such-option" }, "--no-such-option")]
    public async Task Invoke_BadArguments_ExitsOneWithClearMessage(string[] args, string expected)
    {
        var run = await LoadTester.RunAsync(args);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains(expected, run.Error, StringComparison.Ordinal);
        Assert.Contains("--help", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invoke_SeveralBadArguments_ReportsEveryOne()
    {
        var run = await LoadTester.RunAsync(["--concurrency", "0", "--requests", "0", "--max-tokens", "normal:x:1"]);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("--url is required", run.Error, StringComparison.Ordinal);
        Assert.Contains("--concurrency 0", run.Error, StringComparison.Ordinal);
        Assert.Contains("--requests 0", run.Error, StringComparison.Ordinal);
        Assert.Contains("--max-tokens", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invoke_PromptsFileWithBadLines_NamesEachLine()
    {
        using var dir = new TempDir();
        await File.WriteAllLinesAsync(dir.File("p.jsonl"), ["{\"prompt\": \"hello\"}", "not json", "{\"text\": \"x\"}", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}"]);

        var run = await LoadTester.RunAsync(["--url", "http://127.0.0.1:9", "--endpoint", "completions", "--prompts-file", dir.File("p.jsonl")]);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("line 2: not valid JSON", run.Error, StringComparison.Ordinal);
        Assert.Contains("line 3: expected \"prompt\" or \"messages\"", run.Error, StringComparison.Ordinal);
        Assert.Contains("line 4: \"messages\" needs --endpoint chat", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invoke_Help_PrintsUsageAndExitsZero()
    {
        var run = await LoadTester.RunAsync(["--help"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("--concurrency", run.Output, StringComparison.Ordinal);
        Assert.Contains("compare", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Compare_OneFile_ExitsOneWithClearMessage()
    {
        var run = await LoadTester.RunAsync(["compare", "a.json"]);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("at least two", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Compare_MissingFile_ExitsOneNamingIt()
    {
        using var dir = new TempDir();

        var run = await LoadTester.RunAsync(["compare", dir.File("a.json"), dir.File("b.json")]);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("a.json", run.Error, StringComparison.Ordinal);
        Assert.Contains("b.json", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Error, StringComparison.Ordinal);
    }
}

using System.Text.Json;
using ServeGate.LoadTests.Cli;

namespace ServeGate.LoadTests.Tests.Infrastructure;

/// <summary>What an in-process run of the command line printed and returned.</summary>
internal sealed record CliRun(int ExitCode, string Output, string Error);

/// <summary>Runs the load tester's command line in this process, with captured output.</summary>
internal static class LoadTester
{
    public static async Task<CliRun> RunAsync(string[] args, CancellationToken cancellationToken = default)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await LoadTestCli.InvokeAsync(args, new CliContext(output, error, InteractiveConsole: false, TimeProvider.System), cancellationToken);
        return new CliRun(exitCode, output.ToString(), error.ToString());
    }

    /// <summary>Runs a load test against <paramref name="server"/> writing into <paramref name="outDir"/>, and parses result.json.</summary>
    public static async Task<(CliRun Run, JsonElement Result)> RunLoadTestAsync(
        FakeOpenAiServer server, string outDir, IEnumerable<string> args, CancellationToken cancellationToken = default)
    {
        // Defaults that keep a test bounded, unless the test sets them itself.
        var given = args.ToList();
        var defaults = new[] { ("--progress", "none"), ("--timeout", "20"), ("--duration", "30") }
            .Where(d => !given.Contains(d.Item1))
            .SelectMany(d => new[] { d.Item1, d.Item2 });
        var run = await RunAsync(["--url", server.BaseUrl.ToString(), "--out", outDir, .. defaults, .. given], cancellationToken);
        var path = Path.Combine(outDir, "result.json");
        Assert.True(File.Exists(path), $"no result.json; exit {run.ExitCode}; stderr: {run.Error}");
        using var document = JsonDocument.Parse(await File.ReadAllTextAsync(path, CancellationToken.None));
        return (run, document.RootElement.Clone());
    }
}

/// <summary>A fresh temporary folder, deleted afterwards.</summary>
internal sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("servegate-loadtest-").FullName;

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

using System.Text.Json;
using ServeGate.LoadTests.Results;
using ServeGate.LoadTests.Scenarios;

namespace ServeGate.LoadTests.Reports;

/// <summary>Writes a run's result.json, result.md and report.html into one folder.</summary>
internal static class ReportWriter
{
    public const string JsonFile = "result.json";
    public const string MarkdownFile = "result.md";
    public const string HtmlFile = "report.html";

    public static async Task WriteAsync(string directory, RunResult result, RunOutcome outcome, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        var ok = outcome.AllRecords.Where(r => r.Succeeded).ToList();
        var ttft = ok.Where(r => r.TtftMs is not null).Select(r => r.TtftMs!.Value).ToList();
        var ttftIsE2e = ttft.Count == 0 && ok.Count > 0;
        if (ttftIsE2e)
        {
            ttft = [.. ok.Select(r => r.E2eMs)];
        }

        await File.WriteAllTextAsync(Path.Combine(directory, JsonFile), Serialize(result), cancellationToken).ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(directory, MarkdownFile), MarkdownReport.Render(result), cancellationToken).ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(directory, HtmlFile), HtmlReport.Render(result, ttft, ttftIsE2e), cancellationToken)
            .ConfigureAwait(false);
    }

    public static string Serialize(RunResult result) => JsonSerializer.Serialize(result, ResultJsonContext.Default.RunResult) + "\n";

    /// <summary>Reads a result.json; null with a reason when it is missing or not one.</summary>
    public static RunResult? TryRead(string path, out string error)
    {
        error = "";
        try
        {
            var result = JsonSerializer.Deserialize(File.ReadAllText(path), ResultJsonContext.Default.RunResult);
            if (result is null || result.SchemaVersion < 1)
            {
                error = $"'{path}' is not a load test result.json";
                return null;
            }

            return result;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            error = $"cannot read '{path}': {ex.Message}";
            return null;
        }
        catch (JsonException ex)
        {
            error = $"'{path}' is not valid result JSON: {ex.Message}";
            return null;
        }
    }
}

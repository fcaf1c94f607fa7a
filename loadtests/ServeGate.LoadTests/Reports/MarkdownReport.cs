using System.Text;
using ServeGate.LoadTests.Results;

namespace ServeGate.LoadTests.Reports;

/// <summary>result.md: the run's numbers as Markdown tables.</summary>
internal static class MarkdownReport
{
    public static string Render(RunResult result)
    {
        var text = new StringBuilder();
        text.Append("# Load test: ").Append(Format.Cell(result.Config.Model)).Append(" at ").AppendLine(Format.Cell(result.Config.Url));
        text.AppendLine();
        text.AppendLine(Headline(result));
        if (result.Aborted)
        {
            text.AppendLine();
            text.AppendLine("**Aborted**: the run was cancelled before its bounds; these numbers cover the requests that finished.");
        }

        text.AppendLine();
        text.Append(ReportTables.Summary(result).ToMarkdown()).AppendLine();
        text.Append(ReportTables.Latency(result).ToMarkdown()).AppendLine();
        text.AppendLine("## Steps").AppendLine();
        text.Append(ReportTables.Steps(result).ToMarkdown()).AppendLine();
        if (result.Errors > 0)
        {
            text.AppendLine("## Errors").AppendLine();
            text.Append(ReportTables.Errors(result).ToMarkdown()).AppendLine();
            text.Append(ReportTables.ErrorSamples(result).ToMarkdown()).AppendLine();
        }

        if (result.CostError is { } costError)
        {
            text.AppendLine("## Cost").AppendLine().Append("Not read: ").AppendLine(costError).AppendLine();
        }
        else if (result.Cost is not null)
        {
            text.AppendLine("## Cost").AppendLine().AppendLine("Read from the cost URL; the JSON is under `cost` in result.json.").AppendLine();
        }

        text.AppendLine("## Configuration").AppendLine();
        text.Append(ReportTables.Config(result.Config).ToMarkdown());
        return text.ToString();
    }

    /// <summary>One sentence: scenario, start and length of the run.</summary>
    public static string Headline(RunResult result) =>
        Format.Invariant($"Scenario {result.Scenario}, started {result.StartedAt:yyyy-MM-dd HH:mm:ss} UTC, {Format.Number(result.DurationS)} s; ") +
        Format.Invariant($"{result.Config.Endpoint} endpoint, {(result.Config.Stream ? "streaming" : "not streaming")}.");
}

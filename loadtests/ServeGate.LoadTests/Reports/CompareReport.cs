using System.Text;
using ServeGate.LoadTests.Results;

namespace ServeGate.LoadTests.Reports;

/// <summary>A run read back from its result.json, with the short name it has in a comparison.</summary>
internal sealed record NamedResult(string Name, string Path, RunResult Result);

/// <summary>
/// Side-by-side tables of several runs, each value with its ratio to the first run's (for a latency, below 1x
/// is better; for a throughput, above 1x is).
/// </summary>
internal static class CompareReport
{
    public const string MarkdownFile = "compare.md";
    public const string HtmlFile = "compare.html";

    private static readonly (string Name, Func<MeasuredBlock, double?> Value)[] Metrics =
    [
        ("Requests", b => b.Requests),
        ("Errors", b => b.Errors),
        ("Duration (s)", b => b.DurationS),
        ("Requests/s", b => b.RequestsPerSecond),
        ("Output tokens/s", b => b.OutputTokensPerSecond),
        ("Total tokens/s", b => b.TotalTokensPerSecond),
        ("Goodput req/s", b => b.Goodput.RequestsPerSecond),
        ("TTFT p50 (ms)", b => b.TtftMs.P50),
        ("TTFT p90 (ms)", b => b.TtftMs.P90),
        ("TTFT p99 (ms)", b => b.TtftMs.P99),
        ("ITL p50 (ms)", b => b.ItlMs.P50),
        ("ITL p90 (ms)", b => b.ItlMs.P90),
        ("ITL p99 (ms)", b => b.ItlMs.P99),
        ("TPOT p50 (ms)", b => b.TpotMs.P50),
        ("TPOT p99 (ms)", b => b.TpotMs.P99),
        ("E2E p50 (ms)", b => b.E2eMs.P50),
        ("E2E p90 (ms)", b => b.E2eMs.P90),
        ("E2E p99 (ms)", b => b.E2eMs.P99),
        ("Cached-token ratio", b => b.CachedTokenRatio),
    ];

    private static readonly (string Name, Func<MeasuredBlock, double?> Value)[] StepMetrics =
    [
        ("Requests/s", b => b.RequestsPerSecond),
        ("Output tokens/s", b => b.OutputTokensPerSecond),
        ("TTFT p50 (ms)", b => b.TtftMs.P50),
        ("TTFT p99 (ms)", b => b.TtftMs.P99),
        ("ITL p50 (ms)", b => b.ItlMs.P50),
        ("TPOT p50 (ms)", b => b.TpotMs.P50),
        ("E2E p50 (ms)", b => b.E2eMs.P50),
        ("E2E p99 (ms)", b => b.E2eMs.P99),
    ];

    /// <summary>Names each run by its folder, or by its path where folders repeat.</summary>
    public static IReadOnlyList<NamedResult> Name(IReadOnlyList<(string Path, RunResult Result)> runs)
    {
        var folders = runs.Select(r => new DirectoryInfo(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(r.Path))!).Name).ToList();
        var unique = folders.Distinct(StringComparer.Ordinal).Count() == folders.Count;
        return [.. runs.Select((r, i) => new NamedResult(unique ? folders[i] : r.Path, r.Path, r.Result))];
    }

    /// <summary>The whole-run metrics of every run, with ratios to the first.</summary>
    public static Table Overall(IReadOnlyList<NamedResult> runs) =>
        new(Header("Metric", runs), [.. Metrics.Select(m => Row(m.Name, runs.Select(r => m.Value(r.Result)).ToList()))]);

    /// <summary>Per-step metrics for the steps (matched by label, e.g. "c=8") that every run has.</summary>
    public static Table Steps(IReadOnlyList<NamedResult> runs)
    {
        var rows = new List<string[]>();
        foreach (var step in runs[0].Result.Steps)
        {
            var matches = runs.Select(r => r.Result.Steps.FirstOrDefault(s => s.Label == step.Label)).ToList();
            if (matches.Any(m => m is null))
            {
                continue;
            }

            rows.AddRange(StepMetrics.Select(m => Row(step.Label + " " + m.Name, matches.Select(s => m.Value(s!)).ToList())));
        }

        return new Table(Header("Step metric", runs), rows);
    }

    public static string ToMarkdown(IReadOnlyList<NamedResult> runs)
    {
        var text = new StringBuilder("# Load test comparison\n\n");
        text.AppendLine("Ratios are each run's value over the first run's. Runs:").AppendLine();
        foreach (var run in runs)
        {
            text.Append("- **").Append(Format.Cell(run.Name)).Append("**: `").Append(run.Path).Append("`, ")
                .Append(Format.Cell(run.Result.Config.Model)).Append(" at ").Append(Format.Cell(run.Result.Config.Url))
                .Append(". ").Append(Format.Cell(MarkdownReport.Headline(run.Result)))
                .AppendLine(run.Result.Aborted ? " **Aborted.**" : "");
        }

        text.AppendLine().Append(Overall(runs).ToMarkdown());
        var steps = Steps(runs);
        if (steps.Rows.Count > 0)
        {
            text.AppendLine().AppendLine("## Per step").AppendLine().Append(steps.ToMarkdown());
        }

        return text.ToString();
    }

    public static string ToHtml(IReadOnlyList<NamedResult> runs)
    {
        var html = Html.Begin("Load test comparison");
        html.Paragraph("Ratios are each run's value over the first run's.");
        html.Append("<ul>\n");
        foreach (var run in runs)
        {
            html.Append("<li><b>").Append(Html.Encode(run.Name)).Append("</b>: ").Append(Html.Encode(run.Path)).Append(", ")
                .Append(Html.Encode(run.Result.Config.Model + " at " + run.Result.Config.Url + ". " + MarkdownReport.Headline(run.Result)))
                .Append(run.Result.Aborted ? " <b>Aborted.</b>" : "").Append("</li>\n");
        }

        html.Append("</ul>\n").AppendTable(Overall(runs));
        var steps = Steps(runs);
        if (steps.Rows.Count > 0)
        {
            html.Heading("Per step").AppendTable(steps);
        }

        return Html.End(html);
    }

    private static string[] Header(string first, IReadOnlyList<NamedResult> runs)
    {
        var header = new List<string> { first, runs[0].Name };
        foreach (var run in runs.Skip(1))
        {
            header.Add(run.Name);
            header.Add(run.Name + " / " + runs[0].Name);
        }

        return [.. header];
    }

    private static string[] Row(string name, IReadOnlyList<double?> values)
    {
        var row = new List<string> { name, Format.Number(values[0]) };
        for (var i = 1; i < values.Count; i++)
        {
            row.Add(Format.Number(values[i]));
            row.Add(Format.Ratio(values[i], values[0]));
        }

        return [.. row];
    }
}

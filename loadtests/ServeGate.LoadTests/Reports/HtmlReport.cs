using ServeGate.LoadTests.Results;

namespace ServeGate.LoadTests.Reports;

/// <summary>
/// report.html: the run's tables and charts (latency percentiles and throughput per step, the TTFT distribution)
/// in one self-contained page.
/// </summary>
internal static class HtmlReport
{
    /// <param name="result">The run's results.</param>
    /// <param name="ttftMs">Every successful request's TTFT; with streaming off, pass end-to-end latencies.</param>
    /// <param name="ttftIsE2e">True when <paramref name="ttftMs"/> holds end-to-end latencies instead.</param>
    public static string Render(RunResult result, IReadOnlyList<double> ttftMs, bool ttftIsE2e)
    {
        var html = Html.Begin($"Load test: {result.Config.Model} at {result.Config.Url}");
        html.Paragraph(MarkdownReport.Headline(result));
        if (result.Aborted)
        {
            html.Paragraph("Aborted: the run was cancelled before its bounds; these numbers cover the requests that finished.", "aborted");
        }

        html.Heading("Summary").AppendTable(ReportTables.Summary(result));
        html.AppendTable(ReportTables.Latency(result));

        var steps = result.Steps;
        var byConcurrency = steps.Count > 0 && steps.All(s => s.Concurrency is not null);
        var categories = steps.Select(s => byConcurrency ? s.Concurrency!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) : s.Label).ToList();
        var xTitle = byConcurrency ? "concurrency" : "step";

        html.Heading("Latency vs " + xTitle).Charts(
            PercentileChart("TTFT", xTitle, categories, steps.Select(s => s.TtftMs)),
            PercentileChart("TPOT", xTitle, categories, steps.Select(s => s.TpotMs)),
            PercentileChart("ITL", xTitle, categories, steps.Select(s => s.ItlMs)),
            PercentileChart("End-to-end latency", xTitle, categories, steps.Select(s => s.E2eMs)));

        html.Heading("Throughput vs " + xTitle).Charts(
            SvgChart.Line("Output tokens per second", xTitle, "tokens/s", categories,
                [new ChartSeries("output", [.. steps.Select(s => (double?)s.OutputTokensPerSecond)])]),
            SvgChart.Line("Total (prompt + output) tokens per second", xTitle, "tokens/s", categories,
                [new ChartSeries("total", [.. steps.Select(s => (double?)s.TotalTokensPerSecond)])]),
            SvgChart.Line("Requests per second", xTitle, "requests/s", categories,
            [
                new ChartSeries("completed", [.. steps.Select(s => (double?)s.RequestsPerSecond)]),
                new ChartSeries("goodput", [.. steps.Select(s => (double?)s.Goodput.RequestsPerSecond)]),
            ]));

        html.Heading(ttftIsE2e ? "End-to-end latency distribution (no TTFT without streaming)" : "TTFT distribution").Charts(
            SvgChart.Histogram(ttftIsE2e ? "End-to-end latency, all requests" : "TTFT, all requests", "milliseconds", ttftMs));

        html.Heading("Steps").AppendTable(ReportTables.Steps(result));
        if (result.Errors > 0)
        {
            html.Heading("Errors").AppendTable(ReportTables.Errors(result)).AppendTable(ReportTables.ErrorSamples(result));
        }

        if (result.CostError is { } costError)
        {
            html.Heading("Cost").Paragraph("Not read: " + costError);
        }
        else if (result.Cost is { } cost)
        {
            html.Heading("Cost").Append("<pre>").Append(Html.Encode(cost.ToString())).Append("</pre>\n");
        }

        html.Heading("Configuration").AppendTable(ReportTables.Config(result.Config));
        return Html.End(html);
    }

    private static string PercentileChart(string name, string xTitle, IReadOnlyList<string> categories, IEnumerable<LatencyStats> stats)
    {
        var list = stats.ToList();
        return SvgChart.Line(name + " (ms)", xTitle, "ms", categories,
        [
            new ChartSeries("p50", [.. list.Select(s => s.P50)]),
            new ChartSeries("p90", [.. list.Select(s => s.P90)]),
            new ChartSeries("p99", [.. list.Select(s => s.P99)]),
        ]);
    }
}

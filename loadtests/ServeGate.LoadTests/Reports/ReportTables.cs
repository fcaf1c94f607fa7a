using ServeGate.LoadTests.Results;

namespace ServeGate.LoadTests.Reports;

/// <summary>
/// The tables of a run report as rows of cells, so the Markdown, HTML and console renderings show the same numbers.
/// </summary>
internal static class ReportTables
{
    public static Table Summary(RunResult result)
    {
        var rows = new List<string[]>
        {
            Row("Requests", Format.Invariant(
                $"{result.Requests} finished: {result.SuccessfulRequests} ok, {result.Errors} errors; {result.CancelledRequests} cancelled")),
            Row("Duration (s)", Format.Number(result.DurationS)),
            Row("Requests/s", Format.Number(result.RequestsPerSecond)),
            Row("Output tokens/s", Format.Number(result.OutputTokensPerSecond)),
            Row("Total tokens/s", Format.Number(result.TotalTokensPerSecond)),
            Row("Prompt / output tokens", Format.Invariant($"{result.PromptTokens} / {result.OutputTokens}")),
            Row("Goodput", Goodput(result.Goodput)),
            Row("Cached-token ratio", result.CachedTokenRatio is { } ratio
                ? Format.Invariant($"{Format.Percent(ratio)} ({result.CachedTokens} prompt tokens served from cache)")
                : "- (the server reported no usage)"),
            Row("Token counts from server usage", Format.Invariant($"{result.UsageReportedRequests} of {result.SuccessfulRequests} requests")),
        };
        return new Table(["Metric", "Value"], rows, Numeric: false);
    }

    public static Table Latency(MeasuredBlock block) => new(
        ["Latency (ms)", "Mean", "P50", "P90", "P99", "Max", "Count"],
        [
            LatencyRow("TTFT", block.TtftMs),
            LatencyRow("ITL", block.ItlMs),
            LatencyRow("TPOT", block.TpotMs),
            LatencyRow("E2E", block.E2eMs),
        ]);

    public static Table Steps(RunResult result) => new(
        ["Step", "Requests", "Errors", "Req/s", "Out tok/s", "Total tok/s", "TTFT p50", "TTFT p99", "ITL p50", "ITL p99",
            "TPOT p50", "E2E p50", "E2E p99", "Goodput req/s", "Cached"],
        [.. result.Steps.Select(s => new[]
        {
            s.Label,
            Format.Integer(s.Requests),
            Format.Integer(s.Errors),
            Format.Number(s.RequestsPerSecond),
            Format.Number(s.OutputTokensPerSecond),
            Format.Number(s.TotalTokensPerSecond),
            Format.Number(s.TtftMs.P50),
            Format.Number(s.TtftMs.P99),
            Format.Number(s.ItlMs.P50),
            Format.Number(s.ItlMs.P99),
            Format.Number(s.TpotMs.P50),
            Format.Number(s.E2eMs.P50),
            Format.Number(s.E2eMs.P99),
            Format.Number(s.Goodput.RequestsPerSecond),
            Format.Percent(s.CachedTokenRatio),
        })]);

    public static Table Errors(RunResult result) => new(
        ["Error type", "Count"],
        [.. result.ErrorsByType.Where(e => e.Value > 0).Select(e => new[] { e.Key, Format.Integer(e.Value) })]);

    public static Table ErrorSamples(RunResult result) => new(
        ["Error type", "Count", "Message"],
        [.. result.ErrorSamples.Select(e => new[] { e.Type, Format.Integer(e.Count), e.Message })],
        Numeric: false);

    public static Table Config(RunConfig config)
    {
        var rows = new List<string[]>
        {
            Row("URL", config.Url),
            Row("Model", config.Model),
            Row("Endpoint", config.Endpoint),
            Row("Stream", config.Stream ? "true" : "false"),
            Row("Scenario", config.Scenario),
            Row("Concurrency", Format.Integer(config.Concurrency)),
        };
        if (config.Sweep is { } sweep)
        {
            rows.Add(Row("Sweep", string.Join(",", sweep)));
        }

        if (config.Rate is { } rate)
        {
            rows.Add(Row("Rate (req/s)", Format.Number(rate)));
        }

        if (config.MaxConcurrency is { } max)
        {
            rows.Add(Row("Max concurrency", Format.Integer(max)));
        }

        if (config.RampUpS is { } ramp)
        {
            rows.Add(Row("Ramp-up (s)", Format.Number(ramp)));
        }

        rows.Add(Row("Requests (bound)", Format.Integer(config.Requests)));
        rows.Add(Row("Warm-up requests", Format.Integer(config.Warmup)));
        rows.Add(Row("Duration (bound, s)", Format.Number(config.DurationS)));
        rows.Add(Row("Timeout (s)", Format.Number(config.TimeoutS)));
        rows.Add(Row("Prompt tokens", config.PromptsFile is { } file ? "from " + file : config.PromptTokens));
        rows.Add(Row("Max tokens", config.MaxTokens));
        rows.Add(Row("Shared prefix ratio", Format.Number(config.SharedPrefixRatio)));
        rows.Add(Row("Ignore EOS", config.IgnoreEos ? "true" : "false"));
        rows.Add(Row("New connection per request", config.NoKeepAlive ? "true" : "false"));
        rows.Add(Row("Seed", Format.Integer(config.Seed)));
        return new Table(["Setting", "Value"], rows, Numeric: false);
    }

    public static string Goodput(GoodputStats goodput)
    {
        var objectives = new List<string>();
        if (goodput.SloTtftMs is { } ttft)
        {
            objectives.Add("TTFT <= " + Format.Number(ttft) + " ms");
        }

        if (goodput.SloTpotMs is { } tpot)
        {
            objectives.Add("TPOT <= " + Format.Number(tpot) + " ms");
        }

        var within = objectives.Count == 0 ? "no objectives set" : string.Join(", ", objectives);
        return Format.Invariant(
            $"{goodput.Requests} requests, {Format.Number(goodput.RequestsPerSecond)} req/s, {Format.Percent(goodput.Ratio)} ({within})");
    }

    private static string[] LatencyRow(string name, LatencyStats stats) =>
        [name, Format.Number(stats.Mean), Format.Number(stats.P50), Format.Number(stats.P90), Format.Number(stats.P99),
            Format.Number(stats.Max), Format.Integer(stats.Count)];

    private static string[] Row(string name, string value) => [name, value];
}

/// <summary>A table of text cells: a header row and data rows of the same width.</summary>
/// <param name="Header">Column titles.</param>
/// <param name="Rows">Cells, row by row.</param>
/// <param name="Numeric">Whether the columns after the first hold numbers (right-aligned).</param>
internal sealed record Table(IReadOnlyList<string> Header, IReadOnlyList<string[]> Rows, bool Numeric = true)
{
    public string ToMarkdown()
    {
        var text = new System.Text.StringBuilder();
        text.Append("| ").AppendJoin(" | ", Header.Select(Format.Cell)).AppendLine(" |");
        text.Append('|').AppendJoin("|", Header.Select((_, i) => i > 0 && Numeric ? "--:" : "---")).AppendLine("|");
        foreach (var row in Rows)
        {
            text.Append("| ").AppendJoin(" | ", row.Select(Format.Cell)).AppendLine(" |");
        }

        return text.ToString();
    }
}

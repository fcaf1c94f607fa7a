using ServeGate.LoadTests.Client;
using ServeGate.LoadTests.Metrics;
using ServeGate.LoadTests.Progress;
using ServeGate.LoadTests.Reports;
using ServeGate.LoadTests.Results;
using ServeGate.LoadTests.Scenarios;

namespace ServeGate.LoadTests.Cli;

/// <summary>Runs a load test from checked settings: progress while it runs, then the result files and a summary.</summary>
internal static class RunCommand
{
    public static async Task<int> ExecuteAsync(RunSettings settings, CliContext cli, CancellationToken cancellationToken)
    {
        // Fail before sending anything when the results could not be written.
        try
        {
            Directory.CreateDirectory(settings.OutDirectory);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            await cli.Error.WriteLineAsync($"error: cannot create the output folder '{settings.OutDirectory}': {ex.Message}").ConfigureAwait(false);
            return ExitCodes.InvalidArguments;
        }

        using var http = OpenAiClient.CreateHttpClient(settings.MaxInFlight);
        var counters = new LiveCounters();
        var client = new OpenAiClient(http, settings.Client, cli.Time, counters);
        var runner = new ScenarioRunner(client, settings.Workload, cli.Time, counters);
        await cli.Output.WriteLineAsync(
            $"servegate-loadtest: {settings.Config.Scenario} run against {settings.Client.RequestUri} (model {settings.Client.Model})")
            .ConfigureAwait(false);

        var run = runner.RunAsync(settings.Plan, cancellationToken);
        await ProgressView.ShowAsync(Resolve(settings.Progress, cli.InteractiveConsole), counters, run, cli.Output, cli.Time)
            .ConfigureAwait(false);
        var outcome = await run.ConfigureAwait(false);

        // Said once the progress display is done with the terminal; an abort drops requests at once, so this is prompt.
        if (outcome.Aborted)
        {
            await cli.Error.WriteLineAsync("Aborted: requests in flight were dropped; writing the partial results.").ConfigureAwait(false);
        }

        var result = ResultBuilder.Build(outcome, settings.Config.Scenario, settings.Config, settings.Slo);
        if (settings.CostUrl is { } costUrl && !outcome.Aborted)
        {
            // The costs API is asked for the run's own window (whole seconds around it); another URL is read as is.
            var url = CostClient.ForWindow(costUrl, result.StartedAt, cli.Time.GetUtcNow());
            (result.Cost, result.CostError) = await CostClient.FetchAsync(http, url, settings.Client.ApiKey, cli.Time, CancellationToken.None)
                .ConfigureAwait(false);
            if (result.Cost is { } cost && CostClient.TotalUsd(cost) is { } usd)
            {
                result.CostUsd = usd;
                var tokens = result.PromptTokens + result.OutputTokens;
                result.CostUsdPerMillionTokens = tokens > 0 ? decimal.Round(usd * 1_000_000m / tokens, 6) : null;
            }
        }

        try
        {
            await ReportWriter.WriteAsync(settings.OutDirectory, result, outcome, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await cli.Error.WriteLineAsync($"error: cannot write the results to '{settings.OutDirectory}': {ex.Message}").ConfigureAwait(false);
            return ExitCodes.OutputFailed;
        }

        await WriteSummaryAsync(cli.Output, result, settings.OutDirectory).ConfigureAwait(false);
        if (outcome.Aborted)
        {
            return ExitCodes.Aborted;
        }

        if (result.SuccessfulRequests == 0)
        {
            var first = result.ErrorSamples.FirstOrDefault();
            await cli.Error.WriteLineAsync(
                $"error: no request succeeded{(first is null ? "" : $"; first error: {first.Type}: {first.Message}")}").ConfigureAwait(false);
            return ExitCodes.NoSuccessfulRequest;
        }

        return ExitCodes.Success;
    }

    private static ProgressMode Resolve(ProgressMode mode, bool interactiveConsole) => mode switch
    {
        ProgressMode.Auto => interactiveConsole && !Console.IsOutputRedirected && Spectre.Console.AnsiConsole.Profile.Capabilities.Interactive
            ? ProgressMode.Live
            : ProgressMode.Plain,
        ProgressMode.Live when !interactiveConsole => ProgressMode.Plain,
        _ => mode,
    };

    private static async Task WriteSummaryAsync(TextWriter output, RunResult result, string directory)
    {
        await output.WriteLineAsync().ConfigureAwait(false);
        await output.WriteLineAsync(MarkdownReport.Headline(result) + (result.Aborted ? " ABORTED (partial results)." : "")).ConfigureAwait(false);
        await output.WriteLineAsync().ConfigureAwait(false);
        await output.WriteAsync(ReportTables.Summary(result).ToMarkdown()).ConfigureAwait(false);
        await output.WriteLineAsync().ConfigureAwait(false);
        await output.WriteAsync(ReportTables.Latency(result).ToMarkdown()).ConfigureAwait(false);
        if (result.Steps.Count > 1)
        {
            await output.WriteLineAsync().ConfigureAwait(false);
            await output.WriteAsync(ReportTables.Steps(result).ToMarkdown()).ConfigureAwait(false);
        }

        if (result.Errors > 0)
        {
            await output.WriteLineAsync().ConfigureAwait(false);
            await output.WriteAsync(ReportTables.ErrorSamples(result).ToMarkdown()).ConfigureAwait(false);
        }

        await output.WriteLineAsync().ConfigureAwait(false);
        await output.WriteLineAsync(
            $"Wrote {Path.Combine(directory, ReportWriter.JsonFile)}, {ReportWriter.MarkdownFile} and {ReportWriter.HtmlFile}.").ConfigureAwait(false);
    }
}

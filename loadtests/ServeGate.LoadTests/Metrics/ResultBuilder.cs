using ServeGate.LoadTests.Client;
using ServeGate.LoadTests.Results;
using ServeGate.LoadTests.Scenarios;

namespace ServeGate.LoadTests.Metrics;

/// <summary>Latency objectives a request must meet to count toward goodput; null objectives are always met.</summary>
internal sealed record ServiceLevelObjectives(double? TtftMs, double? TpotMs);

/// <summary>Turns the measured requests of a run into result.json's numbers: percentiles, rates, goodput, errors.</summary>
internal static class ResultBuilder
{
    private const int MaxErrorSamples = 10;

    public static RunResult Build(RunOutcome outcome, string scenario, RunConfig config, ServiceLevelObjectives slo)
    {
        var result = new RunResult
        {
            Scenario = scenario,
            StartedAt = outcome.StartedAt,
            Aborted = outcome.Aborted,
            Config = config,
        };
        Fill(result, [.. outcome.AllRecords], outcome.DurationS, outcome.Cancelled, slo);
        foreach (var step in outcome.Steps)
        {
            var stepResult = new StepResult { Label = step.Label, Concurrency = step.Concurrency, Rate = step.Rate };
            Fill(stepResult, step.Records, step.DurationS, step.Cancelled, slo);
            result.Steps.Add(stepResult);
        }

        return result;
    }

    /// <summary>Computes every metric of <paramref name="block"/> from <paramref name="records"/>.</summary>
    internal static void Fill(
        MeasuredBlock block, IReadOnlyList<RequestRecord> records, double durationS, int cancelled, ServiceLevelObjectives slo)
    {
        var ttft = new List<double>();
        var itl = new List<double>();
        var tpot = new List<double>();
        var e2e = new List<double>();
        long promptTokens = 0, outputTokens = 0, usagePromptTokens = 0, cachedTokens = 0;
        int successful = 0, good = 0, usageReported = 0;
        foreach (var record in records)
        {
            if (!record.Succeeded)
            {
                continue;
            }

            successful++;
            promptTokens += record.PromptTokens;
            outputTokens += record.OutputTokens;
            e2e.Add(record.E2eMs);
            itl.AddRange(record.ItlMs);
            if (record.TtftMs is { } t)
            {
                ttft.Add(t);
            }

            if (record.TpotMs is { } p)
            {
                tpot.Add(p);
            }

            if (record.UsageReported)
            {
                usageReported++;
                usagePromptTokens += record.PromptTokens;
                cachedTokens += record.CachedTokens ?? 0;
            }

            if (MeetsObjectives(record, slo))
            {
                good++;
            }
        }

        block.Requests = records.Count;
        block.SuccessfulRequests = successful;
        block.Errors = records.Count - successful;
        block.CancelledRequests = cancelled;
        block.DurationS = Percentiles.Round(durationS);
        block.RequestsPerSecond = PerSecond(successful, durationS);
        block.PromptTokens = promptTokens;
        block.OutputTokens = outputTokens;
        block.OutputTokensPerSecond = PerSecond(outputTokens, durationS);
        block.TotalTokensPerSecond = PerSecond(promptTokens + outputTokens, durationS);
        block.TtftMs = Percentiles.Summarize(ttft);
        block.ItlMs = Percentiles.Summarize(itl);
        block.TpotMs = Percentiles.Summarize(tpot);
        block.E2eMs = Percentiles.Summarize(e2e);
        block.Goodput = new GoodputStats
        {
            SloTtftMs = slo.TtftMs,
            SloTpotMs = slo.TpotMs,
            Requests = good,
            RequestsPerSecond = PerSecond(good, durationS),
            Ratio = records.Count == 0 ? 0 : Math.Round((double)good / records.Count, 4),
        };
        block.UsageReportedRequests = usageReported;
        block.CachedTokens = usageReported > 0 ? cachedTokens : null;
        block.CachedTokenRatio = usagePromptTokens > 0 ? Math.Round((double)cachedTokens / usagePromptTokens, 4) : null;
        block.ErrorsByType = ErrorTypes.All.ToDictionary(type => type, type => records.Count(r => r.ErrorType == type));
        block.ErrorSamples = [.. records
            .Where(r => !r.Succeeded)
            .GroupBy(r => (r.ErrorType!, r.ErrorMessage ?? ""))
            .Select(g => new ErrorSample { Type = g.Key.Item1, Message = g.Key.Item2, Count = g.Count() })
            .OrderByDescending(s => s.Count)
            .Take(MaxErrorSamples)];
    }

    /// <summary>
    /// Whether a successful request met the objectives. Without streaming there is no TTFT, and the end-to-end
    /// latency (when the first token had certainly arrived) stands in for it.
    /// </summary>
    internal static bool MeetsObjectives(RequestRecord record, ServiceLevelObjectives slo) =>
        record.Succeeded &&
        (slo.TtftMs is not { } ttftLimit || (record.TtftMs ?? record.E2eMs) <= ttftLimit) &&
        (slo.TpotMs is not { } tpotLimit || record.TpotMs is not { } tpot || tpot <= tpotLimit);

    private static double PerSecond(double count, double seconds) => seconds > 0 ? Percentiles.Round(count / seconds) : 0;
}

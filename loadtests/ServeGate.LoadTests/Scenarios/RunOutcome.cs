using ServeGate.LoadTests.Metrics;

namespace ServeGate.LoadTests.Scenarios;

/// <summary>The requests of one step and the wall time they took.</summary>
internal sealed record StepOutcome(string Label, int? Concurrency, double? Rate, IReadOnlyList<RequestRecord> Records, double DurationS, int Cancelled);

/// <summary>Everything a run measured, before it is summarised.</summary>
/// <param name="StartedAt">When the run started (UTC).</param>
/// <param name="Aborted">The run was cancelled before its bounds.</param>
/// <param name="Steps">The steps in order; one for closed and Poisson runs.</param>
/// <param name="DurationS">Wall time of the whole run (the steps of a sweep added up).</param>
/// <param name="Cancelled">Requests in flight when the run was aborted, dropped unmeasured.</param>
internal sealed record RunOutcome(
    DateTimeOffset StartedAt, bool Aborted, IReadOnlyList<StepOutcome> Steps, double DurationS, int Cancelled)
{
    public IEnumerable<RequestRecord> AllRecords => Steps.SelectMany(s => s.Records);
}

namespace ServeGate.LoadTests.Scenarios;

/// <summary>How requests are issued over time.</summary>
internal enum ScenarioKind
{
    /// <summary>Closed loop: a fixed number of clients, each sending its next request when the last one ends.</summary>
    Closed,

    /// <summary>A closed loop run once per concurrency level, one after another.</summary>
    Sweep,

    /// <summary>Open loop: requests arrive at Poisson-distributed times at a mean rate, whatever the server's speed.</summary>
    Poisson,

    /// <summary>A closed loop whose clients start one by one, spread over the ramp-up time.</summary>
    Ramp,
}

/// <summary>What a run does; every scenario stops at <see cref="Requests"/> or <see cref="Duration"/>, whichever comes first.</summary>
internal sealed record ScenarioPlan
{
    public ScenarioKind Kind { get; init; } = ScenarioKind.Closed;

    /// <summary>Clients for <see cref="ScenarioKind.Closed"/>, and the final number for <see cref="ScenarioKind.Ramp"/>.</summary>
    public int Concurrency { get; init; } = 1;

    /// <summary>The concurrency levels of a <see cref="ScenarioKind.Sweep"/>.</summary>
    public IReadOnlyList<int> SweepLevels { get; init; } = [];

    /// <summary>Mean arrival rate, requests per second, of <see cref="ScenarioKind.Poisson"/>.</summary>
    public double Rate { get; init; }

    /// <summary>At most this many requests in flight in <see cref="ScenarioKind.Poisson"/>; arrivals past it wait. Null: no cap.</summary>
    public int? MaxConcurrency { get; init; }

    /// <summary>Time over which <see cref="ScenarioKind.Ramp"/> starts its clients.</summary>
    public TimeSpan RampUp { get; init; }

    /// <summary>Requests to send; per step in a sweep.</summary>
    public int Requests { get; init; } = 100;

    /// <summary>No request is sent after this time (per step in a sweep); requests in flight then still finish.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Requests sent one at a time before the measured run and not counted: they open a connection and warm the
    /// server and this process (JIT), which would otherwise inflate the first request's latencies.
    /// </summary>
    public int Warmup { get; init; }

    /// <summary>Seeds the Poisson arrival times (the workload has its own copy).</summary>
    public long Seed { get; init; }
}

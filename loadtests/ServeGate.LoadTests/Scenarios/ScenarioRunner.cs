using System.Globalization;
using ServeGate.LoadTests.Client;
using ServeGate.LoadTests.Metrics;
using ServeGate.LoadTests.Workload;

namespace ServeGate.LoadTests.Scenarios;

/// <summary>
/// Runs a <see cref="ScenarioPlan"/>: issues the workload's requests through the client, closed or open loop,
/// and collects what each measured. Cancelling the token aborts: nothing new is sent, requests in flight are
/// dropped, and the outcome holds what had finished, flagged <see cref="RunOutcome.Aborted"/>.
/// </summary>
internal sealed class ScenarioRunner(OpenAiClient client, IWorkload workload, TimeProvider time, LiveCounters counters)
{
    /// <summary>Workload indices of warm-up requests start here, far from the measured ones, so they share no prompt.</summary>
    internal const long WarmupIndexBase = 1L << 40;

    public async Task<RunOutcome> RunAsync(ScenarioPlan plan, CancellationToken cancellationToken)
    {
        counters.Step = "warm-up";
        for (var i = 0; i < plan.Warmup && !cancellationToken.IsCancellationRequested; i++)
        {
            try
            {
                await client.SendAsync(workload.Get(WarmupIndexBase + i), 1, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
        }

        var startedAt = time.GetUtcNow();
        counters.Total = plan.Kind == ScenarioKind.Sweep ? plan.Requests * plan.SweepLevels.Count : plan.Requests;
        RunOutcome Outcome(IReadOnlyList<StepOutcome> steps, double durationS, int cancelled) =>
            new(startedAt, cancellationToken.IsCancellationRequested, steps, durationS, cancelled);

        switch (plan.Kind)
        {
            case ScenarioKind.Sweep:
                var steps = new List<StepOutcome>();
                for (var k = 0; k < plan.SweepLevels.Count && !cancellationToken.IsCancellationRequested; k++)
                {
                    // Each step has its own requests, so no step finds its prompts already cached by an earlier one.
                    var level = plan.SweepLevels[k];
                    steps.Add(await ClosedLoopAsync(
                        Label(level), level, plan with { RampUp = TimeSpan.Zero }, (long)k * plan.Requests, cancellationToken).ConfigureAwait(false));
                }

                return Outcome(steps, steps.Sum(s => s.DurationS), steps.Sum(s => s.Cancelled));
            case ScenarioKind.Poisson:
                var open = await OpenLoopAsync(plan, cancellationToken).ConfigureAwait(false);
                return Outcome([open], open.DurationS, open.Cancelled);
            case ScenarioKind.Ramp:
                var ramp = await ClosedLoopAsync("ramp", plan.Concurrency, plan, 0, cancellationToken).ConfigureAwait(false);
                return Outcome([.. SplitByConcurrency(ramp)], ramp.DurationS, ramp.Cancelled);
            default:
                var closed = await ClosedLoopAsync(
                    Label(plan.Concurrency), plan.Concurrency, plan with { RampUp = TimeSpan.Zero }, 0, cancellationToken).ConfigureAwait(false);
                return Outcome([closed], closed.DurationS, closed.Cancelled);
        }
    }

    private async Task<StepOutcome> ClosedLoopAsync(
        string label, int concurrency, ScenarioPlan plan, long indexOffset, CancellationToken cancellationToken)
    {
        counters.Step = label;
        var recorder = new StepRecorder(client, counters);
        var next = -1L;
        var started = 0;
        using var durationLimit = new CancellationTokenSource(plan.Duration, time);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, durationLimit.Token);
        var start = time.GetTimestamp();

        async Task WorkerAsync(int worker)
        {
            if (plan.RampUp > TimeSpan.Zero && concurrency > 1 && worker > 0)
            {
                var delay = plan.RampUp * worker / (concurrency - 1);
                await Task.Delay(delay, time, stop.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            // While ramping, a request is labelled with the clients started so far.
            Interlocked.Increment(ref started);
            while (!stop.IsCancellationRequested)
            {
                var i = Interlocked.Increment(ref next);
                if (i >= plan.Requests)
                {
                    return;
                }

                // Requests in flight are bounded by --timeout, not by --duration: they finish and are measured.
                var level = plan.RampUp > TimeSpan.Zero ? Volatile.Read(ref started) : concurrency;
                if (!await recorder.SendAsync(workload.Get(indexOffset + i), level, cancellationToken).ConfigureAwait(false))
                {
                    return;
                }
            }
        }

        var workers = new Task[concurrency];
        for (var w = 0; w < concurrency; w++)
        {
            var worker = w;
            workers[w] = Task.Run(() => WorkerAsync(worker), CancellationToken.None);
        }

        await Task.WhenAll(workers).ConfigureAwait(false);
        return recorder.Outcome(label, concurrency, null, time.GetElapsedTime(start).TotalSeconds);
    }

    private async Task<StepOutcome> OpenLoopAsync(ScenarioPlan plan, CancellationToken cancellationToken)
    {
        var label = string.Create(CultureInfo.InvariantCulture, $"rate={plan.Rate:0.###}");
        counters.Step = label;
        var offsets = PoissonSchedule.ArrivalOffsets(plan.Rate, plan.Requests, plan.Seed);
        var recorder = new StepRecorder(client, counters);
        var inFlight = 0;
        using var gate = plan.MaxConcurrency is { } max ? new SemaphoreSlim(max, max) : null;
        using var durationLimit = new CancellationTokenSource(plan.Duration, time);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, durationLimit.Token);
        var start = time.GetTimestamp();

        async Task SendOneAsync(long index)
        {
            var level = Interlocked.Increment(ref inFlight);
            try
            {
                await recorder.SendAsync(workload.Get(index), level, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                Interlocked.Decrement(ref inFlight);
                gate?.Release();
            }
        }

        var sends = new List<Task>(Math.Min(plan.Requests, 100_000));
        for (var i = 0; i < offsets.Length && !stop.IsCancellationRequested; i++)
        {
            var wait = TimeSpan.FromSeconds(offsets[i]) - time.GetElapsedTime(start);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, time, stop.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            if (gate is not null)
            {
                await gate.WaitAsync(stop.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            if (stop.IsCancellationRequested)
            {
                break;
            }

            var index = (long)i;
            sends.Add(Task.Run(() => SendOneAsync(index), CancellationToken.None));
        }

        await Task.WhenAll(sends).ConfigureAwait(false);
        return recorder.Outcome(label, null, plan.Rate, time.GetElapsedTime(start).TotalSeconds);
    }

    /// <summary>A ramp's requests grouped by the number of clients running when each was sent, one step per level.</summary>
    private IEnumerable<StepOutcome> SplitByConcurrency(StepOutcome ramp)
    {
        foreach (var group in ramp.Records.GroupBy(r => r.Concurrency).OrderBy(g => g.Key))
        {
            var records = group.ToList();
            var span = time.GetElapsedTime(records.Min(r => r.StartTimestamp), records.Max(r => r.EndTimestamp)).TotalSeconds;
            yield return new StepOutcome(Label(group.Key), group.Key, null, records, span, 0);
        }
    }

    private static string Label(int concurrency) => string.Create(CultureInfo.InvariantCulture, $"c={concurrency}");

    /// <summary>Sends the requests of one step, from any number of tasks, and keeps what they measured.</summary>
    private sealed class StepRecorder(OpenAiClient client, LiveCounters counters)
    {
        private readonly List<RequestRecord> _records = [];
        private int _cancelled;

        /// <summary>Sends and records one request; false when the run was aborted and the request dropped.</summary>
        public async Task<bool> SendAsync(RequestSpec spec, int concurrency, CancellationToken abort)
        {
            counters.OnSent();
            try
            {
                var record = await client.SendAsync(spec, concurrency, abort).ConfigureAwait(false);
                lock (_records)
                {
                    _records.Add(record);
                }

                counters.OnFinished(!record.Succeeded);
                return true;
            }
            catch (OperationCanceledException) when (abort.IsCancellationRequested)
            {
                counters.OnCancelled();
                Interlocked.Increment(ref _cancelled);
                return false;
            }
        }

        /// <summary>The step's outcome; call once every send has completed.</summary>
        public StepOutcome Outcome(string label, int? concurrency, double? rate, double durationS) =>
            new(label, concurrency, rate, _records, durationS, _cancelled);
    }
}

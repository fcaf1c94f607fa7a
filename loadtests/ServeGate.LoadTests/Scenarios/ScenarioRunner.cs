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
        var start = time.GetTimestamp();
        var steps = new List<StepOutcome>();
        var cancelled = 0;
        switch (plan.Kind)
        {
            case ScenarioKind.Sweep:
                counters.Total = plan.Requests * plan.SweepLevels.Count;
                for (var k = 0; k < plan.SweepLevels.Count && !cancellationToken.IsCancellationRequested; k++)
                {
                    // Each step has its own requests, so no step finds its prompts already cached by an earlier one.
                    var level = plan.SweepLevels[k];
                    steps.Add(await ClosedLoopAsync(
                        Label(level), level, plan with { RampUp = TimeSpan.Zero }, (long)k * plan.Requests, cancellationToken).ConfigureAwait(false));
                }

                return new RunOutcome(
                    startedAt, cancellationToken.IsCancellationRequested, steps, steps.Sum(s => s.DurationS), steps.Sum(s => s.Cancelled));
            case ScenarioKind.Poisson:
                counters.Total = plan.Requests;
                steps.Add(await OpenLoopAsync(plan, cancellationToken).ConfigureAwait(false));
                cancelled = steps[0].Cancelled;
                break;
            case ScenarioKind.Ramp:
                counters.Total = plan.Requests;
                var ramp = await ClosedLoopAsync("ramp", plan.Concurrency, plan, 0, cancellationToken).ConfigureAwait(false);
                steps.AddRange(SplitByConcurrency(ramp));
                cancelled = ramp.Cancelled;
                break;
            default:
                counters.Total = plan.Requests;
                steps.Add(await ClosedLoopAsync(
                    Label(plan.Concurrency), plan.Concurrency, plan with { RampUp = TimeSpan.Zero }, 0, cancellationToken).ConfigureAwait(false));
                cancelled = steps[0].Cancelled;
                break;
        }

        return new RunOutcome(
            startedAt, cancellationToken.IsCancellationRequested, steps, time.GetElapsedTime(start).TotalSeconds, cancelled);
    }

    private async Task<StepOutcome> ClosedLoopAsync(
        string label, int concurrency, ScenarioPlan plan, long indexOffset, CancellationToken cancellationToken)
    {
        counters.Step = label;
        var records = new List<RequestRecord>(Math.Min(plan.Requests, 100_000));
        var next = -1L;
        var started = 0;
        var cancelled = 0;
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

                var spec = workload.Get(indexOffset + i);
                counters.OnSent();
                try
                {
                    // Requests in flight are bounded by --timeout, not by --duration: they finish and are measured.
                    var record = await client.SendAsync(
                        spec, plan.RampUp > TimeSpan.Zero ? Volatile.Read(ref started) : concurrency, cancellationToken).ConfigureAwait(false);
                    lock (records)
                    {
                        records.Add(record);
                    }

                    counters.OnFinished(!record.Succeeded);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    counters.OnCancelled();
                    Interlocked.Increment(ref cancelled);
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
        return new StepOutcome(label, concurrency, null, records, time.GetElapsedTime(start).TotalSeconds, cancelled);
    }

    private async Task<StepOutcome> OpenLoopAsync(ScenarioPlan plan, CancellationToken cancellationToken)
    {
        var label = string.Create(CultureInfo.InvariantCulture, $"rate={plan.Rate:0.###}");
        counters.Step = label;
        var offsets = PoissonSchedule.ArrivalOffsets(plan.Rate, plan.Requests, plan.Seed);
        var records = new List<RequestRecord>(Math.Min(plan.Requests, 100_000));
        var inFlight = 0;
        var cancelled = 0;
        using var gate = plan.MaxConcurrency is { } max ? new SemaphoreSlim(max, max) : null;
        using var durationLimit = new CancellationTokenSource(plan.Duration, time);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, durationLimit.Token);
        var start = time.GetTimestamp();

        async Task SendOneAsync(long index)
        {
            var level = Interlocked.Increment(ref inFlight);
            counters.OnSent();
            try
            {
                var record = await client.SendAsync(workload.Get(index), level, cancellationToken).ConfigureAwait(false);
                lock (records)
                {
                    records.Add(record);
                }

                counters.OnFinished(!record.Succeeded);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                counters.OnCancelled();
                Interlocked.Increment(ref cancelled);
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
        return new StepOutcome(label, null, plan.Rate, records, time.GetElapsedTime(start).TotalSeconds, cancelled);
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
}

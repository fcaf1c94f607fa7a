using ServeGate.LoadTests.Metrics;
using ServeGate.LoadTests.Reports;

namespace ServeGate.LoadTests.Progress;

/// <summary>A progress line every two seconds and one at the end: for redirected output and CI logs.</summary>
internal static class PlainProgress
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    public static async Task ShowAsync(LiveCounters counters, Task run, TextWriter output, TimeProvider time)
    {
        var start = time.GetTimestamp();
        var rate = new RollingRate(TimeSpan.FromSeconds(10));
        rate.Add(0, counters.Tokens);
        while (!run.IsCompleted)
        {
            await ProgressView.WaitAsync(run, Interval, time).ConfigureAwait(false);
            var snapshot = ProgressSnapshot.Take(counters, rate, time.GetElapsedTime(start).TotalSeconds);
            await output.WriteLineAsync(Line(snapshot)).ConfigureAwait(false);
        }

        await run.ConfigureAwait(false);
    }

    internal static string Line(ProgressSnapshot s) => Format.Invariant(
        $"[{s.ElapsedSeconds,7:0.0}s] {s.Step,-10} done {s.Completed}/{s.Total}  errors {s.Failed}  in flight {s.InFlight}  tokens/s {s.TokensPerSecond:0.0}");
}

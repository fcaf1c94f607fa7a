using ServeGate.LoadTests.Metrics;

namespace ServeGate.LoadTests.Progress;

/// <summary>How progress is shown while a run goes on.</summary>
internal enum ProgressMode
{
    /// <summary>Live when the output is an interactive terminal, plain lines otherwise.</summary>
    Auto,

    /// <summary>A Spectre.Console live table, redrawn in place.</summary>
    Live,

    /// <summary>One line every few seconds, for logs and redirected output.</summary>
    Plain,

    /// <summary>Nothing until the summary.</summary>
    None,
}

/// <summary>What the progress views show, read from the live counters.</summary>
internal readonly record struct ProgressSnapshot(
    string Step, long Completed, int Total, long Failed, long InFlight, double TokensPerSecond, double ElapsedSeconds)
{
    public static ProgressSnapshot Take(LiveCounters counters, RollingRate rate, double elapsedSeconds) => new(
        counters.Step, counters.Completed, counters.Total, counters.Failed, counters.InFlight,
        rate.Add(elapsedSeconds, counters.Tokens), elapsedSeconds);
}

/// <summary>Shows progress until the run completes.</summary>
internal static class ProgressView
{
    public static Task ShowAsync(ProgressMode mode, LiveCounters counters, Task run, TextWriter output, TimeProvider time) => mode switch
    {
        ProgressMode.Live => LiveProgress.ShowAsync(counters, run, time),
        ProgressMode.Plain => PlainProgress.ShowAsync(counters, run, output, time),
        _ => run,
    };

    /// <summary>Waits for <paramref name="run"/> to end or <paramref name="interval"/> to pass, whichever is first; never throws.</summary>
    internal static async Task WaitAsync(Task run, TimeSpan interval, TimeProvider time)
    {
        await Task.WhenAny(run, Task.Delay(interval, time)).ConfigureAwait(false);
    }
}

using ServeGate.LoadTests.Metrics;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace ServeGate.LoadTests.Progress;

/// <summary>A live Spectre.Console panel, redrawn four times a second: step, requests done, errors, tokens/s.</summary>
internal static class LiveProgress
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    public static async Task ShowAsync(LiveCounters counters, Task run, TimeProvider time)
    {
        var start = time.GetTimestamp();
        var rate = new RollingRate(TimeSpan.FromSeconds(10));
        await AnsiConsole.Live(Render(ProgressSnapshot.Take(counters, rate, 0)))
            .AutoClear(false)
            .StartAsync(async context =>
            {
                while (!run.IsCompleted)
                {
                    await ProgressView.WaitAsync(run, Interval, time).ConfigureAwait(false);
                    context.UpdateTarget(Render(ProgressSnapshot.Take(counters, rate, time.GetElapsedTime(start).TotalSeconds)));
                }
            }).ConfigureAwait(false);
        await run.ConfigureAwait(false);
    }

    private static IRenderable Render(ProgressSnapshot s)
    {
        const int BarWidth = 30;
        var fraction = s.Total > 0 ? Math.Clamp((double)s.Completed / s.Total, 0, 1) : 0;
        var filled = (int)Math.Round(fraction * BarWidth);
        var grid = new Grid().AddColumn().AddColumn();
        grid.AddRow("[bold]step[/]", Markup.Escape(s.Step));
        grid.AddRow("[bold]requests[/]", $"[green]{new string('#', filled)}[/][grey]{new string('-', BarWidth - filled)}[/] {s.Completed}/{s.Total}");
        grid.AddRow("[bold]errors[/]", s.Failed > 0 ? $"[red]{s.Failed}[/]" : "0");
        grid.AddRow("[bold]in flight[/]", s.InFlight.ToString(System.Globalization.CultureInfo.InvariantCulture));
        grid.AddRow("[bold]tokens/s (10 s)[/]", s.TokensPerSecond.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture));
        grid.AddRow("[bold]elapsed[/]", s.ElapsedSeconds.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture) + " s");
        return new Panel(grid).Header("servegate-loadtest").Border(BoxBorder.Rounded);
    }
}

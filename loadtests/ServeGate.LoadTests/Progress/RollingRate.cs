namespace ServeGate.LoadTests.Progress;

/// <summary>A rate over the last <see cref="Window"/> of samples of a growing counter (tokens/s over the last 10 s).</summary>
internal sealed class RollingRate(TimeSpan window)
{
    private readonly Queue<(double Seconds, long Value)> _samples = new();

    public TimeSpan Window { get; } = window;

    /// <summary>Adds the counter's value at <paramref name="seconds"/> and returns the rate over the window.</summary>
    public double Add(double seconds, long value)
    {
        _samples.Enqueue((seconds, value));
        while (_samples.Count > 2 && seconds - _samples.Peek().Seconds > Window.TotalSeconds)
        {
            _samples.Dequeue();
        }

        var (firstSeconds, firstValue) = _samples.Peek();
        return seconds > firstSeconds ? (value - firstValue) / (seconds - firstSeconds) : 0;
    }
}

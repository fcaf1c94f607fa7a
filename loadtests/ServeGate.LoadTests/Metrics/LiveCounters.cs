namespace ServeGate.LoadTests.Metrics;

/// <summary>Counters the progress display reads while a run goes on; updated with <see cref="Interlocked"/> by every request.</summary>
internal sealed class LiveCounters
{
    private long _completed;
    private long _failed;
    private long _inFlight;
    private long _tokens;
    private int _total;
    private volatile string _step = "";

    /// <summary>Finished requests (successful or failed).</summary>
    public long Completed => Interlocked.Read(ref _completed);

    public long Failed => Interlocked.Read(ref _failed);

    public long InFlight => Interlocked.Read(ref _inFlight);

    /// <summary>Output tokens seen so far: streamed content chunks as they arrive, or whole responses' counts.</summary>
    public long Tokens => Interlocked.Read(ref _tokens);

    /// <summary>The most requests the run can send (all steps); it may stop earlier at <c>--duration</c>.</summary>
    public int Total
    {
        get => Volatile.Read(ref _total);
        set => Volatile.Write(ref _total, value);
    }

    /// <summary>The label of the step being run.</summary>
    public string Step
    {
        get => _step;
        set => _step = value;
    }

    public void OnSent() => Interlocked.Increment(ref _inFlight);

    public void OnTokens(int count) => Interlocked.Add(ref _tokens, count);

    public void OnFinished(bool failed)
    {
        Interlocked.Decrement(ref _inFlight);
        Interlocked.Increment(ref _completed);
        if (failed)
        {
            Interlocked.Increment(ref _failed);
        }
    }

    public void OnCancelled() => Interlocked.Decrement(ref _inFlight);
}

namespace ServeGate.Ledger;

/// <summary>A time range cut into equal buckets (aligned to the Unix epoch, UTC), grouped and filtered.</summary>
public sealed record UsageAggregateQuery
{
    /// <summary>Inclusive; records at or after it count.</summary>
    public required DateTimeOffset Start { get; init; }

    /// <summary>Exclusive.</summary>
    public required DateTimeOffset End { get; init; }

    /// <summary>One minute, one hour or one day (what OpenAI's usage API offers as 1m, 1h, 1d).</summary>
    public required TimeSpan BucketWidth { get; init; }

    public UsageGrouping GroupBy { get; init; }

    /// <summary>Only these teams / keys / models when set (empty: all).</summary>
    public IReadOnlyList<string> Teams { get; init; } = [];

    public IReadOnlyList<string> KeyIds { get; init; } = [];

    public IReadOnlyList<string> Models { get; init; } = [];
}

namespace ServeGate.LoadTests.Metrics;

/// <summary>What one finished request measured. Times are milliseconds; timestamps are <see cref="TimeProvider"/> ticks.</summary>
internal sealed record RequestRecord
{
    public required long Index { get; init; }

    /// <summary>When the request was sent and when its last byte (or its error) arrived.</summary>
    public required long StartTimestamp { get; init; }

    public required long EndTimestamp { get; init; }

    /// <summary>Null on success, else one of <see cref="Client.ErrorTypes"/>.</summary>
    public string? ErrorType { get; init; }

    /// <summary>A short description of the error (status and the start of the body, or the exception message).</summary>
    public string? ErrorMessage { get; init; }

    public bool Succeeded => ErrorType is null;

    /// <summary>Time to the first chunk with content; null when not streaming or when no content came.</summary>
    public double? TtftMs { get; init; }

    /// <summary>Gaps between successive content chunks.</summary>
    public IReadOnlyList<double> ItlMs { get; init; } = [];

    public double E2eMs { get; init; }

    /// <summary>Output tokens: the server's <c>completion_tokens</c> when reported, else the content chunks counted.</summary>
    public int OutputTokens { get; init; }

    /// <summary>Prompt tokens: the server's <c>prompt_tokens</c> when reported, else the workload's word count.</summary>
    public int PromptTokens { get; init; }

    /// <summary>The server's <c>prompt_tokens_details.cached_tokens</c>, when it reported usage.</summary>
    public int? CachedTokens { get; init; }

    /// <summary>Whether the server reported usage (prompt and completion tokens).</summary>
    public bool UsageReported { get; init; }

    /// <summary>The client-side concurrency (requests allowed in flight) when this one was sent.</summary>
    public int Concurrency { get; init; }

    /// <summary>(e2e - ttft) / (output_tokens - 1): mean time per output token after the first.</summary>
    public double? TpotMs => Succeeded && TtftMs is { } ttft && OutputTokens > 1 ? (E2eMs - ttft) / (OutputTokens - 1) : null;
}

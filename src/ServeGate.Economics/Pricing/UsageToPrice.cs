namespace ServeGate.Economics.Pricing;

/// <summary>What one request used, as metered: the pricer's input.</summary>
public sealed record UsageToPrice
{
    public required string Model { get; init; }

    /// <summary>The worker pool that served it (<c>local</c> for the in-process worker).</summary>
    public required string Pool { get; init; }

    public long PromptTokens { get; init; }

    public long CachedTokens { get; init; }

    public long CompletionTokens { get; init; }

    /// <summary>The worker's attributed compute seconds.</summary>
    public double ComputeSeconds { get; init; }

    /// <summary>The part of <see cref="ComputeSeconds"/> spent on prompt tokens (the worker's <c>prompt_seconds</c>).</summary>
    public double PromptSeconds { get; init; }
}

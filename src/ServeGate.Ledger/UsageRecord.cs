using System.Text.Json.Serialization;

namespace ServeGate.Ledger;

/// <summary>How a metered request ended.</summary>
public enum UsageOutcome
{
    /// <summary>The response was sent in full.</summary>
    [JsonStringEnumMemberName("completed")]
    Completed,

    /// <summary>The client went away before the response ended; tokens are those generated so far.</summary>
    [JsonStringEnumMemberName("cancelled")]
    Cancelled,

    /// <summary>The request was answered with an error status (4xx/5xx) by the gateway or the worker.</summary>
    [JsonStringEnumMemberName("failed")]
    Failed,
}

/// <summary>
/// What one request through the gateway used and what it cost to serve: the row of the usage ledger. Exactly one is
/// written per request, streaming or not, completed or cancelled.
/// </summary>
public sealed record UsageRecord
{
    public required string RequestId { get; init; }

    /// <summary>When the gateway received the request.</summary>
    public required DateTimeOffset Timestamp { get; init; }

    public required string KeyId { get; init; }

    public required string Team { get; init; }

    public required string Model { get; init; }

    /// <summary>The destination that served the request: <c>local</c> for the in-process worker, else its URL.</summary>
    public required string Worker { get; init; }

    /// <summary>The API path, e.g. <c>/v1/chat/completions</c>.</summary>
    public required string Endpoint { get; init; }

    public bool Stream { get; init; }

    public int PromptTokens { get; init; }

    public int CachedTokens { get; init; }

    public int CompletionTokens { get; init; }

    /// <summary>
    /// True when the token counts are the gateway's estimate (the worker sent no usage, e.g. the client left mid-stream:
    /// completion tokens are the streamed content chunks, prompt tokens the request's bytes / 4).
    /// </summary>
    public bool Estimated { get; init; }

    /// <summary>The worker's attributed compute seconds (0 when it reported none).</summary>
    public double ComputeSeconds { get; init; }

    /// <summary>Gateway-measured time from the request to the end of the response.</summary>
    public double LatencyMs { get; init; }

    /// <summary>Gateway-measured time to the first content byte (streams) or to the response (otherwise); null when nothing was sent.</summary>
    public double? TimeToFirstTokenMs { get; init; }

    /// <summary>The worker's queue wait, when it reported one.</summary>
    public double? QueueMs { get; init; }

    public int HttpStatus { get; init; }

    public UsageOutcome Outcome { get; init; }

    /// <summary>The first choice's finish reason (<c>stop</c>, <c>length</c>), when known.</summary>
    public string? FinishReason { get; init; }

    /// <summary>Price of the request in USD at the configured per-token prices (0 without prices).</summary>
    public decimal CostUsd { get; init; }

    /// <summary>The economics of the request, priced once when the record was written; null when nothing priced it.</summary>
    public UsageCharges? Charges { get; init; }
}

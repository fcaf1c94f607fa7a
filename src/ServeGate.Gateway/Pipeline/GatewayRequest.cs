using Microsoft.AspNetCore.Http;

namespace ServeGate.Gateway.Pipeline;

/// <summary>
/// What the gateway's pipeline learns about one inference request as it passes through it (auth → request reader →
/// limits → route), read back by metering when the response ends. Stored as an <see cref="HttpContext"/> feature.
/// </summary>
internal sealed class GatewayRequest
{
    public required string RequestId { get; init; }

    /// <summary>From <see cref="TimeProvider.GetTimestamp"/> when the request arrived.</summary>
    public required long StartTimestamp { get; init; }

    public required DateTimeOffset ReceivedAt { get; init; }

    public string KeyId { get; set; } = "anonymous";

    public string Team { get; set; } = "anonymous";

    /// <summary>The model named in the body; empty until the body was read.</summary>
    public string Model { get; set; } = string.Empty;

    /// <summary>What <see cref="Worker"/> says for the worker in this process.</summary>
    public const string LocalWorker = "local";

    /// <summary><see cref="LocalWorker"/> for the in-process worker, else the destination's address.</summary>
    public string Worker { get; set; } = LocalWorker;

    /// <summary>The worker pool whose hardware served the request (economics): <see cref="LocalWorker"/>, or the destination's pool.</summary>
    public string Pool { get; set; } = LocalWorker;

    public bool Stream { get; set; }

    /// <summary>Whether the client itself asked for the final usage chunk (<c>stream_options.include_usage</c>).</summary>
    public bool ClientWantsUsage { get; set; }

    /// <summary>The body's size in UTF-8 bytes, for the bytes/4 prompt estimate.</summary>
    public long BodyBytes { get; set; }

    /// <summary><c>max_tokens</c> (or <c>max_completion_tokens</c>) as asked, if any.</summary>
    public int? MaxTokens { get; set; }

    /// <summary>The start of the prompt (or of the concatenated messages), for prefix affinity.</summary>
    public string PromptPrefix { get; set; } = string.Empty;

    /// <summary>What was reserved against rate limits before the request (<c>Limits.LimitReservation</c>); settled after.</summary>
    public object? Reservation { get; set; }

    public static GatewayRequest? Of(HttpContext context) => context.Features.Get<GatewayRequest>();
}

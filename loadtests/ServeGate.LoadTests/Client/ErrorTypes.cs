namespace ServeGate.LoadTests.Client;

/// <summary>The error classes a failed request is counted under (keys of <c>errors_by_type</c> in result.json).</summary>
internal static class ErrorTypes
{
    /// <summary>HTTP 429 Too Many Requests: the server (or ServeGate's limits) refused for load or budget.</summary>
    public const string Http429 = "http_429";

    /// <summary>Any other 4xx status: a bad request, a wrong model name or path, a missing key.</summary>
    public const string Http4xx = "http_4xx";

    /// <summary>A 5xx status.</summary>
    public const string Http5xx = "http_5xx";

    /// <summary>No complete response within <c>--timeout</c>.</summary>
    public const string Timeout = "timeout";

    /// <summary>The connection broke after the response started (stream ended early, reset).</summary>
    public const string Disconnect = "disconnect";

    /// <summary>No response at all: connection refused, unreachable, TLS or DNS failure.</summary>
    public const string Network = "network";

    /// <summary>The server sent an error object inside a 200 stream.</summary>
    public const string StreamError = "stream_error";

    /// <summary>The body was not the JSON or SSE an OpenAI-compatible server sends.</summary>
    public const string InvalidResponse = "invalid_response";

    /// <summary>Every key, in report order; all are always present in <c>errors_by_type</c>.</summary>
    public static IReadOnlyList<string> All { get; } =
        [Http429, Http4xx, Http5xx, Timeout, Disconnect, Network, StreamError, InvalidResponse];

    public static string ForStatus(int status) => status switch
    {
        429 => Http429,
        >= 500 => Http5xx,
        _ => Http4xx,
    };
}

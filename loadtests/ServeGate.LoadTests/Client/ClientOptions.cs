namespace ServeGate.LoadTests.Client;

/// <summary>Which OpenAI endpoint the requests go to.</summary>
internal enum EndpointKind
{
    /// <summary><c>/v1/chat/completions</c> with a messages array.</summary>
    Chat,

    /// <summary><c>/v1/completions</c> with a prompt string.</summary>
    Completions,
}

/// <summary>How every request of a run is sent.</summary>
internal sealed record ClientOptions
{
    /// <summary>Server base address; <c>/v1/...</c> is appended (a trailing <c>/v1</c> is accepted too).</summary>
    public required Uri BaseUrl { get; init; }

    public required string Model { get; init; }

    public EndpointKind Endpoint { get; init; } = EndpointKind.Chat;

    public bool Stream { get; init; } = true;

    /// <summary>Sends <c>"ignore_eos": true</c> (llama-server, vLLM and ServeGate honour it) so every output has its full length.</summary>
    public bool IgnoreEos { get; init; }

    /// <summary>
    /// Sends <c>Connection: close</c>, so every request opens a connection of its own. llama-server (cpp-httplib)
    /// closes reused connections under concurrent streaming load (seen at concurrency 8: 8-12 of 32 requests failed
    /// with "response ended prematurely" on a reused connection, none with new ones).
    /// </summary>
    public bool NoKeepAlive { get; init; }

    /// <summary>Sent as a Bearer token; never logged nor written to a report.</summary>
    public string? ApiKey { get; init; }

    /// <summary>Upper bound for one request, headers to last byte; past it the request counts as a <c>timeout</c> error.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The full request URL.</summary>
    public Uri RequestUri
    {
        get
        {
            var baseText = BaseUrl.AbsoluteUri.TrimEnd('/');
            if (baseText.EndsWith("/v1", StringComparison.OrdinalIgnoreCase))
            {
                baseText = baseText[..^3];
            }

            return new Uri(baseText + (Endpoint == EndpointKind.Chat ? "/v1/chat/completions" : "/v1/completions"));
        }
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using ServeGate.LoadTests.Metrics;
using ServeGate.LoadTests.Workload;

namespace ServeGate.LoadTests.Client;

/// <summary>
/// Sends one OpenAI request and measures it: the time to the first content chunk, the gaps between content
/// chunks and the time to the last byte, read from the server-sent events as they arrive.
/// </summary>
internal sealed class OpenAiClient
{
    private const int MaxErrorBodyChars = 300;

    private readonly HttpClient _http;
    private readonly ClientOptions _options;
    private readonly TimeProvider _time;
    private readonly Uri _requestUri;
    private readonly LiveCounters? _counters;

    /// <summary>A client for one run; <paramref name="counters"/>, if given, counts output tokens as they stream in.</summary>
    public OpenAiClient(HttpClient http, ClientOptions options, TimeProvider time, LiveCounters? counters = null)
    {
        _http = http;
        _options = options;
        _time = time;
        _counters = counters;
        _requestUri = options.RequestUri;
    }

    /// <summary>
    /// An <see cref="HttpClient"/> for a load test: one connection per request in flight, no proxy (the targets
    /// are local servers), no client-wide timeout (each request has its own).
    /// </summary>
    public static HttpClient CreateHttpClient(int maxConnections) =>
        new(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = Math.Max(1, maxConnections),
            PooledConnectionLifetime = TimeSpan.FromMinutes(10),
            ConnectTimeout = TimeSpan.FromSeconds(30),
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.None,
        })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };

    /// <summary>
    /// Sends <paramref name="spec"/> and returns what it measured. Errors, timeouts included, come back as a
    /// record with <see cref="RequestRecord.ErrorType"/>; only cancellation by <paramref name="cancellationToken"/> throws.
    /// </summary>
    public async Task<RequestRecord> SendAsync(RequestSpec spec, int concurrency, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _requestUri)
        {
            Content = new ByteArrayContent(RequestBody.Write(spec, _options)),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        if (_options.NoKeepAlive)
        {
            request.Headers.ConnectionClose = true;
        }

        if (_options.ApiKey is { Length: > 0 } key)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        using var timeout = new CancellationTokenSource(_options.Timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var measurement = new Measurement(spec, concurrency, _time.GetTimestamp(), _time, _counters);
        var headersReceived = false;
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token)
                .ConfigureAwait(false);
            headersReceived = true;
            if (!response.IsSuccessStatusCode)
            {
                var body = await ReadErrorBodyAsync(response, linked.Token).ConfigureAwait(false);
                return measurement.Fail(
                    ErrorTypes.ForStatus((int)response.StatusCode),
                    $"HTTP {(int)response.StatusCode}: {body}",
                    _time.GetTimestamp());
            }

            await using var stream = await response.Content.ReadAsStreamAsync(linked.Token).ConfigureAwait(false);
            return _options.Stream
                ? await ReadStreamAsync(stream, measurement, linked.Token).ConfigureAwait(false)
                : await ReadWholeAsync(stream, measurement, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return measurement.Fail(
                ErrorTypes.Timeout, $"no complete response within {_options.Timeout.TotalSeconds:0.###} s", _time.GetTimestamp());
        }
        catch (JsonException ex)
        {
            return measurement.Fail(ErrorTypes.InvalidResponse, $"invalid JSON: {ex.Message}", _time.GetTimestamp());
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            // Before the headers nothing was answered (refused, unreachable); after them the stream broke.
            var type = headersReceived ? ErrorTypes.Disconnect : ErrorTypes.Network;
            return measurement.Fail(type, Describe(ex), _time.GetTimestamp());
        }
    }

    private async Task<RequestRecord> ReadStreamAsync(Stream stream, Measurement measurement, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, bufferSize: 4096);
        var done = false;
        var events = 0;
        while (!done && await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            // The arrival time is taken before parsing, so JSON work does not count as server latency.
            var arrived = _time.GetTimestamp();
            switch (SseLine.Parse(line, out var data))
            {
                case SseLineKind.Data:
                    events++;
                    var chunk = JsonSerializer.Deserialize(data, WireJsonContext.Default.CompletionPayload);
                    if (chunk?.Error is { } error)
                    {
                        return measurement.Fail(ErrorTypes.StreamError, Truncate(error.GetRawText()), arrived);
                    }

                    measurement.OnChunk(chunk, arrived);
                    break;
                case SseLineKind.Done:
                    done = true;
                    break;
                default:
                    break;
            }
        }

        var end = _time.GetTimestamp();
        if (!done && events == 0)
        {
            return measurement.Fail(ErrorTypes.InvalidResponse, "the response is not a server-sent event stream", end);
        }

        if (!done && !measurement.Finished)
        {
            return measurement.Fail(ErrorTypes.Disconnect, "the stream ended before [DONE] or a finish_reason", end);
        }

        return measurement.Succeed(end);
    }

    private async Task<RequestRecord> ReadWholeAsync(Stream stream, Measurement measurement, CancellationToken cancellationToken)
    {
        var payload = await JsonSerializer.DeserializeAsync(stream, WireJsonContext.Default.CompletionPayload, cancellationToken)
            .ConfigureAwait(false);
        var end = _time.GetTimestamp();
        if (payload?.Error is { } error)
        {
            return measurement.Fail(ErrorTypes.StreamError, Truncate(error.GetRawText()), end);
        }

        if (payload?.Choices is not { Count: > 0 })
        {
            return measurement.Fail(ErrorTypes.InvalidResponse, "the response has no choices", end);
        }

        measurement.OnWhole(payload);
        return measurement.Succeed(end);
    }

    private static async Task<string> ReadErrorBodyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            return Truncate(body.ReplaceLineEndings(" ").Trim());
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            return response.ReasonPhrase ?? "";
        }
    }

    private static string Describe(Exception ex)
    {
        var message = ex.Message;
        for (var inner = ex.InnerException; inner is not null; inner = inner.InnerException)
        {
            message += " (" + inner.Message + ")";
        }

        return Truncate(message);
    }

    private static string Truncate(string text) => text.Length <= MaxErrorBodyChars ? text : text[..MaxErrorBodyChars] + "...";

    /// <summary>The timings and counts of one request while it is read.</summary>
    private sealed class Measurement(RequestSpec spec, int concurrency, long start, TimeProvider time, LiveCounters? counters)
    {
        private readonly List<double> _itl = [];
        private long _lastContent = -1;
        private long _firstContent = -1;
        private int _contentChunks;
        private int _approxWholeTokens;
        private CompletionUsage? _usage;

        /// <summary>A choice carried a finish_reason: the answer is complete even without a [DONE] line.</summary>
        public bool Finished { get; private set; }

        public void OnChunk(CompletionPayload? chunk, long timestamp)
        {
            if (chunk is null)
            {
                return;
            }

            if (chunk.Usage is { } usage)
            {
                _usage = usage;
            }

            if (chunk.Choices is not { Count: > 0 } choices)
            {
                return;
            }

            var choice = choices[0];
            if (choice.FinishReason is { Length: > 0 })
            {
                Finished = true;
            }

            // Role-only and finish-only chunks carry no text and are not tokens.
            if (string.IsNullOrEmpty(choice.Text) &&
                string.IsNullOrEmpty(choice.Delta?.Content) &&
                string.IsNullOrEmpty(choice.Delta?.ReasoningContent))
            {
                return;
            }

            _contentChunks++;
            counters?.OnTokens(1);
            if (_firstContent < 0)
            {
                _firstContent = timestamp;
            }
            else
            {
                _itl.Add(TimeSpanMs(_lastContent, timestamp));
            }

            _lastContent = timestamp;
        }

        public void OnWhole(CompletionPayload payload)
        {
            _usage = payload.Usage;
            var choice = payload.Choices![0];
            var text = choice.Text ?? choice.Message?.Content ?? "";
            _approxWholeTokens = PromptsFileWorkload.CountWords(text + " " + choice.Message?.ReasoningContent);
            Finished = true;
            counters?.OnTokens(_usage?.CompletionTokens ?? _approxWholeTokens);
        }

        public RequestRecord Succeed(long end)
        {
            var usageReported = _usage is { PromptTokens: not null, CompletionTokens: not null };
            return new RequestRecord
            {
                Index = spec.Index,
                Concurrency = concurrency,
                StartTimestamp = start,
                EndTimestamp = end,
                TtftMs = _firstContent >= 0 ? TimeSpanMs(start, _firstContent) : null,
                ItlMs = _itl,
                E2eMs = TimeSpanMs(start, end),
                OutputTokens = _usage?.CompletionTokens ?? (_firstContent >= 0 ? _contentChunks : _approxWholeTokens),
                PromptTokens = _usage?.PromptTokens ?? spec.ApproxPromptTokens,
                CachedTokens = usageReported ? _usage!.PromptTokensDetails?.CachedTokens ?? 0 : null,
                UsageReported = usageReported,
            };
        }

        public RequestRecord Fail(string type, string message, long end) => new()
        {
            Index = spec.Index,
            Concurrency = concurrency,
            StartTimestamp = start,
            EndTimestamp = end,
            ErrorType = type,
            ErrorMessage = message,
            E2eMs = TimeSpanMs(start, end),
            PromptTokens = spec.ApproxPromptTokens,
        };

        private double TimeSpanMs(long from, long to) => time.GetElapsedTime(from, to).TotalMilliseconds;
    }
}

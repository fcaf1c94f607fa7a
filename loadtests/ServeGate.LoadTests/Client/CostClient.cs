using System.Net.Http.Headers;
using System.Text.Json;

namespace ServeGate.LoadTests.Client;

/// <summary>Reads the JSON of a cost URL (ServeGate's economics API) after a run, to embed it in result.json.</summary>
internal static class CostClient
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// ServeGate's costs API (<c>.../organization/costs</c>) without a <c>start_time</c>: the same URL for the run's
    /// window, [start, end + 1 s) in Unix seconds. Any other URL as it is.
    /// </summary>
    public static Uri ForWindow(Uri url, DateTimeOffset start, DateTimeOffset end)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (!url.AbsolutePath.TrimEnd('/').EndsWith("/organization/costs", StringComparison.Ordinal) || url.Query.Contains("start_time=", StringComparison.Ordinal))
        {
            return url;
        }

        var window = FormattableString.Invariant($"start_time={start.ToUnixTimeSeconds()}&end_time={end.ToUnixTimeSeconds() + 1}");
        return new UriBuilder(url) { Query = url.Query.Length > 1 ? url.Query[1..] + "&" + window : window }.Uri;
    }

    /// <summary>The sum of every <c>amount.value</c> of an OpenAI-shaped costs page; null when it is not one.</summary>
    public static decimal? TotalUsd(JsonElement page)
    {
        if (page.ValueKind != JsonValueKind.Object || !page.TryGetProperty("object", out var kind) || kind.GetString() != "page"
            || !page.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        var total = 0m;
        foreach (var bucket in data.EnumerateArray())
        {
            if (bucket.TryGetProperty("results", out var results) && results.ValueKind == JsonValueKind.Array)
            {
                foreach (var r in results.EnumerateArray())
                {
                    if (r.TryGetProperty("amount", out var amount) && amount.TryGetProperty("value", out var value) && value.TryGetDecimal(out var usd))
                    {
                        total += usd;
                    }
                }
            }
        }

        return total;
    }

    /// <summary>The document at <paramref name="url"/>, or null and the reason it could not be read.</summary>
    public static async Task<(JsonElement? Cost, string? Error)> FetchAsync(
        HttpClient http, Uri url, string? apiKey, TimeProvider time, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (apiKey is { Length: > 0 })
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        using var timeout = new CancellationTokenSource(Timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            using var response = await http.SendAsync(request, linked.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return (null, $"GET {url} answered HTTP {(int)response.StatusCode}");
            }

            await using var body = await response.Content.ReadAsStreamAsync(linked.Token).ConfigureAwait(false);
            using var document = await JsonDocument.ParseAsync(body, cancellationToken: linked.Token).ConfigureAwait(false);
            return (document.RootElement.Clone(), null);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return (null, $"GET {url} took longer than {Timeout.TotalSeconds} s");
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or JsonException)
        {
            return (null, $"GET {url} failed: {ex.Message}");
        }
    }
}

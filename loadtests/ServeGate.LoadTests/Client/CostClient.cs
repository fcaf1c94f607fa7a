using System.Net.Http.Headers;
using System.Text.Json;

namespace ServeGate.LoadTests.Client;

/// <summary>Reads the JSON of a cost URL (ServeGate's economics API) after a run, to embed it in result.json.</summary>
internal static class CostClient
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

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

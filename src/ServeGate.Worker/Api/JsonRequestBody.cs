using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using ServeGate.Core.OpenAi;

namespace ServeGate.Worker.Api;

/// <summary>
/// Reads a request body for the API's handlers: at most the configured limit (413 beyond it, also for a body sent
/// chunked), and refused with a 400 naming the field when a string in it is not one (an escaped lone surrogate), which
/// System.Text.Json parses but cannot turn into a .NET string where a handler later reads it.
/// </summary>
internal static class JsonRequestBody
{
    public static async Task<(ReadOnlyMemory<byte> Bytes, ApiError? Error)> ReadAsync(HttpContext http, long limit)
    {
        if (http.Request.ContentLength > limit)
        {
            return (default, TooLarge(limit));
        }

        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = limit;
        }

        var buffer = new MemoryStream();
        try
        {
            await http.Request.Body.CopyToAsync(buffer, http.RequestAborted).ConfigureAwait(false);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (default, TooLarge(limit));
        }

        if (buffer.Length > limit)
        {
            return (default, TooLarge(limit));
        }

        var bytes = buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
        return JsonStringCheck.FindUndecodable(bytes.Span) is { } field
            ? (default, ApiError.InvalidRequest(
                "A string in the request body is not valid Unicode (an escaped lone surrogate such as \\ud800).",
                field.Length == 0 ? null : field))
            : (bytes, null);
    }

    /// <summary>The request field a deserialization error points at (its JSON path without <c>$.</c>), or null for the body itself.</summary>
    public static string? FieldOf(JsonException exception) =>
        string.IsNullOrEmpty(exception.Path) || exception.Path == "$" ? null : exception.Path.TrimStart('$', '.');

    private static ApiError TooLarge(long limit) =>
        new(StatusCodes.Status413PayloadTooLarge, $"The request body is larger than {limit} bytes.", "invalid_request_error", null, "request_too_large");
}

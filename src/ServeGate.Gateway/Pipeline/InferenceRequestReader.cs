using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace ServeGate.Gateway.Pipeline;

/// <summary>
/// Reads the JSON body of a completions (or embeddings) request once: notes model, stream, stream_options and max_tokens in the
/// <see cref="GatewayRequest"/>, and for streams makes sure the worker sends the final usage chunk
/// (<c>stream_options.include_usage = true</c>) so every stream can be metered exactly. The worker then reads the
/// (possibly rewritten) body from memory. A body that is not a JSON object, or holds a string that is not one, is passed
/// on unchanged: the worker answers it with its own 400.
/// </summary>
internal sealed class InferenceRequestReader(RequestDelegate next, IOptions<GatewayOptions> options)
{
    private const int PrefixChars = 256;

    public async Task InvokeAsync(HttpContext context)
    {
        var request = GatewayRequest.Of(context)!;
        var limit = options.Value.MaxRequestBodyBytes;
        if (context.Request.ContentLength > limit)
        {
            await next(context).ConfigureAwait(false); // the worker answers 413 without reading
            return;
        }

        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted).ConfigureAwait(false);
        var bytes = buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
        request.BodyBytes = bytes.Length;
        var rewritten = Inspect(request, bytes.Span, responsesApi: context.Request.Path.Equals("/v1/responses", StringComparison.Ordinal));
        if (context.Request.Path.Equals("/v1/embeddings", StringComparison.Ordinal))
        {
            request.MaxTokens = 0; // input tokens only: nothing to reserve for output against the limits
        }

        var body = rewritten ?? bytes.ToArray();
        context.Request.Body = new MemoryStream(body, writable: false);
        context.Request.ContentLength = body.Length;
        await next(context).ConfigureAwait(false);
    }

    /// <summary>
    /// Fills <paramref name="request"/> from the body; returns a rewritten body, or null to send it as is. A Responses
    /// API stream always ends with its usage (in <c>response.completed</c>) and takes no <c>stream_options</c> for it.
    /// </summary>
    internal static byte[]? Inspect(GatewayRequest request, ReadOnlySpan<byte> body, bool responsesApi = false)
    {
        if (ServeGate.Core.OpenAi.JsonStringCheck.FindUndecodable(body) is not null)
        {
            return null; // a string that is not one (a lone surrogate): the worker answers it with its own 400
        }

        JsonObject? json;
        try
        {
            json = JsonNode.Parse(body) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }

        if (json is null)
        {
            return null;
        }

        request.Model = TryString(json["model"]) ?? string.Empty;
        request.Stream = TryBool(json["stream"]) ?? false;
        request.MaxTokens = TryInt(json["max_tokens"]) ?? TryInt(json["max_completion_tokens"]) ?? TryInt(json["max_output_tokens"]);
        request.PromptPrefix = Prefix(json);
        if (!request.Stream)
        {
            return null;
        }

        if (responsesApi)
        {
            request.ClientWantsUsage = true; // nothing of a Responses stream is the gateway's to hide
            return null;
        }

        var streamOptions = json["stream_options"] as JsonObject;
        request.ClientWantsUsage = TryBool(streamOptions?["include_usage"]) ?? false;
        if (request.ClientWantsUsage)
        {
            return null;
        }

        if (streamOptions is null)
        {
            json["stream_options"] = streamOptions = [];
        }

        streamOptions["include_usage"] = true;
        return Encoding.UTF8.GetBytes(json.ToJsonString());
    }

    private static string Prefix(JsonObject json)
    {
        var text = new StringBuilder();
        if (json["messages"] is JsonArray messages)
        {
            foreach (var message in messages)
            {
                if (message is JsonObject m && TryString(m["content"]) is { } content)
                {
                    text.Append(content).Append('\n');
                }

                if (text.Length >= PrefixChars)
                {
                    break;
                }
            }
        }
        else if ((TryString(json["prompt"]) ?? TryString(json["input"])) is { } prompt)
        {
            text.Append(prompt); // a completion's prompt, or a single embeddings input
        }
        else if (json.ContainsKey("input"))
        {
            // The Responses API: instructions (the system message) first, then the input text.
            text.Append(TryString(json["instructions"])).Append(TryString(json["input"]));
        }

        return text.Length > PrefixChars ? text.ToString(0, PrefixChars) : text.ToString();
    }

    private static string? TryString(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    private static bool? TryBool(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False ? v.GetValue<bool>() : null;

    private static int? TryInt(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<int>(out var i) ? i : null;
}

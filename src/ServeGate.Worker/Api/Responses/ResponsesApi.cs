using System.Buffers;
using System.IO.Pipelines;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using ServeGate.Core.OpenAi;
using ServeGate.Worker.Models;

namespace ServeGate.Worker.Api.Responses;

/// <summary>
/// <c>POST /v1/responses</c>, OpenAI's Responses API, which newer SDKs and agent tools call first. A request is
/// translated into the chat completion that runs it (<see cref="ResponsesRequestTranslator"/>), the chat endpoint runs
/// it in this process into a pipe, and its answer or chunks become the response or the Responses stream events
/// (<see cref="ResponseBuilder"/>). So validation, structured output, tool calls, metering and cancellation are the
/// chat endpoint's, once.
/// </summary>
public static class ResponsesApi
{
    public static IEndpointRouteBuilder MapResponsesApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapPost("/v1/responses", (HttpContext context, ModelRegistry registry, IOptions<WorkerOptions> options, TimeProvider time) =>
            HandleAsync(context, registry, options.Value, time));
        return endpoints;
    }

    private static async Task HandleAsync(HttpContext http, ModelRegistry registry, WorkerOptions options, TimeProvider time)
    {
        var (body, readError) = await ReadBodyAsync(http, options.MaxRequestBodyBytes).ConfigureAwait(false);
        if (readError is not null)
        {
            await OpenAiApi.WriteErrorAsync(http, readError).ConfigureAwait(false);
            return;
        }

        var error = ResponsesRequestTranslator.Translate(body!, out var request);
        if (error is not null)
        {
            await OpenAiApi.WriteErrorAsync(http, error).ConfigureAwait(false);
            return;
        }

        var pipe = new Pipe();
        var inner = InnerChatContext(http, request, pipe.Writer);
        var run = RunChatAsync(inner, registry, options, time, pipe.Writer);
        var builder = new ResponseBuilder(request, "resp_" + RandomNumberGenerator.GetHexString(24, lowercase: true), time.GetUtcNow().ToUnixTimeSeconds(), request.Chat["model"]?.ToString() ?? string.Empty);

        // The chat handler answers an error (or, not streaming, the whole completion) as one JSON body; a stream as
        // text/event-stream, whose content type is set before its first byte.
        var first = await pipe.Reader.ReadAsync(http.RequestAborted).ConfigureAwait(false);
        var streaming = inner.Response.ContentType?.StartsWith("text/event-stream", StringComparison.Ordinal) == true;
        pipe.Reader.AdvanceTo(first.Buffer.Start);
        if (!streaming)
        {
            await run.ConfigureAwait(false);
            var bytes = await ReadAllAsync(pipe.Reader, http.RequestAborted).ConfigureAwait(false);
            await WriteJsonAnswerAsync(http, inner, request, builder, bytes).ConfigureAwait(false);
            return;
        }

        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        var writer = http.Response.BodyWriter;
        foreach (var e in builder.Start())
        {
            Write(writer, e);
        }

        await writer.FlushAsync(http.RequestAborted).ConfigureAwait(false);
        var translation = new ChatStreamTranslation(builder, request);
        await foreach (var data in SseData(pipe.Reader, http.RequestAborted).ConfigureAwait(false))
        {
            foreach (var e in translation.Read(data))
            {
                Write(writer, e);
            }

            await writer.FlushAsync(http.RequestAborted).ConfigureAwait(false);
        }

        foreach (var e in translation.End())
        {
            Write(writer, e);
        }

        await writer.FlushAsync(http.RequestAborted).ConfigureAwait(false);
        await run.ConfigureAwait(false);
    }

    private static DefaultHttpContext InnerChatContext(HttpContext http, ResponsesRequest request, PipeWriter output)
    {
        var inner = new DefaultHttpContext { RequestServices = http.RequestServices, RequestAborted = http.RequestAborted };
        var bytes = JsonSerializer.SerializeToUtf8Bytes(request.Chat, ResponsesJsonContext.Default.JsonObject);
        inner.Request.Method = HttpMethods.Post;
        inner.Request.Path = "/v1/chat/completions";
        inner.Request.ContentType = "application/json";
        inner.Request.ContentLength = bytes.Length;
        inner.Request.Body = new MemoryStream(bytes, writable: false);
        if (http.Request.Headers[FinalUsageRegistry.RequestIdHeader] is [{ Length: > 0 } gatewayId])
        {
            inner.Request.Headers[FinalUsageRegistry.RequestIdHeader] = gatewayId; // the gateway looks a cut-short request up by it
        }

        inner.Features.Set<IHttpResponseBodyFeature>(new PipeResponseBodyFeature(output));
        return inner;
    }

    private static async Task RunChatAsync(HttpContext inner, ModelRegistry registry, WorkerOptions options, TimeProvider time, PipeWriter output)
    {
        try
        {
            await Task.Yield();
            await OpenAiApi.HandleAsync(inner, registry, options, time, chat: true).ConfigureAwait(false);
            await output.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            await output.CompleteAsync(ex).ConfigureAwait(false);
        }
    }

    /// <summary>A whole JSON answer of the chat endpoint: an error (its fields renamed as the Responses API names them) or the completion.</summary>
    private static async Task WriteJsonAnswerAsync(HttpContext http, HttpContext inner, ResponsesRequest request, ResponseBuilder builder, byte[] bytes)
    {
        if (inner.Response.StatusCode != StatusCodes.Status200OK)
        {
            var envelope = JsonSerializer.Deserialize(bytes, OpenAiJson.Context.ErrorEnvelope)!;
            if (inner.Response.Headers.RetryAfter is { Count: > 0 } retry)
            {
                http.Response.Headers.RetryAfter = retry;
            }

            var e = envelope.Error;
            await OpenAiApi.WriteErrorAsync(http, new ApiError(inner.Response.StatusCode, e.Message, e.Type, request.TranslateParam(e.Param), e.Code)).ConfigureAwait(false);
            return;
        }

        var completion = JsonSerializer.Deserialize(bytes, OpenAiJson.Context.ChatCompletionResponse)!;
        var choice = completion.Choices[0];
        _ = builder.Text(choice.Message?.Content ?? string.Empty).Count();
        var calls = choice.Message?.ToolCalls ?? [];
        for (var k = 0; k < calls.Count; k++)
        {
            _ = builder.ToolCallStart(k, calls[k].Id ?? string.Empty, calls[k].Function.Name ?? string.Empty).Count();
            _ = builder.ToolCallArguments(k, calls[k].Function.Arguments ?? string.Empty).Count();
        }

        var done = builder.Finish(choice.FinishReason, completion.Usage).Last();
        await http.Response.WriteAsJsonAsync(done.Response!, OpenAiJson.Context.ResponseObject, contentType: "application/json").ConfigureAwait(false);
    }

    private static void Write(PipeWriter writer, ResponseStreamEvent e)
    {
        writer.Write("event: "u8);
        writer.Write(Encoding.UTF8.GetBytes(e.Type));
        writer.Write("\ndata: "u8);
        using (var json = new Utf8JsonWriter(writer))
        {
            JsonSerializer.Serialize(json, e, OpenAiJson.Context.ResponseStreamEvent);
        }

        writer.Write("\n\n"u8);
    }

    /// <summary>The <c>data:</c> payloads of an SSE stream, as they arrive.</summary>
    private static async IAsyncEnumerable<byte[]> SseData(PipeReader reader, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            while (buffer.PositionOf((byte)'\n') is { } end)
            {
                var line = buffer.Slice(0, end).ToArray();
                buffer = buffer.Slice(buffer.GetPosition(1, end));
                if (line.AsSpan().StartsWith("data: "u8))
                {
                    yield return line[6..];
                }
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                yield break;
            }
        }
    }

    private static async Task<byte[]> ReadAllAsync(PipeReader reader, CancellationToken cancellationToken)
    {
        using var all = new MemoryStream();
        await reader.CopyToAsync(all, cancellationToken).ConfigureAwait(false);
        return all.ToArray();
    }

    private static async Task<(JsonObject? Body, ApiError? Error)> ReadBodyAsync(HttpContext http, long limit)
    {
        var (bytes, readError) = await JsonRequestBody.ReadAsync(http, limit).ConfigureAwait(false);
        if (readError is not null)
        {
            return (null, readError);
        }

        try
        {
            return JsonNode.Parse(bytes.Span) is JsonObject body
                ? (body, null)
                : (null, ApiError.InvalidRequest("The request body must be a JSON object."));
        }
        catch (JsonException)
        {
            return (null, ApiError.InvalidRequest("We could not parse the JSON body of your request. The body must be a JSON object."));
        }
    }
}

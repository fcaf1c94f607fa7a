using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using ServeGate.Core.OpenAi;

namespace ServeGate.Worker.Api;

/// <summary>Writes server-sent events (<c>data: {json}\n\n</c>) straight into the response pipe and flushes each one.</summary>
internal sealed class SseWriter(PipeWriter pipe)
{
    private readonly Utf8JsonWriter _json = new(pipe, new JsonWriterOptions { SkipValidation = true });

    public ValueTask<FlushResult> WriteAsync(object chunk, CancellationToken cancellationToken)
    {
        pipe.Write("data: "u8);
        _json.Reset(pipe);
        switch (chunk)
        {
            case ChatCompletionChunk chat:
                JsonSerializer.Serialize(_json, chat, OpenAiJson.Context.ChatCompletionChunk);
                break;
            case CompletionResponse completion:
                JsonSerializer.Serialize(_json, completion, OpenAiJson.Context.CompletionResponse);
                break;
            default:
                throw new ArgumentException($"Not an OpenAI chunk: {chunk.GetType().Name}", nameof(chunk));
        }

        _json.Flush();
        pipe.Write("\n\n"u8);
        return pipe.FlushAsync(cancellationToken);
    }

    public ValueTask<FlushResult> WriteErrorAsync(ApiError error, CancellationToken cancellationToken)
    {
        pipe.Write("data: "u8);
        _json.Reset(pipe);
        JsonSerializer.Serialize(_json, error.ToEnvelope(), OpenAiJson.Context.ErrorEnvelope);
        _json.Flush();
        pipe.Write("\n\n"u8);
        return pipe.FlushAsync(cancellationToken);
    }

    public ValueTask<FlushResult> WriteDoneAsync(CancellationToken cancellationToken)
    {
        pipe.Write("data: [DONE]\n\n"u8);
        return pipe.FlushAsync(cancellationToken);
    }
}

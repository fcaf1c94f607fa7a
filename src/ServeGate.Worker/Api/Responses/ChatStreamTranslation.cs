using System.Text.Json;
using ServeGate.Core.OpenAi;

namespace ServeGate.Worker.Api.Responses;

/// <summary>
/// Reads the chat endpoint's stream chunk by chunk (content deltas, tool-call fragments, the finish reason, the usage
/// chunk, an error chunk, <c>[DONE]</c>) and hands each to the <see cref="ResponseBuilder"/> for its Responses events.
/// The response ends when the usage chunk (which follows the finish reason) or <c>[DONE]</c> arrives.
/// </summary>
internal sealed class ChatStreamTranslation(ResponseBuilder builder, ResponsesRequest request)
{
    private string? _finishReason;
    private bool _ended;

    public IEnumerable<ResponseStreamEvent> Read(byte[] data)
    {
        if (_ended)
        {
            return [];
        }

        if (data.AsSpan().SequenceEqual("[DONE]"u8))
        {
            return End();
        }

        using var document = JsonDocument.Parse(data);
        var root = document.RootElement;
        if (root.TryGetProperty("error", out var error))
        {
            _ended = true;
            var envelope = JsonSerializer.Deserialize(root, OpenAiJson.Context.ErrorEnvelope)!;
            return [.. builder.Fail(new ApiError(500, envelope.Error.Message, envelope.Error.Type, request.TranslateParam(envelope.Error.Param), envelope.Error.Code))];
        }

        var events = new List<ResponseStreamEvent>();
        if (root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array)
        {
            foreach (var choice in choices.EnumerateArray())
            {
                ReadChoice(choice, events);
            }
        }

        if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
        {
            _ended = true;
            events.AddRange(builder.Finish(_finishReason, usage.Deserialize(OpenAiJson.Context.Usage)));
        }

        return events;
    }

    /// <summary>The chat stream ended: a response not finished by its usage chunk ends now (failed when nothing finished it).</summary>
    public IEnumerable<ResponseStreamEvent> End()
    {
        if (_ended)
        {
            return [];
        }

        _ended = true;
        return _finishReason is null
            ? builder.Fail(ApiError.Internal("The generation ended before it finished."))
            : builder.Finish(_finishReason, null);
    }

    private void ReadChoice(JsonElement choice, List<ResponseStreamEvent> events)
    {
        if (choice.TryGetProperty("delta", out var delta) && delta.ValueKind == JsonValueKind.Object)
        {
            if (delta.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String)
            {
                events.AddRange(builder.Text(content.GetString()!));
            }

            if (delta.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
            {
                foreach (var call in calls.EnumerateArray())
                {
                    var index = call.TryGetProperty("index", out var i) && i.TryGetInt32(out var k) ? k : 0;
                    var function = call.TryGetProperty("function", out var f) ? f : default;
                    if (call.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String)
                    {
                        var name = function.ValueKind == JsonValueKind.Object && function.TryGetProperty("name", out var n) ? n.GetString() : null;
                        events.AddRange(builder.ToolCallStart(index, id.GetString()!, name ?? string.Empty));
                    }

                    if (function.ValueKind == JsonValueKind.Object && function.TryGetProperty("arguments", out var arguments) && arguments.ValueKind == JsonValueKind.String)
                    {
                        events.AddRange(builder.ToolCallArguments(index, arguments.GetString()!));
                    }
                }
            }
        }

        if (choice.TryGetProperty("finish_reason", out var finish) && finish.ValueKind == JsonValueKind.String)
        {
            _finishReason = finish.GetString();
        }
    }
}

using System.Buffers;
using System.Text.Json;
using ServeGate.Core.OpenAi;

namespace ServeGate.Gateway.Metering;

/// <summary>
/// What a response told about its usage, gathered as it passed through: the worker's usage object (exact), else the
/// number of content chunks streamed (the estimate for a stream cut short), the finish reason and when the first
/// content left.
/// </summary>
internal sealed class ResponseUsage
{
    public Usage? Usage { get; private set; }

    /// <summary>Streamed chunks that carried content (one token each, or a few when a UTF-8 character spans tokens).</summary>
    public int ContentChunks { get; private set; }

    public string? FinishReason { get; private set; }

    public long? FirstContentTimestamp { get; set; }

    /// <summary>The usage the worker reported after the response was cut short (see <see cref="WorkerUsageLookup"/>).</summary>
    public void Settle(Usage usage) => Usage = usage;

    /// <summary>
    /// Reads one SSE <c>data:</c> payload; true when it is the final usage chunk (choices empty, usage set). Runs once
    /// per streamed token, so it walks the JSON with a <see cref="Utf8JsonReader"/> and allocates nothing but the
    /// usage object and a finish reason.
    /// </summary>
    public bool ReadChunk(ReadOnlySpan<byte> json, long now)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            var hasChoices = false;
            var choiceCount = 0;
            Usage? usage = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("choices"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartArray)
                    {
                        reader.Skip();
                        continue;
                    }

                    hasChoices = true;
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        choiceCount++;
                        ReadChoice(ref reader, now);
                    }
                }
                else if (reader.ValueTextEquals("usage"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartObject)
                    {
                        usage = JsonSerializer.Deserialize(ref reader, OpenAiJson.Context.Usage);
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
                else if (reader.ValueTextEquals("type"u8))
                {
                    // The Responses API's events: a text or arguments delta is a content chunk.
                    reader.Read();
                    if (reader.ValueTextEquals("response.output_text.delta"u8) || reader.ValueTextEquals("response.function_call_arguments.delta"u8))
                    {
                        ContentChunks++;
                        FirstContentTimestamp ??= now;
                    }
                }
                else if (reader.ValueTextEquals("response"u8))
                {
                    // The Responses API's lifecycle events: the last (completed or incomplete) carries the usage and status.
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartObject)
                    {
                        ReadResponseObject(JsonSerializer.Deserialize(ref reader, OpenAiJson.Context.ResponseObject));
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
                else
                {
                    reader.Skip();
                }
            }

            if (usage is not null)
            {
                Usage = usage;
                return !hasChoices || choiceCount == 0;
            }
        }
        catch (JsonException)
        {
            // Not JSON (or cut): forwarded untouched, metered by what else is known.
        }

        return false;
    }

    /// <summary>One element of <c>choices</c> (the reader is on its start): content (<c>text</c> or <c>delta.content</c>) and finish reason.</summary>
    private void ReadChoice(ref Utf8JsonReader reader, long now)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        var content = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("text"u8))
            {
                reader.Read();
                content |= IsNonEmptyString(ref reader);
            }
            else if (reader.ValueTextEquals("delta"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    reader.Skip();
                    continue;
                }

                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("content"u8))
                    {
                        reader.Read();
                        content |= IsNonEmptyString(ref reader);
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
            }
            else if (reader.ValueTextEquals("finish_reason"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String)
                {
                    FinishReason ??= reader.GetString();
                }
            }
            else
            {
                reader.Skip();
            }
        }

        if (content)
        {
            ContentChunks++;
            FirstContentTimestamp ??= now;
        }
    }

    /// <summary>A Responses API response: its usage in the chat shape, and its end as a finish reason.</summary>
    private void ReadResponseObject(ResponseObject? response)
    {
        if (response?.Usage is { } usage)
        {
            Usage = usage.ToUsage();
        }

        FinishReason ??= response?.Status switch
        {
            "completed" => response.Output.Any(o => o.Type == "function_call") ? "tool_calls" : "stop",
            "incomplete" => "length",
            _ => null,
        };
    }

    private static bool IsNonEmptyString(ref Utf8JsonReader reader) =>
        reader.TokenType == JsonTokenType.String && (reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length) > 0;

    /// <summary>Reads a whole non-streaming body.</summary>
    public void ReadBody(ReadOnlySequence<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return;
            }

            if (root.TryGetProperty("object", out var kind) && kind.ValueKind == JsonValueKind.String && kind.GetString() == "response")
            {
                ReadResponseObject(root.Deserialize(OpenAiJson.Context.ResponseObject));
                return;
            }

            if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
            {
                Usage = usage.Deserialize(OpenAiJson.Context.Usage);
            }

            if (root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array && choices.GetArrayLength() > 0
                && choices[0].TryGetProperty("finish_reason", out var finish) && finish.ValueKind == JsonValueKind.String)
            {
                FinishReason = finish.GetString();
            }
        }
        catch (JsonException)
        {
        }
    }
}

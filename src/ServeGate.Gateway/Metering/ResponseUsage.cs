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

    /// <summary>Reads one SSE <c>data:</c> payload; true when it is the final usage chunk (choices empty, usage set).</summary>
    public bool ReadChunk(ReadOnlySpan<byte> json, long now)
    {
        try
        {
            using var document = JsonDocument.Parse(json.ToArray());
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return false;
            }

            var hasChoices = root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array;
            if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
            {
                Usage = usage.Deserialize(OpenAiJson.Context.Usage);
                if (!hasChoices || choices.GetArrayLength() == 0)
                {
                    return true;
                }
            }

            if (hasChoices)
            {
                foreach (var choice in choices.EnumerateArray())
                {
                    if (HasContent(choice))
                    {
                        ContentChunks++;
                        FirstContentTimestamp ??= now;
                    }

                    if (choice.TryGetProperty("finish_reason", out var finish) && finish.ValueKind == JsonValueKind.String)
                    {
                        FinishReason ??= finish.GetString();
                    }
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON (or cut): forwarded untouched, metered by what else is known.
        }

        return false;
    }

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

    private static bool HasContent(JsonElement choice)
    {
        if (choice.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String && text.GetStringLength() > 0)
        {
            return true;
        }

        return choice.TryGetProperty("delta", out var delta) && delta.ValueKind == JsonValueKind.Object
            && delta.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String && content.GetStringLength() > 0;
    }
}

internal static class JsonElementExtensions
{
    public static int GetStringLength(this JsonElement element) => element.GetString()?.Length ?? 0;
}

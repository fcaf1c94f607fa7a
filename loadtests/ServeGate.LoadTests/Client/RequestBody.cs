using System.Buffers;
using System.Text.Json;
using ServeGate.LoadTests.Workload;

namespace ServeGate.LoadTests.Client;

/// <summary>Writes the JSON body of a completions or chat request.</summary>
internal static class RequestBody
{
    public static byte[] Write(RequestSpec spec, ClientOptions options)
    {
        var buffer = new ArrayBufferWriter<byte>(256 + ((spec.Prompt?.Length ?? spec.MessagesJson?.Length ?? 0) * 11 / 10));
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("model"u8, options.Model);
            if (options.Endpoint == EndpointKind.Chat)
            {
                json.WritePropertyName("messages"u8);
                if (spec.MessagesJson is { } messages)
                {
                    json.WriteRawValue(messages, skipInputValidation: true);
                }
                else
                {
                    json.WriteStartArray();
                    json.WriteStartObject();
                    json.WriteString("role"u8, "user"u8);
                    json.WriteString("content"u8, spec.Prompt);
                    json.WriteEndObject();
                    json.WriteEndArray();
                }
            }
            else
            {
                json.WriteString("prompt"u8, spec.Prompt);
            }

            json.WriteNumber("max_tokens"u8, spec.MaxTokens);
            json.WriteBoolean("stream"u8, options.Stream);
            if (options.Stream)
            {
                // Asks for the usage chunk at the end: exact prompt, completion and cached token counts.
                json.WriteStartObject("stream_options"u8);
                json.WriteBoolean("include_usage"u8, true);
                json.WriteEndObject();
            }

            if (options.IgnoreEos)
            {
                json.WriteBoolean("ignore_eos"u8, true);
            }

            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}

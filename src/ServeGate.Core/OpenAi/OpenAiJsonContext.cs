using System.Text.Json.Serialization;

namespace ServeGate.Core.OpenAi;

/// <summary>Source-generated serializers for every OpenAI payload ServeGate reads or writes (snake_case, nulls omitted unless marked).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    AllowTrailingCommas = false,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Disallow)]
[JsonSerializable(typeof(CompletionRequestBody))]
[JsonSerializable(typeof(EmbeddingRequestBody))]
[JsonSerializable(typeof(ModelList))]
[JsonSerializable(typeof(CompletionResponse))]
[JsonSerializable(typeof(ChatCompletionResponse))]
[JsonSerializable(typeof(ChatCompletionChunk))]
[JsonSerializable(typeof(ErrorEnvelope))]
[JsonSerializable(typeof(Usage))]
[JsonSerializable(typeof(ResponseObject))]
[JsonSerializable(typeof(ResponseStreamEvent))]
[JsonSerializable(typeof(ResponsesUsage))]
public sealed partial class OpenAiJsonContext : JsonSerializerContext;

/// <summary>The serializers ServeGate writes with.</summary>
public static class OpenAiJson
{
    /// <summary>
    /// <see cref="OpenAiJsonContext"/> writing non-ASCII text as UTF-8 rather than <c>\u</c> escapes, as OpenAI does: an
    /// accented or CJK token costs its bytes, not six per character. These payloads are JSON for API clients, never
    /// embedded in HTML, so HTML-sensitive characters need no escaping.
    /// </summary>
    public static OpenAiJsonContext Context { get; } = new(new System.Text.Json.JsonSerializerOptions(OpenAiJsonContext.Default.Options)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        TypeInfoResolver = null,
    });
}

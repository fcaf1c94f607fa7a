using System.Text.Json.Serialization;

namespace ServeGate.Core.OpenAi;

/// <summary>Source-generated serializers for every OpenAI payload ServeGate reads or writes (snake_case, nulls omitted unless marked).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    AllowTrailingCommas = false,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Disallow)]
[JsonSerializable(typeof(CompletionRequestBody))]
[JsonSerializable(typeof(ModelList))]
[JsonSerializable(typeof(CompletionResponse))]
[JsonSerializable(typeof(ChatCompletionResponse))]
[JsonSerializable(typeof(ChatCompletionChunk))]
[JsonSerializable(typeof(ErrorEnvelope))]
[JsonSerializable(typeof(Usage))]
public sealed partial class OpenAiJsonContext : JsonSerializerContext;

using System.Text.Json;
using System.Text.Json.Serialization;

namespace ServeGate.LoadTests.Client;

// The parts of OpenAI responses the load tester reads. One shape serves streamed chunks and whole responses of
// both endpoints: chat puts text in choices[].delta / choices[].message, completions in choices[].text.
// Unknown fields (llama-server's "timings", vLLM's extras) are ignored.

/// <summary>A streamed chunk or a whole (non-streamed) response.</summary>
internal sealed class CompletionPayload
{
    public List<CompletionChoice>? Choices { get; set; }

    public CompletionUsage? Usage { get; set; }

    /// <summary>An error object or string that some servers send inside the stream instead of an HTTP status.</summary>
    public JsonElement? Error { get; set; }
}

internal sealed class CompletionChoice
{
    public string? Text { get; set; }

    public CompletionDelta? Delta { get; set; }

    public CompletionDelta? Message { get; set; }

    public string? FinishReason { get; set; }
}

internal sealed class CompletionDelta
{
    public string? Content { get; set; }

    /// <summary>Reasoning models (vLLM, llama-server) stream their thinking here before content; it counts as output.</summary>
    public string? ReasoningContent { get; set; }
}

internal sealed class CompletionUsage
{
    public int? PromptTokens { get; set; }

    public int? CompletionTokens { get; set; }

    public PromptTokensDetails? PromptTokensDetails { get; set; }
}

internal sealed class PromptTokensDetails
{
    public int? CachedTokens { get; set; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(CompletionPayload))]
internal sealed partial class WireJsonContext : JsonSerializerContext;

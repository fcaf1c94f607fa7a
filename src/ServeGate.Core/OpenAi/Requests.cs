using System.Text.Json;
using System.Text.Json.Serialization;

namespace ServeGate.Core.OpenAi;

/// <summary>
/// The fields of <c>POST /v1/completions</c> and <c>POST /v1/chat/completions</c> that ServeGate reads. Fields whose
/// JSON type varies (prompt, stop, content) stay <see cref="JsonElement"/> and are interpreted by the validator;
/// every other field lands in <see cref="Extra"/>, where the worker's field table accepts it (a no-op value) or refuses it.
/// </summary>
public sealed class CompletionRequestBody
{
    public string? Model { get; set; }

    /// <summary>Completions: a string, an array of strings, an array of token ids, or an array of such arrays.</summary>
    public JsonElement Prompt { get; set; }

    /// <summary>Chat: the conversation.</summary>
    public List<ChatMessageBody>? Messages { get; set; }

    public int? MaxTokens { get; set; }

    public int? MaxCompletionTokens { get; set; }

    public float? Temperature { get; set; }

    public float? TopP { get; set; }

    public int? TopK { get; set; }

    public float? MinP { get; set; }

    public long? Seed { get; set; }

    /// <summary>A string or an array of up to 4 strings.</summary>
    public JsonElement Stop { get; set; }

    public bool? Stream { get; set; }

    public StreamOptionsBody? StreamOptions { get; set; }

    public int? N { get; set; }

    public float? PresencePenalty { get; set; }

    public float? FrequencyPenalty { get; set; }

    /// <summary>Completions: an integer (top alternatives); chat: a boolean.</summary>
    public JsonElement Logprobs { get; set; }

    public int? TopLogprobs { get; set; }

    public string? User { get; set; }

    public bool? Echo { get; set; }

    /// <summary>llama-server's extension: never stop on end-of-generation tokens (fixed-length benchmark output).</summary>
    public bool? IgnoreEos { get; set; }

    /// <summary><c>{"type": "text" | "json_object" | "json_schema", "json_schema": {...}}</c>; an extension on completions.</summary>
    public JsonElement ResponseFormat { get; set; }

    /// <summary>llama-server's extension: a GBNF grammar (root rule <c>root</c>) the output must match.</summary>
    public JsonElement Grammar { get; set; }

    /// <summary>An object from token id (a string) to a bias from -100 to 100.</summary>
    public JsonElement LogitBias { get; set; }

    /// <summary>Chat: an array of <c>{"type": "function", "function": {"name", "description", "parameters", "strict"}}</c>.</summary>
    public JsonElement Tools { get; set; }

    /// <summary>Chat: <c>"none"</c>, <c>"auto"</c>, <c>"required"</c> or <c>{"type": "function", "function": {"name"}}</c>.</summary>
    public JsonElement ToolChoice { get; set; }

    public bool? ParallelToolCalls { get; set; }

    /// <summary>Fields ServeGate does not read into a property: never ignored silently (see the worker's RequestFields).</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; set; }
}

public sealed class StreamOptionsBody
{
    public bool? IncludeUsage { get; set; }

    /// <summary>Other stream options (e.g. include_obfuscation), checked like the body's own extra fields.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; set; }
}

/// <summary>The body of <c>POST /v1/embeddings</c>.</summary>
public sealed class EmbeddingRequestBody
{
    public string? Model { get; set; }

    /// <summary>A string, an array of strings, an array of token ids, or an array of such arrays.</summary>
    public JsonElement Input { get; set; }

    /// <summary><c>float</c> (default) or <c>base64</c> (little-endian float32).</summary>
    public string? EncodingFormat { get; set; }

    public int? Dimensions { get; set; }

    public string? User { get; set; }

    /// <summary>Fields ServeGate does not know: refused.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; set; }
}

public sealed class ChatMessageBody
{
    public string? Role { get; set; }

    /// <summary>A string, or an array of content parts of which the text parts are used.</summary>
    public JsonElement Content { get; set; }

    public string? Name { get; set; }

    /// <summary>Assistant messages: the calls it made (its content may then be null).</summary>
    public JsonElement ToolCalls { get; set; }

    /// <summary>Tool messages: the id of the call this message answers.</summary>
    public string? ToolCallId { get; set; }
}

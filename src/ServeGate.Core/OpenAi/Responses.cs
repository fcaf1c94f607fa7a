using System.Text.Json.Serialization;

namespace ServeGate.Core.OpenAi;

public sealed class ModelList
{
    public string Object { get; init; } = "list";

    public required IReadOnlyList<ModelCard> Data { get; init; }
}

/// <summary>An OpenAI model object plus what ServeGate knows of it.</summary>
public sealed class ModelCard
{
    public required string Id { get; init; }

    public string Object { get; init; } = "model";

    public long Created { get; init; }

    public string OwnedBy { get; init; } = "servegate";

    /// <summary><c>base</c> (text completion) or <c>instruct</c> (chat).</summary>
    public required string Kind { get; init; }

    public int ContextLength { get; init; }

    /// <summary>llama.cpp's name of the weights' type, e.g. "Q4_K - Medium".</summary>
    public string? Quantization { get; init; }

    public ulong? Parameters { get; init; }

    public ulong? SizeBytes { get; init; }

    /// <summary><c>loading</c>, <c>ready</c> or <c>failed</c>.</summary>
    public string? Status { get; init; }
}

public sealed class Usage
{
    public int PromptTokens { get; init; }

    public int CompletionTokens { get; init; }

    public int TotalTokens { get; init; }

    public PromptTokensDetails PromptTokensDetails { get; init; } = new();

    /// <summary>ServeGate's metering of this request (ignored by OpenAI clients): what the cost ledger prices.</summary>
    [JsonPropertyName("servegate")]
    public UsageMetering? Metering { get; init; }
}

public sealed class PromptTokensDetails
{
    public int CachedTokens { get; init; }
}

/// <summary>Timing and attributed compute of one request, as measured by the worker's scheduler.</summary>
public sealed class UsageMetering
{
    public double QueueMs { get; init; }

    public double TimeToFirstTokenMs { get; init; }

    public double DurationMs { get; init; }

    /// <summary>Each decode step's wall time split across its sequences in proportion to the tokens each contributed.</summary>
    public double ComputeSeconds { get; init; }

    /// <summary>The part of <see cref="ComputeSeconds"/> spent computing prompt tokens: what a cached prompt token saves is priced from it.</summary>
    public double PromptSeconds { get; init; }
}

public sealed class CompletionResponse
{
    public required string Id { get; init; }

    public string Object { get; init; } = "text_completion";

    public long Created { get; init; }

    public required string Model { get; init; }

    public required IReadOnlyList<CompletionChoice> Choices { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public Usage? Usage { get; init; }

    public string? SystemFingerprint { get; init; }
}

public sealed class CompletionChoice
{
    public int Index { get; init; }

    public string Text { get; init; } = string.Empty;

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public CompletionLogprobs? Logprobs { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? FinishReason { get; init; }
}

/// <summary>The legacy completions logprobs object.</summary>
public sealed class CompletionLogprobs
{
    public required IReadOnlyList<string> Tokens { get; init; }

    public required IReadOnlyList<float> TokenLogprobs { get; init; }

    public required IReadOnlyList<Dictionary<string, float>> TopLogprobs { get; init; }

    public required IReadOnlyList<int> TextOffset { get; init; }
}

public sealed class ChatCompletionResponse
{
    public required string Id { get; init; }

    public string Object { get; init; } = "chat.completion";

    public long Created { get; init; }

    public required string Model { get; init; }

    public required IReadOnlyList<ChatChoice> Choices { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public Usage? Usage { get; init; }

    public string? SystemFingerprint { get; init; }
}

public sealed class ChatChoice
{
    public int Index { get; init; }

    public ChatResponseMessage? Message { get; init; }

    public ChatMessageOut? Delta { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public ChatLogprobs? Logprobs { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? FinishReason { get; init; }
}

/// <summary>A streamed delta: only the fields that changed are written.</summary>
public sealed class ChatMessageOut
{
    public string? Role { get; init; }

    public string? Content { get; init; }

    public string? Refusal { get; init; }

    /// <summary>Streamed tool calls: the first fragment of a call carries its id, type and name, later ones arguments.</summary>
    public IReadOnlyList<ChatToolCall>? ToolCalls { get; init; }
}

/// <summary>A complete assistant message: <c>content</c> is written even when null (a message of tool calls only).</summary>
public sealed class ChatResponseMessage
{
    public string Role { get; init; } = "assistant";

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? Content { get; init; }

    public string? Refusal { get; init; }

    public IReadOnlyList<ChatToolCall>? ToolCalls { get; init; }
}

/// <summary>One function call of an assistant message or (with <see cref="Index"/>) a fragment of one in a stream.</summary>
public sealed class ChatToolCall
{
    /// <summary>Streaming only: which call of the message this fragment belongs to.</summary>
    public int? Index { get; init; }

    public string? Id { get; init; }

    public string? Type { get; init; }

    public required ChatFunctionCall Function { get; init; }
}

public sealed class ChatFunctionCall
{
    public string? Name { get; init; }

    /// <summary>The arguments as a JSON text (a string, as OpenAI sends them).</summary>
    public string? Arguments { get; init; }
}

public sealed class ChatLogprobs
{
    public required IReadOnlyList<ChatTokenLogprob> Content { get; init; }
}

public sealed class ChatTokenLogprob
{
    public required string Token { get; init; }

    public float Logprob { get; init; }

    public IReadOnlyList<int>? Bytes { get; init; }

    public IReadOnlyList<ChatTopLogprob> TopLogprobs { get; init; } = [];
}

public sealed class ChatTopLogprob
{
    public required string Token { get; init; }

    public float Logprob { get; init; }

    public IReadOnlyList<int>? Bytes { get; init; }
}

public sealed class ChatCompletionChunk
{
    public required string Id { get; init; }

    public string Object { get; init; } = "chat.completion.chunk";

    public long Created { get; init; }

    public required string Model { get; init; }

    public required IReadOnlyList<ChatChoice> Choices { get; init; }

    public Usage? Usage { get; init; }
}

using ServeGate.LlamaCpp;
using ServeGate.LlamaCpp.Native;

namespace ServeGate.Worker.Inference;

/// <summary>One sequence to generate: a tokenized prompt and how to continue it.</summary>
public sealed record GenerationRequest
{
    public required string RequestId { get; init; }

    public required LlamaToken[] Prompt { get; init; }

    public required int MaxTokens { get; init; }

    public required SamplingSettings Sampling { get; init; }

    public IReadOnlyList<string> Stop { get; init; } = [];

    /// <summary>Do not stop on end-of-generation tokens (they are never sampled): fixed-length output for benchmarks.</summary>
    public bool IgnoreEos { get; init; }

    /// <summary>How many alternatives to report per token with its log-probability; null: no logprobs.</summary>
    public int? TopLogprobs { get; init; }
}

/// <summary>What a generation reports while it runs and when it ends.</summary>
public abstract record GenerationEvent;

/// <summary>New text (never a partial UTF-8 character or a partial stop sequence) and the tokens it came from.</summary>
public sealed record TextDelta(string Text, int Tokens, IReadOnlyList<TokenLogprob>? Logprobs) : GenerationEvent;

/// <summary>The generation ended; <see cref="GenerationResult.Error"/> is set when it failed.</summary>
public sealed record GenerationCompleted(GenerationResult Result) : GenerationEvent;

/// <summary>A sampled token's log-probability and the most likely alternatives.</summary>
public sealed record TokenLogprob(string Token, byte[] Bytes, float Logprob, IReadOnlyList<(string Token, byte[] Bytes, float Logprob)> Top);

/// <summary>Why generation stopped.</summary>
public enum FinishReason
{
    /// <summary>End-of-generation token or a stop sequence.</summary>
    Stop,

    /// <summary>max_tokens or the context limit.</summary>
    Length,

    /// <summary>The client went away or the request was cancelled.</summary>
    Cancelled,

    /// <summary>The scheduler could not run it (see the error).</summary>
    Error,
}

/// <summary>Tokens, timing and attributed compute of one finished generation: what metering and the cost ledger use.</summary>
public sealed record GenerationResult
{
    public required FinishReason FinishReason { get; init; }

    public int PromptTokens { get; init; }

    public int CachedTokens { get; init; }

    public int CompletionTokens { get; init; }

    public double QueueMs { get; init; }

    public double TimeToFirstTokenMs { get; init; }

    public double DurationMs { get; init; }

    public double ComputeSeconds { get; init; }

    /// <summary>The part of <see cref="ComputeSeconds"/> spent on prompt tokens (prefill).</summary>
    public double PromptSeconds { get; init; }

    public string? Error { get; init; }

    /// <summary>The generated token ids, in order (the last one is never in the KV cache: it was not fed back).</summary>
    public IReadOnlyList<LlamaToken> CompletionTokenIds { get; init; } = [];
}

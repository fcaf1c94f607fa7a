using ServeGate.LlamaCpp;
using ServeGate.LlamaCpp.Native;

namespace ServeGate.Worker.Inference;

/// <summary>Inputs to embed together (one OpenAI embeddings request) and how to pool each input's token vectors.</summary>
public sealed record EmbeddingRequest
{
    public required IReadOnlyList<LlamaToken[]> Inputs { get; init; }

    public LlamaPoolingType Pooling { get; init; } = LlamaPoolingType.Mean;
}

/// <summary>Each input's L2-normalized vector, in input order, with the tokens, timing and compute metering prices.</summary>
public sealed record EmbeddingResult
{
    public IReadOnlyList<float[]> Vectors { get; init; } = [];

    public int PromptTokens { get; init; }

    public double QueueMs { get; init; }

    public double DurationMs { get; init; }

    public double ComputeSeconds { get; init; }

    /// <summary>Set when the request did not complete: cancelled, or the scheduler stopped or failed.</summary>
    public string? Error { get; init; }
}

using System.Numerics.Tensors;
using ServeGate.Core.Numerics;
using ServeGate.LlamaCpp;
using ServeGate.LlamaCpp.Native;

namespace ServeGate.Worker.Inference;

/// <summary>
/// One sequence's sampler: its own settings, seed and state, so a request's output does not depend on what is batched
/// beside it. The two settings most requests use, greedy and temperature alone (OpenAI's default: top_p 1, no top_k,
/// min_p or penalties), are sampled here with vector math over the logits row; every other combination goes through
/// llama.cpp's sampler chain (<see cref="LlamaSampler"/>). The chain copies the whole vocabulary into a candidate array
/// and takes a scalar exp of each entry: 0.45 ms per sequence per step for SmolLM2's 49,152 tokens on the 2-core
/// benchmark machine, 3.7 ms of a 29 ms step at concurrency 8, while the second compute thread waits
/// (docs/architecture.md, "Sampling in vector code").
/// </summary>
public abstract class TokenSampler : IDisposable
{
    /// <summary>The sampler for <paramref name="settings"/>: vectorized where the settings allow it, else llama.cpp's chain.</summary>
    public static TokenSampler Create(LlamaModel model, SamplingSettings settings)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(settings);
        var plain = settings.PresencePenalty == 0f && settings.FrequencyPenalty == 0f;
        var temperatureOnly = settings.TopK <= 0 && settings.TopP >= 1f && settings.MinP <= 0f;
        TokenSampler sampler = plain && (settings.IsGreedy || temperatureOnly)
            ? new VectorSampler(settings)
            : new ChainSampler(LlamaSampler.Create(model, settings));
        if (settings.Grammar is null)
        {
            return sampler;
        }

        try
        {
            return new GrammarSampler(model, settings, sampler, LlamaGrammar.Create(model, settings.Grammar));
        }
        catch
        {
            sampler.Dispose();
            throw;
        }
    }

    /// <summary>
    /// True once a grammar allows nothing more but end of generation, and end of generation cannot be sampled
    /// (<c>ignore_eos</c>): the sequence is complete and must stop.
    /// </summary>
    public virtual bool Exhausted => false;

    /// <summary>Samples the next token from the logits at batch index <paramref name="batchIndex"/> of the last decode.</summary>
    public abstract LlamaToken Sample(LlamaContext context, int batchIndex);

    /// <summary>Chooses a token from a logits row without committing to it (a grammar may reject it).</summary>
    internal abstract LlamaToken Choose(ReadOnlySpan<float> logits);

    /// <summary>Commits to a token <see cref="Choose"/> returned (penalty history).</summary>
    internal virtual void Accept(LlamaToken token)
    {
    }

    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }

    private sealed class ChainSampler(LlamaSampler chain) : TokenSampler
    {
        public override LlamaToken Sample(LlamaContext context, int batchIndex) => chain.Sample(context, batchIndex);

        internal override LlamaToken Choose(ReadOnlySpan<float> logits) => chain.Choose(logits);

        internal override void Accept(LlamaToken token) => chain.Accept(token);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                chain.Dispose();
            }
        }
    }
}

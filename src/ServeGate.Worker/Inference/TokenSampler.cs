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

/// <summary>
/// Greedy or temperature sampling over a logits row with <see cref="TensorPrimitives"/>: the probabilities
/// exp((logit - max) / T), normalized by their sum, and one uniform draw from a per-sequence <see cref="Xoshiro256StarStar"/>.
/// Banned tokens (end of generation under <c>ignore_eos</c>, logit_bias -100) get probability 0; other biases are added to the logits. Greedy takes the first highest logit,
/// as llama.cpp's greedy sampler does.
/// </summary>
internal sealed class VectorSampler : TokenSampler
{
    /// <summary>Probabilities are summed in blocks of this many tokens, so the draw scans one block, not the vocabulary.</summary>
    private const int Block = 1024;

    // The scheduler's thread is the only caller: one scratch row per thread instead of one per request.
    [ThreadStatic]
    private static float[]? t_scratch;

    private readonly float _inverseTemperature;
    private readonly int[] _banned;
    private readonly int[] _biasTokens;
    private readonly float[] _biases;
    private readonly Xoshiro256StarStar _random;

    public VectorSampler(SamplingSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _inverseTemperature = settings.IsGreedy ? 0f : 1f / settings.Temperature;
        _banned = settings.BannedTokens.Select(t => t.Value).ToArray();
        _biasTokens = settings.LogitBias.Keys.Select(t => t.Value).ToArray();
        _biases = settings.LogitBias.Values.Select(SamplingSettings.EffectiveBias).ToArray();
        _random = new Xoshiro256StarStar(settings.Seed ?? (uint)Random.Shared.Next());
    }

    public override LlamaToken Sample(LlamaContext context, int batchIndex)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new LlamaToken(Sample(context.GetLogits(batchIndex)));
    }

    internal override LlamaToken Choose(ReadOnlySpan<float> logits) => new(Sample(logits));

    /// <summary>The index of the sampled token in <paramref name="logits"/>.</summary>
    public int Sample(ReadOnlySpan<float> logits)
    {
        if (_inverseTemperature == 0f && _biases.Length == 0)
        {
            var best = TensorPrimitives.IndexOfMax(logits);
            if (!IsBanned(best))
            {
                return best;
            }
        }

        var scratch = t_scratch is { } buffer && buffer.Length >= logits.Length ? buffer : t_scratch = new float[logits.Length];
        var p = scratch.AsSpan(0, logits.Length);
        logits.CopyTo(p);
        foreach (var token in _banned)
        {
            if ((uint)token < (uint)p.Length)
            {
                p[token] = float.NegativeInfinity;
            }
        }

        for (var i = 0; i < _biasTokens.Length; i++)
        {
            if ((uint)_biasTokens[i] < (uint)p.Length)
            {
                p[_biasTokens[i]] += _biases[i];
            }
        }

        if (_inverseTemperature == 0f)
        {
            return TensorPrimitives.IndexOfMax(p);
        }

        // exp((l - max) / T): the largest is 1, banned tokens exp(-inf) = 0.
        TensorPrimitives.Subtract(p, TensorPrimitives.Max(p), p);
        TensorPrimitives.Multiply(p, _inverseTemperature, p);
        TensorPrimitives.Exp(p, p);

        Span<float> blockSums = stackalloc float[(p.Length + Block - 1) / Block];
        var total = 0.0;
        for (var b = 0; b < blockSums.Length; b++)
        {
            blockSums[b] = TensorPrimitives.Sum(p.Slice(b * Block, Math.Min(Block, p.Length - b * Block)));
            total += blockSums[b];
        }

        var target = _random.NextDouble() * total;
        var cumulative = 0.0;
        for (var b = 0; b < blockSums.Length; b++)
        {
            if (blockSums[b] == 0f)
            {
                continue;
            }

            if (cumulative + blockSums[b] < target)
            {
                cumulative += blockSums[b];
                continue;
            }

            for (var i = b * Block; i < Math.Min(p.Length, (b + 1) * Block); i++)
            {
                cumulative += p[i];
                if (p[i] > 0f && cumulative >= target)
                {
                    return i;
                }
            }
        }

        // Rounding left the target just beyond the last token with any probability: that token.
        for (var i = p.Length - 1; i >= 0; i--)
        {
            if (p[i] > 0f)
            {
                return i;
            }
        }

        return TensorPrimitives.IndexOfMax(logits);
    }

    private bool IsBanned(int token) => Array.IndexOf(_banned, token) >= 0;
}

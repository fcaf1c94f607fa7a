using System.Numerics.Tensors;
using ServeGate.Core.Numerics;
using ServeGate.LlamaCpp;
using ServeGate.LlamaCpp.Native;

namespace ServeGate.Worker.Inference;

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

using ServeGate.LlamaCpp.Native;

namespace ServeGate.LlamaCpp;

/// <summary>OpenAI-style sampling settings, turned into a llama.cpp sampler chain.</summary>
public sealed record SamplingSettings
{
    /// <summary>0 selects greedy decoding.</summary>
    public float Temperature { get; init; } = 1.0f;

    public float TopP { get; init; } = 1.0f;

    /// <summary>0 disables top-k.</summary>
    public int TopK { get; init; }

    public float MinP { get; init; }

    public float PresencePenalty { get; init; }

    public float FrequencyPenalty { get; init; }

    /// <summary>Tokens the penalties look back over.</summary>
    public int PenaltyLastN { get; init; } = 64;

    /// <summary>Random seed; null draws one.</summary>
    public uint? Seed { get; init; }

    /// <summary>Tokens never to sample (e.g. end-of-generation when a benchmark wants fixed-length output).</summary>
    public IReadOnlyList<LlamaToken> BannedTokens { get; init; } = [];

    /// <summary>
    /// OpenAI's logit_bias: added to a token's logit before sampling; <see cref="BanBias"/> or less bans the token
    /// (-inf), as OpenAI documents -100 does.
    /// </summary>
    public IReadOnlyDictionary<LlamaToken, float> LogitBias { get; init; } = new Dictionary<LlamaToken, float>();

    /// <summary>A GBNF grammar (root rule <c>root</c>) every generated token must keep satisfiable; null: unconstrained.</summary>
    public string? Grammar { get; init; }

    public bool IsGreedy => Temperature <= 0f;

    /// <summary>The bias at which a token is banned rather than shifted.</summary>
    public const float BanBias = -100f;

    /// <summary>The value to add to a logit for a requested bias: -inf at <see cref="BanBias"/> or below.</summary>
    public static float EffectiveBias(float bias) => bias <= BanBias ? float.NegativeInfinity : bias;
}

/// <summary>
/// One request's sampler chain (penalties → top-k → top-p → min-p → temperature → distribution, or greedy). Each
/// sequence owns its own chain, so a request's output does not depend on what is batched beside it.
/// </summary>
public sealed class LlamaSampler : IDisposable
{
    // The scheduler's thread is the only caller of Choose: one candidate array per thread.
    [ThreadStatic]
    private static LlamaTokenData[]? t_candidates;

    private readonly SafeLlamaSamplerHandle _chain;

    private LlamaSampler(SafeLlamaSamplerHandle chain) => _chain = chain;

    public static unsafe LlamaSampler Create(LlamaModel model, SamplingSettings settings)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(settings);
        var chainParams = NativeMethods.llama_sampler_chain_default_params();
        chainParams.NoPerf = 1;
        var chain = NativeMethods.llama_sampler_chain_init(chainParams);
        if (settings.BannedTokens.Count > 0 || settings.LogitBias.Count > 0)
        {
            var biases = settings.LogitBias.Select(b => new LlamaLogitBias { Token = b.Key, Bias = SamplingSettings.EffectiveBias(b.Value) })
                .Concat(settings.BannedTokens.Select(t => new LlamaLogitBias { Token = t, Bias = float.NegativeInfinity }))
                .ToArray();
            fixed (LlamaLogitBias* b = biases)
            {
                NativeMethods.llama_sampler_chain_add(chain, NativeMethods.llama_sampler_init_logit_bias(model.VocabSize, biases.Length, b));
            }
        }

        if (settings.PresencePenalty != 0f || settings.FrequencyPenalty != 0f)
        {
            NativeMethods.llama_sampler_chain_add(chain, NativeMethods.llama_sampler_init_penalties(
                model.VocabSize, settings.PenaltyLastN, 1.0f, settings.FrequencyPenalty, settings.PresencePenalty));
        }

        if (settings.IsGreedy)
        {
            NativeMethods.llama_sampler_chain_add(chain, NativeMethods.llama_sampler_init_greedy());
            return new LlamaSampler(chain);
        }

        if (settings.TopK > 0)
        {
            NativeMethods.llama_sampler_chain_add(chain, NativeMethods.llama_sampler_init_top_k(settings.TopK));
        }

        if (settings.TopP < 1f)
        {
            NativeMethods.llama_sampler_chain_add(chain, NativeMethods.llama_sampler_init_top_p(settings.TopP, 1));
        }

        if (settings.MinP > 0f)
        {
            NativeMethods.llama_sampler_chain_add(chain, NativeMethods.llama_sampler_init_min_p(settings.MinP, 1));
        }

        NativeMethods.llama_sampler_chain_add(chain, NativeMethods.llama_sampler_init_temp(settings.Temperature));
        var seed = settings.Seed ?? (uint)Random.Shared.Next();
        NativeMethods.llama_sampler_chain_add(chain, NativeMethods.llama_sampler_init_dist(seed));
        return new LlamaSampler(chain);
    }

    /// <summary>Samples from the logits of batch index <paramref name="batchIndex"/> and accepts the token into the chain's state.</summary>
    public LlamaToken Sample(LlamaContext context, int batchIndex)
    {
        ArgumentNullException.ThrowIfNull(context);

        // llama_sampler_sample applies the chain and then accepts the chosen token (penalties see it).
        return NativeMethods.llama_sampler_sample(_chain, context.Handle, batchIndex);
    }

    /// <summary>
    /// Runs the chain over a logits row and returns its choice without accepting it (a grammar may still reject it);
    /// <see cref="Accept"/> the token finally chosen.
    /// </summary>
    public unsafe LlamaToken Choose(ReadOnlySpan<float> logits)
    {
        var candidates = t_candidates is { } buffer && buffer.Length >= logits.Length ? buffer : t_candidates = new LlamaTokenData[logits.Length];
        for (var i = 0; i < logits.Length; i++)
        {
            candidates[i] = new LlamaTokenData { Id = new LlamaToken(i), Logit = logits[i], P = 0f };
        }

        fixed (LlamaTokenData* data = candidates)
        {
            var array = new LlamaTokenDataArray { Data = data, Size = (nuint)logits.Length, Selected = -1, Sorted = 0 };
            NativeMethods.llama_sampler_apply(_chain, &array);
            return array.Selected >= 0 && array.Selected < (long)array.Size ? array.Data[array.Selected].Id : candidates[0].Id;
        }
    }

    /// <summary>Feeds tokens the chain did not choose (the prompt) to its penalty history.</summary>
    public void Accept(LlamaToken token) => NativeMethods.llama_sampler_accept(_chain, token);

    public void Dispose() => _chain.Dispose();
}

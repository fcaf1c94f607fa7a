using ServeGate.LlamaCpp.Native;

namespace ServeGate.LlamaCpp;

/// <summary>
/// One sequence's GBNF grammar state (llama.cpp's grammar sampler). It is asked about one token at a time
/// (<see cref="Allows"/>, cheap) and only masks the whole vocabulary (<see cref="Mask"/>, a trie walk per token) when
/// the token the sampler chose is rejected, as llama.cpp's server does (docs/architecture.md, "Structured output").
/// </summary>
public sealed class LlamaGrammar : IDisposable
{
    // The scheduler's thread is the only caller of Mask: one candidate array per thread, not per request.
    [ThreadStatic]
    private static LlamaTokenData[]? t_candidates;

    private readonly SafeLlamaSamplerHandle _sampler;

    private LlamaGrammar(SafeLlamaSamplerHandle sampler) => _sampler = sampler;

    /// <summary>Parses <paramref name="gbnf"/> for <paramref name="model"/>'s vocabulary; throws <see cref="LlamaException"/> when it does not parse.</summary>
    public static LlamaGrammar Create(LlamaModel model, string gbnf, string root = "root")
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(gbnf);
        var sampler = NativeMethods.llama_sampler_init_grammar(model.Vocab, gbnf, root);
        return sampler == 0
            ? throw new LlamaException("The grammar does not parse as GBNF (llama.cpp's grammar parser rejected it).")
            : new LlamaGrammar(SafeLlamaSamplerHandle.Own(sampler));
    }

    /// <summary>Whether the grammar allows <paramref name="token"/> next (end-of-generation only where the grammar is complete).</summary>
    public unsafe bool Allows(LlamaToken token)
    {
        var one = new LlamaTokenData { Id = token, Logit = 0f, P = 0f };
        var array = new LlamaTokenDataArray { Data = &one, Size = 1, Selected = -1, Sorted = 0 };
        NativeMethods.llama_sampler_apply(_sampler, &array);
        return !float.IsNegativeInfinity(one.Logit);
    }

    /// <summary>Sets the logit of every token the grammar rejects to -inf; returns how many tokens stay possible.</summary>
    public unsafe int Mask(Span<float> logits)
    {
        var candidates = t_candidates is { } buffer && buffer.Length >= logits.Length ? buffer : t_candidates = new LlamaTokenData[logits.Length];
        var count = 0;
        for (var i = 0; i < logits.Length; i++)
        {
            // Tokens already impossible (banned, biased to -100) need no grammar check.
            if (!float.IsNegativeInfinity(logits[i]))
            {
                candidates[count++] = new LlamaTokenData { Id = new LlamaToken(i), Logit = 0f, P = 0f };
            }
        }

        fixed (LlamaTokenData* data = candidates)
        {
            var array = new LlamaTokenDataArray { Data = data, Size = (nuint)count, Selected = -1, Sorted = 0 };
            NativeMethods.llama_sampler_apply(_sampler, &array);
        }

        var allowed = 0;
        for (var i = 0; i < count; i++)
        {
            if (float.IsNegativeInfinity(candidates[i].Logit))
            {
                logits[candidates[i].Id.Value] = float.NegativeInfinity;
            }
            else
            {
                allowed++;
            }
        }

        return allowed;
    }

    /// <summary>
    /// Advances the grammar past <paramref name="token"/>. Only a token <see cref="Allows"/> accepted, and never an
    /// end-of-generation token: llama.cpp aborts the process on either.
    /// </summary>
    public void Accept(LlamaToken token) => NativeMethods.llama_sampler_accept(_sampler, token);

    public void Dispose() => _sampler.Dispose();
}

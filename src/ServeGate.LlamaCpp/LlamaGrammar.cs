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

    // Per model: each token's first byte when it is ASCII (0 otherwise), and one single-character token per such byte.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<LlamaModel, FirstBytes> Indexes = new();

    private readonly SafeLlamaSamplerHandle _sampler;
    private readonly FirstBytes _firstBytes;

    private LlamaGrammar(SafeLlamaSamplerHandle sampler, FirstBytes firstBytes)
    {
        _sampler = sampler;
        _firstBytes = firstBytes;
    }

    /// <summary>Parses <paramref name="gbnf"/> for <paramref name="model"/>'s vocabulary; throws <see cref="LlamaException"/> when it does not parse.</summary>
    public static LlamaGrammar Create(LlamaModel model, string gbnf, string root = "root")
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(gbnf);
        var sampler = NativeMethods.llama_sampler_init_grammar(model.Vocab, gbnf, root);
        return sampler == 0
            ? throw new LlamaException("The grammar does not parse as GBNF (llama.cpp's grammar parser rejected it).")
            : new LlamaGrammar(SafeLlamaSamplerHandle.Own(sampler), Indexes.GetValue(model, FirstBytes.Build));
    }

    /// <summary>Whether the grammar allows <paramref name="token"/> next (end-of-generation only where the grammar is complete).</summary>
    public unsafe bool Allows(LlamaToken token)
    {
        var one = new LlamaTokenData { Id = token, Logit = 0f, P = 0f };
        var array = new LlamaTokenDataArray { Data = &one, Size = 1, Selected = -1, Sorted = 0 };
        NativeMethods.llama_sampler_apply(_sampler, &array);
        return !float.IsNegativeInfinity(one.Logit);
    }

    /// <summary>
    /// Sets to -inf the logit of every token whose first character the grammar rejects; returns how many tokens stay
    /// possible. One check of each ASCII character (a one-character token) rejects every token starting with it, so in
    /// JSON's structural positions a few hundred tokens are left of the vocabulary; tokens the test cannot judge (a
    /// non-ASCII first byte, end of generation) are left for <see cref="Mask"/>.
    /// </summary>
    public unsafe int ExcludeByFirstCharacter(Span<float> logits)
    {
        var candidates = Candidates(logits.Length);
        Span<bool> allowedFirst = stackalloc bool[128];
        var probes = 0;
        foreach (var representative in _firstBytes.Representatives)
        {
            candidates[probes++] = new LlamaTokenData { Id = representative, Logit = 0f, P = 0f };
        }

        Apply(candidates, probes);
        for (var i = 0; i < probes; i++)
        {
            allowedFirst[_firstBytes.RepresentedBytes[i]] = !float.IsNegativeInfinity(candidates[i].Logit);
        }

        var first = _firstBytes.First;
        var possible = 0;
        for (var i = 0; i < logits.Length; i++)
        {
            if (float.IsNegativeInfinity(logits[i]))
            {
                continue;
            }

            var b = i < first.Length ? first[i] : (byte)0;
            if (b != 0 && !allowedFirst[b])
            {
                logits[i] = float.NegativeInfinity;
                continue;
            }

            possible++;
        }

        return possible;
    }

    /// <summary>
    /// Sets the logit of every token the grammar rejects to -inf; returns how many tokens stay possible. Tokens are
    /// first sorted out by their first character (<see cref="ExcludeByFirstCharacter"/>), so only the rest reach the
    /// grammar's full check (a trie walk per token).
    /// </summary>
    public int Mask(Span<float> logits)
    {
        if (ExcludeByFirstCharacter(logits) == 0)
        {
            return 0;
        }

        var candidates = Candidates(logits.Length);
        var count = 0;
        for (var i = 0; i < logits.Length; i++)
        {
            // Tokens already impossible (banned, biased to -100, a rejected first character) need no grammar check.
            if (!float.IsNegativeInfinity(logits[i]))
            {
                candidates[count++] = new LlamaTokenData { Id = new LlamaToken(i), Logit = 0f, P = 0f };
            }
        }

        Apply(candidates, count);
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

    private static LlamaTokenData[] Candidates(int vocabulary) =>
        t_candidates is { } buffer && buffer.Length >= vocabulary ? buffer : t_candidates = new LlamaTokenData[vocabulary];

    private unsafe void Apply(LlamaTokenData[] candidates, int count)
    {
        fixed (LlamaTokenData* data = candidates)
        {
            var array = new LlamaTokenDataArray { Data = data, Size = (nuint)count, Selected = -1, Sorted = 0 };
            NativeMethods.llama_sampler_apply(_sampler, &array);
        }
    }

    /// <summary>
    /// Each token's first byte when the first-character test is exact for it (an ASCII first byte with a
    /// one-character token to probe it; never end-of-generation tokens, which the grammar judges apart), else 0.
    /// </summary>
    private sealed class FirstBytes
    {
        public required byte[] First { get; init; }

        public required LlamaToken[] Representatives { get; init; }

        public required byte[] RepresentedBytes { get; init; }

        public static FirstBytes Build(LlamaModel model)
        {
            var first = new byte[model.VocabSize];
            var representative = new int[128];
            Array.Fill(representative, -1);
            var piece = new byte[256];
            for (var id = 0; id < model.VocabSize; id++)
            {
                var token = new LlamaToken(id);
                if (model.IsEndOfGeneration(token))
                {
                    continue;
                }

                int length;
                try
                {
                    length = model.TokenToPiece(token, piece, renderSpecial: true);
                }
                catch (ArgumentException)
                {
                    continue;
                }

                if (length > 0 && piece[0] is > 0 and < 0x80)
                {
                    first[id] = piece[0];
                    if (length == 1 && representative[piece[0]] < 0)
                    {
                        representative[piece[0]] = id;
                    }
                }
            }

            for (var id = 0; id < first.Length; id++)
            {
                if (first[id] != 0 && representative[first[id]] < 0)
                {
                    first[id] = 0;
                }
            }

            var bytes = Enumerable.Range(0, 128).Where(b => representative[b] >= 0).ToArray();
            return new FirstBytes
            {
                First = first,
                Representatives = [.. bytes.Select(b => new LlamaToken(representative[b]))],
                RepresentedBytes = [.. bytes.Select(b => (byte)b)],
            };
        }
    }
}

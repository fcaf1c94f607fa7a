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

    [ThreadStatic]
    private static bool[]? t_allowedPairs;

    // Per model: the one- and two-character probes that judge each token (Prefixes).
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<LlamaModel, Prefixes> Indexes = new();

    private readonly SafeLlamaSamplerHandle _sampler;
    private readonly Prefixes _prefixes;

    private LlamaGrammar(SafeLlamaSamplerHandle sampler, Prefixes prefixes)
    {
        _sampler = sampler;
        _prefixes = prefixes;
    }

    /// <summary>Parses <paramref name="gbnf"/> for <paramref name="model"/>'s vocabulary; throws <see cref="LlamaException"/> when it does not parse.</summary>
    public static LlamaGrammar Create(LlamaModel model, string gbnf, string root = "root")
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(gbnf);
        var sampler = NativeMethods.llama_sampler_init_grammar(model.Vocab, gbnf, root);
        return sampler == 0
            ? throw new LlamaException("The grammar does not parse as GBNF (llama.cpp's grammar parser rejected it).")
            : new LlamaGrammar(SafeLlamaSamplerHandle.Own(sampler), Indexes.GetValue(model, Prefixes.Build));
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
    /// Sets to -inf the logit of every token whose first one or two bytes the grammar rejects; returns how many tokens
    /// stay possible. A grammar that rejects a text rejects every text starting with it (a lone UTF-8 lead byte is
    /// judged as the start of a character), so one check of each one-byte token, then of each two-byte token under an
    /// allowed first byte, judges whole families: in JSON's structural positions a few dozen tokens are left for the
    /// full check instead of the vocabulary. Tokens no probe covers (no one-byte token for their first byte, end of
    /// generation) are left for <see cref="Mask"/>.
    /// </summary>
    public int ExcludeByPrefix(Span<float> logits)
    {
        var prefixes = _prefixes;
        var candidates = Candidates(logits.Length);
        Span<bool> allowedFirst = stackalloc bool[256];
        var probes = 0;
        foreach (var representative in prefixes.FirstRepresentatives)
        {
            candidates[probes++] = new LlamaTokenData { Id = representative, Logit = 0f, P = 0f };
        }

        Apply(candidates, probes);
        for (var i = 0; i < probes; i++)
        {
            allowedFirst[prefixes.FirstRepresentedBytes[i]] = !float.IsNegativeInfinity(candidates[i].Logit);
        }

        // Two-character prefixes only under an allowed first character; the others stay false (never read).
        var allowedPair = t_allowedPairs is { } pairs && pairs.Length >= prefixes.PairRepresentatives.Length ? pairs : t_allowedPairs = new bool[prefixes.PairRepresentatives.Length];
        probes = 0;
        for (var p = 0; p < prefixes.PairRepresentatives.Length; p++)
        {
            allowedPair[p] = false;
            if (allowedFirst[prefixes.PairFirstBytes[p]])
            {
                candidates[probes++] = new LlamaTokenData { Id = prefixes.PairRepresentatives[p], Logit = p, P = 0f };
            }
        }

        Apply(candidates, probes);
        for (var i = 0; i < probes; i++)
        {
            // The grammar sampler leaves an allowed candidate's logit as it was: the pair's index.
            if (!float.IsNegativeInfinity(candidates[i].Logit))
            {
                allowedPair[(int)candidates[i].Logit] = true;
            }
        }

        var first = prefixes.First;
        var pair = prefixes.Pair;
        var possible = 0;
        for (var i = 0; i < logits.Length; i++)
        {
            if (float.IsNegativeInfinity(logits[i]))
            {
                continue;
            }

            if (i < first.Length && ((first[i] != 0 && !allowedFirst[first[i]]) || (pair[i] >= 0 && !allowedPair[pair[i]])))
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
    /// first sorted out by their first characters (<see cref="ExcludeByPrefix"/>), so only the rest reach the
    /// grammar's full check (a trie walk per token).
    /// </summary>
    public int Mask(Span<float> logits)
    {
        if (ExcludeByPrefix(logits) == 0)
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
    /// Per token, the probes that judge it: its first byte when a one-byte token can probe it (else 0), and the index
    /// of its two-byte prefix's probe when a two-byte token reads exactly that (else -1). End-of-generation tokens are
    /// never judged here: the grammar judges them apart.
    /// </summary>
    private sealed class Prefixes
    {
        public required byte[] First { get; init; }

        public required LlamaToken[] FirstRepresentatives { get; init; }

        public required byte[] FirstRepresentedBytes { get; init; }

        public required int[] Pair { get; init; }

        public required LlamaToken[] PairRepresentatives { get; init; }

        public required byte[] PairFirstBytes { get; init; }

        public static Prefixes Build(LlamaModel model)
        {
            var first = new byte[model.VocabSize];
            var pairKey = new int[model.VocabSize];
            Array.Fill(pairKey, -1);
            var single = new int[256];
            Array.Fill(single, -1);
            var doubles = new Dictionary<int, int>();
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

                if (length > 0 && piece[0] != 0)
                {
                    first[id] = piece[0];
                    if (length == 1 && single[piece[0]] < 0)
                    {
                        single[piece[0]] = id;
                    }

                    if (length >= 2 && piece[1] != 0)
                    {
                        var key = (piece[0] * 256) + piece[1];
                        pairKey[id] = key;
                        if (length == 2)
                        {
                            doubles.TryAdd(key, id);
                        }
                    }
                }
            }

            var pairIndex = new Dictionary<int, int>();
            var pairRepresentatives = new List<LlamaToken>();
            var pairFirstBytes = new List<byte>();
            var pair = new int[model.VocabSize];
            for (var id = 0; id < first.Length; id++)
            {
                pair[id] = -1;
                if (first[id] != 0 && single[first[id]] < 0)
                {
                    first[id] = 0; // no one-character token to probe this first byte with: no prefix test at all
                    continue;
                }

                if (first[id] != 0 && pairKey[id] >= 0 && doubles.TryGetValue(pairKey[id], out var representative))
                {
                    if (!pairIndex.TryGetValue(pairKey[id], out var index))
                    {
                        index = pairIndex[pairKey[id]] = pairRepresentatives.Count;
                        pairRepresentatives.Add(new LlamaToken(representative));
                        pairFirstBytes.Add(first[id]);
                    }

                    pair[id] = index;
                }
            }

            var bytes = Enumerable.Range(0, 256).Where(b => single[b] >= 0).ToArray();
            return new Prefixes
            {
                First = first,
                FirstRepresentatives = [.. bytes.Select(b => new LlamaToken(single[b]))],
                FirstRepresentedBytes = [.. bytes.Select(b => (byte)b)],
                Pair = pair,
                PairRepresentatives = [.. pairRepresentatives],
                PairFirstBytes = [.. pairFirstBytes],
            };
        }
    }
}

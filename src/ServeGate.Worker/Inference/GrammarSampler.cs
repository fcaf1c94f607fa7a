using ServeGate.LlamaCpp;
using ServeGate.LlamaCpp.Native;

namespace ServeGate.Worker.Inference;

/// <summary>
/// A sampler whose tokens must satisfy a GBNF grammar. The inner sampler (vector path or chain) chooses as if
/// unconstrained and the grammar checks only that one token, as llama.cpp's server samples. When it is rejected, the
/// tokens whose first bytes the grammar rejects are removed (<see cref="LlamaGrammar.ExcludeByPrefix"/>); if many
/// remain (inside a string, where almost everything is allowed) the choice is drawn again without each token rejected
/// so far, up to <see cref="Redraws"/> times, before llama.cpp checks every remaining token (<see cref="LlamaGrammar.Mask"/>).
/// Removing a rejected token and drawing again from the rest is drawing from the distribution restricted to the
/// allowed tokens, so greedy and temperature sampling give the same distribution as a full mask (a top-p or top-k
/// chain recomputes its cut without the rejected tokens). docs/benchmarks.md, "Constrained decoding".
/// </summary>
internal sealed class GrammarSampler(LlamaModel model, SamplingSettings settings, TokenSampler inner, LlamaGrammar grammar) : TokenSampler
{
    /// <summary>Draws after the first rejection before the whole vocabulary is checked.</summary>
    internal const int Redraws = 4;

    /// <summary>Tokens left by the prefix test above which redrawing is tried (inside a string); below it the full check is cheap.</summary>
    internal const int RedrawAbove = 2048;

    // The scheduler's thread is the only caller: one masked row per thread.
    [ThreadStatic]
    private static float[]? t_masked;

    private bool _exhausted;

    public override bool Exhausted => _exhausted;

    public override LlamaToken Sample(LlamaContext context, int batchIndex)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Choose(context.GetLogits(batchIndex));
    }

    internal override LlamaToken Choose(ReadOnlySpan<float> logits)
    {
        var token = inner.Choose(logits);
        if (!grammar.Allows(token) && !TryChooseAllowed(logits, token, out token))
        {
            _exhausted = true;
            return model.Eos;
        }

        if (!model.IsEndOfGeneration(token))
        {
            grammar.Accept(token);
        }

        inner.Accept(token);
        return token;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            grammar.Dispose();
            inner.Dispose();
        }
    }

    /// <summary>A token the grammar allows, drawn from <paramref name="logits"/> without <paramref name="rejected"/>; false when there is none.</summary>
    private bool TryChooseAllowed(ReadOnlySpan<float> logits, LlamaToken rejected, out LlamaToken token)
    {
        var masked = (t_masked is { } buffer && buffer.Length >= logits.Length ? buffer : t_masked = new float[logits.Length]).AsSpan(0, logits.Length);
        logits.CopyTo(masked);

        // Tokens the inner sampler can never choose are excluded first, so "nothing allowed" is seen here.
        foreach (var banned in settings.BannedTokens)
        {
            masked[banned.Value] = float.NegativeInfinity;
        }

        foreach (var (biased, bias) in settings.LogitBias)
        {
            if (bias <= SamplingSettings.BanBias)
            {
                masked[biased.Value] = float.NegativeInfinity;
            }
        }

        var possible = grammar.ExcludeByPrefix(masked);
        for (var draw = 0; possible > RedrawAbove && draw < Redraws; draw++)
        {
            if (!float.IsNegativeInfinity(masked[rejected.Value]))
            {
                masked[rejected.Value] = float.NegativeInfinity;
                possible--;
            }

            if (possible == 0)
            {
                token = default;
                return false;
            }

            token = inner.Choose(masked);
            if (grammar.Allows(token))
            {
                return true;
            }

            rejected = token;
        }

        masked[rejected.Value] = float.NegativeInfinity;
        if (grammar.Mask(masked) == 0)
        {
            token = default;
            return false;
        }

        // Not expected to be rejected (the inner sampler saw only allowed tokens), but accepting it would abort the process.
        token = inner.Choose(masked);
        return grammar.Allows(token);
    }
}


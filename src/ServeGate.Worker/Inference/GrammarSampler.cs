using ServeGate.LlamaCpp;
using ServeGate.LlamaCpp.Native;

namespace ServeGate.Worker.Inference;

/// <summary>
/// A sampler whose tokens must satisfy a GBNF grammar, as llama.cpp's server samples: the inner sampler (vector path
/// or chain) chooses as if unconstrained, the grammar checks only that one token, and only when it rejects it is the
/// whole vocabulary masked and the choice made again. Most steps of a model that follows the format cost one token's
/// check (docs/benchmarks.md, "Constrained decoding").
/// </summary>
internal sealed class GrammarSampler(LlamaModel model, SamplingSettings settings, TokenSampler inner, LlamaGrammar grammar) : TokenSampler
{
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
        if (!grammar.Allows(token))
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

            if (grammar.Mask(masked) == 0)
            {
                _exhausted = true;
                return model.Eos;
            }

            token = inner.Choose(masked);
            if (!grammar.Allows(token))
            {
                // Not expected (the inner sampler saw only allowed tokens), but accepting it would abort the process.
                _exhausted = true;
                return model.Eos;
            }
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
}

using ServeGate.LlamaCpp;
using ServeGate.LlamaCpp.Native;

namespace ServeGate.Worker.Inference;

/// <summary>Log-probabilities from raw logits: the model's distribution, before temperature and truncation (as OpenAI reports them).</summary>
internal static class Logprobs
{
    /// <summary>The most alternatives a request may ask for (OpenAI allows 20 for chat, 5 for completions).</summary>
    public const int MaxTop = 20;

    public static TokenLogprob Compute(LlamaModel model, ReadOnlySpan<float> logits, LlamaToken chosen, int top)
    {
        var max = float.NegativeInfinity;
        foreach (var l in logits)
        {
            max = MathF.Max(max, l);
        }

        double sum = 0;
        foreach (var l in logits)
        {
            sum += Math.Exp(l - max);
        }

        var logZ = max + (float)Math.Log(sum);

        // Top-N by a single pass with a small sorted buffer: N is at most 20, the vocabulary up to ~150k.
        var best = new List<(int Token, float Logit)>(top + 1);
        if (top > 0)
        {
            for (var i = 0; i < logits.Length; i++)
            {
                var l = logits[i];
                if (best.Count == top && l <= best[^1].Logit)
                {
                    continue;
                }

                var at = best.FindIndex(b => l > b.Logit);
                best.Insert(at < 0 ? best.Count : at, (i, l));
                if (best.Count > top)
                {
                    best.RemoveAt(best.Count - 1);
                }
            }
        }

        var (text, bytes) = Piece(model, chosen);
        var alternatives = best.Select(b =>
        {
            var (t, by) = Piece(model, new LlamaToken(b.Token));
            return (t, by, b.Logit - logZ);
        }).ToArray();
        return new TokenLogprob(text, bytes, logits[chosen.Value] - logZ, alternatives);
    }

    private static (string Text, byte[] Bytes) Piece(LlamaModel model, LlamaToken token)
    {
        Span<byte> buffer = stackalloc byte[256];
        var n = model.TokenToPiece(token, buffer, renderSpecial: true);
        var bytes = buffer[..n].ToArray();
        return (System.Text.Encoding.UTF8.GetString(bytes), bytes);
    }
}

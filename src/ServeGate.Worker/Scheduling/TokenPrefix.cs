using ServeGate.LlamaCpp.Native;

namespace ServeGate.Worker.Scheduling;

/// <summary>Comparisons of token sequences by their starts, for the prefix caches.</summary>
internal static class TokenPrefix
{
    /// <summary>Whether <paramref name="tokens"/> begins with all of <paramref name="prefix"/>.</summary>
    public static bool StartsWith(IReadOnlyList<LlamaToken> tokens, IReadOnlyList<LlamaToken> prefix)
    {
        if (tokens.Count < prefix.Count)
        {
            return false;
        }

        for (var i = 0; i < prefix.Count; i++)
        {
            if (tokens[i] != prefix[i])
            {
                return false;
            }
        }

        return true;
    }
}

using System.Text;

namespace ServeGate.LoadTests.Workload;

/// <summary>
/// Synthetic prompts made of common English words, one word standing for one token (real tokenizers give
/// roughly one token per common word; the server's usage, when reported, gives the exact count). A
/// <see cref="SharedPrefixRatio"/> of each prompt is a prefix common to every request, to exercise KV reuse.
/// Each request is derived from the seed and its index alone, so runs repeat whatever the concurrency.
/// </summary>
internal sealed class SyntheticWorkload : IWorkload
{
    private static readonly string[] Words =
    [
        "the", "of", "and", "to", "in", "is", "that", "for", "it", "as", "was", "with", "be", "by", "on", "not",
        "he", "this", "are", "or", "his", "from", "at", "which", "but", "have", "an", "had", "they", "you", "were",
        "their", "one", "all", "we", "can", "her", "has", "there", "been", "if", "more", "when", "will", "would",
        "who", "so", "no", "time", "people", "year", "way", "day", "man", "thing", "woman", "life", "child",
        "world", "school", "state", "family", "student", "group", "country", "problem", "hand", "part", "place",
        "case", "week", "company", "system", "program", "question", "work", "government", "number", "night",
        "point", "home", "water", "room", "mother", "area", "money", "story", "fact", "month", "lot", "right",
        "study", "book", "eye", "job", "word", "business", "issue", "side", "kind", "head", "house", "service",
        "friend", "father", "power", "hour", "game", "line", "end", "member", "law", "car", "city", "name",
        "team", "minute", "idea", "kid", "body", "information", "back", "parent", "face", "others", "level",
        "office", "door", "health", "person", "art", "war", "history", "party", "result", "change", "morning",
        "reason", "research", "girl", "guy", "moment", "air", "teacher", "force", "education", "good", "new",
        "first", "last", "long", "great", "little", "own", "other", "old", "big", "high", "different", "small",
        "large", "next", "early", "young", "important", "few", "public", "bad", "same", "able", "make", "go",
        "know", "take", "see", "come", "think", "look", "want", "give", "use", "find", "tell", "ask", "seem",
        "feel", "try", "leave", "call", "river", "music", "light", "market", "table", "garden", "road", "paper",
    ];

    private readonly LengthDistribution _promptTokens;
    private readonly LengthDistribution _outputTokens;
    private readonly long _seed;
    private readonly string[] _sharedPrefix;

    public SyntheticWorkload(LengthDistribution promptTokens, LengthDistribution outputTokens, double sharedPrefixRatio, long seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sharedPrefixRatio, 0.0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(sharedPrefixRatio, 1.0);
        _promptTokens = promptTokens;
        _outputTokens = outputTokens;
        SharedPrefixRatio = sharedPrefixRatio;
        _seed = seed;

        // One prefix long enough for the longest prompt; each request takes its first ratio * length words.
        var prefixRandom = new Random(DeriveSeed(seed, -1));
        _sharedPrefix = new string[(int)Math.Ceiling(sharedPrefixRatio * promptTokens.UpperBound)];
        for (var i = 0; i < _sharedPrefix.Length; i++)
        {
            _sharedPrefix[i] = Words[prefixRandom.Next(Words.Length)];
        }
    }

    public double SharedPrefixRatio { get; }

    public RequestSpec Get(long index)
    {
        var random = new Random(DeriveSeed(_seed, index));
        var promptLength = _promptTokens.Sample(random);
        var maxTokens = _outputTokens.Sample(random);
        var prefixLength = Math.Min(_sharedPrefix.Length, (int)Math.Round(SharedPrefixRatio * promptLength));

        var text = new StringBuilder(promptLength * 7);
        for (var i = 0; i < promptLength; i++)
        {
            if (i > 0)
            {
                text.Append(' ');
            }

            text.Append(i < prefixLength ? _sharedPrefix[i] : Words[random.Next(Words.Length)]);
        }

        return new RequestSpec(index, text.ToString(), null, maxTokens, promptLength);
    }

    /// <summary>A stable per-index seed (SplitMix64 finaliser); <see cref="HashCode"/> is randomised per process.</summary>
    internal static int DeriveSeed(long seed, long index)
    {
        unchecked
        {
            var z = (ulong)seed + (0x9E3779B97F4A7C15UL * (ulong)(index + 1));
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            return (int)(z & 0x7FFFFFFF);
        }
    }
}

namespace ServeGate.Worker.Inference;

/// <summary>
/// Holds back text that may be the start of a stop sequence, so a stop sequence never leaks partially into streamed
/// text; when one completes, the text before it is released and generation ends (OpenAI omits the stop sequence).
/// </summary>
internal sealed class StopSequenceMatcher
{
    private readonly IReadOnlyList<string> _stops;
    private string _pending = string.Empty;

    public StopSequenceMatcher(IReadOnlyList<string> stops) => _stops = stops;

    /// <summary>True once a stop sequence was seen.</summary>
    public bool Stopped { get; private set; }

    /// <summary>Adds generated text and returns the part that can safely be shown now.</summary>
    public string Append(string text)
    {
        if (_stops.Count == 0)
        {
            return text;
        }

        _pending += text;
        var earliest = -1;
        foreach (var stop in _stops)
        {
            var at = _pending.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (earliest < 0 || at < earliest))
            {
                earliest = at;
            }
        }

        if (earliest >= 0)
        {
            Stopped = true;
            var before = _pending[..earliest];
            _pending = string.Empty;
            return before;
        }

        var hold = LongestSuffixThatStartsAStop();
        var release = _pending[..^hold];
        _pending = _pending[^hold..];
        return release;
    }

    /// <summary>Releases held-back text at the end of generation (it did not become a stop sequence).</summary>
    public string Flush()
    {
        var rest = _pending;
        _pending = string.Empty;
        return rest;
    }

    private int LongestSuffixThatStartsAStop()
    {
        var best = 0;
        foreach (var stop in _stops)
        {
            for (var length = Math.Min(stop.Length - 1, _pending.Length); length > best; length--)
            {
                if (_pending.AsSpan(_pending.Length - length).SequenceEqual(stop.AsSpan(0, length)))
                {
                    best = length;
                    break;
                }
            }
        }

        return best;
    }
}

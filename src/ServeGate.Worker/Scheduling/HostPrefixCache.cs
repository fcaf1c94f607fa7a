using ServeGate.LlamaCpp;
using ServeGate.LlamaCpp.Native;

namespace ServeGate.Worker.Scheduling;

/// <summary>
/// The second tier of the prefix cache: prefixes evicted from the KV cache, their cells kept in host memory under a
/// byte budget (<see cref="SchedulerOptions.HostCacheMiB"/>), least recently used first out. A request whose prompt
/// starts with one gets its cells put back into its sequence instead of computing them again (llama-server's
/// <c>--cache-ram</c> does the same for its slots' prompts). Used by the scheduler thread alone.
/// </summary>
/// <typeparam name="TState">The cells in host memory (<see cref="SequenceState"/>; a stand-in in unit tests).</typeparam>
internal sealed class HostPrefixCache<TState>(long budgetBytes, Func<TState, long> sizeOf) : IDisposable
    where TState : class, IDisposable
{
    private readonly List<Entry> _entries = [];

    /// <summary>Bytes of cells held.</summary>
    public long Bytes { get; private set; }

    public int Count => _entries.Count;

    /// <summary>Entries dropped for room (one replaced by an entry that extends it is not counted).</summary>
    public long Evictions { get; private set; }

    /// <summary>
    /// An entry <see cref="Add"/> must not drop: the one about to be restored while what it replaces is saved.
    /// </summary>
    public Entry? Pinned { get; set; }

    /// <summary>Whether an entry holds <paramref name="tokens"/>, maybe with more after them.</summary>
    public bool Holds(List<LlamaToken> tokens) => _entries.Exists(e => TokenPrefix.StartsWith(e.Tokens, tokens));

    /// <summary>
    /// Keeps the cells of <paramref name="tokens"/>, <paramref name="size"/> bytes that <paramref name="save"/> copies
    /// out, taking ownership of them. Room is made first: entries the new one extends are replaced, then the least
    /// recently used go until it fits, and only then is it saved, so its memory can be what they freed (fresh pages
    /// cost a page fault and zeroing each: on the test VM, whose host backs memory on first touch, ~5 ms per MB). One
    /// that does not fit beside <see cref="Pinned"/> is not saved. Returns whether it was kept.
    /// </summary>
    public bool Add(LlamaToken[] tokens, long size, Func<TState> save, long lastUsed)
    {
        ArgumentNullException.ThrowIfNull(save);
        if (size + (Pinned?.Size ?? 0) > budgetBytes)
        {
            return false;
        }

        for (var i = _entries.Count - 1; i >= 0; i--)
        {
            if (_entries[i] != Pinned && TokenPrefix.StartsWith(tokens, _entries[i].Tokens))
            {
                Drop(i);
            }
        }

        while (Bytes + size > budgetBytes)
        {
            var oldest = -1;
            for (var i = 0; i < _entries.Count; i++)
            {
                if (_entries[i] != Pinned && (oldest < 0 || _entries[i].LastUsed < _entries[oldest].LastUsed))
                {
                    oldest = i;
                }
            }

            Drop(oldest);
            Evictions++;
        }

        var state = save();
        size = sizeOf(state);
        _entries.Add(new Entry(tokens, state, size) { LastUsed = lastUsed });
        Bytes += size;
        return true;
    }

    /// <summary>The entry sharing the longest prefix with <paramref name="prompt"/>, at most <paramref name="limit"/> tokens of it.</summary>
    public (Entry? Entry, int Common) FindLongest(ReadOnlySpan<LlamaToken> prompt, int limit)
    {
        Entry? best = null;
        var bestLength = 0;
        foreach (var entry in _entries)
        {
            var n = prompt[..Math.Min(limit, prompt.Length)].CommonPrefixLength(entry.Tokens);
            if (n > bestLength)
            {
                (best, bestLength) = (entry, n);
            }
        }

        return (best, bestLength);
    }

    public void Dispose()
    {
        foreach (var entry in _entries)
        {
            entry.State.Dispose();
        }

        _entries.Clear();
        Bytes = 0;
    }

    private void Drop(int index)
    {
        var entry = _entries[index];
        _entries.RemoveAt(index);
        Bytes -= entry.Size;
        entry.State.Dispose();
    }

    internal sealed class Entry(LlamaToken[] tokens, TState state, long size)
    {
        public LlamaToken[] Tokens { get; } = tokens;

        public TState State { get; } = state;

        public long Size { get; } = size;

        public long LastUsed { get; set; }
    }
}

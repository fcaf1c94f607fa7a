using ServeGate.LlamaCpp.Native;
using ServeGate.Worker.Scheduling;

namespace ServeGate.Worker.Tests;

/// <summary>The host-memory tier's bookkeeping: budget, least recently used out, replacement, the pinned entry.</summary>
public sealed class HostPrefixCacheTests
{
    private sealed class FakeState(long size) : IDisposable
    {
        public long Size { get; } = size;

        public bool Disposed { get; private set; }

        public void Dispose() => Disposed = true;
    }

    private static HostPrefixCache<FakeState> NewCache(long budget) => new(budget, s => s.Size);

    private static LlamaToken[] Tokens(params int[] ids) => [.. ids.Select(i => new LlamaToken(i))];

    private static bool Add(HostPrefixCache<FakeState> cache, LlamaToken[] tokens, FakeState state, long lastUsed) =>
        cache.Add(tokens, state.Size, () => state, lastUsed);

    [Fact]
    public void Add_OverBudget_DropsTheLeastRecentlyUsedFirst()
    {
        using var cache = NewCache(budget: 250);
        var (a, b, c) = (new FakeState(100), new FakeState(100), new FakeState(100));
        Add(cache, Tokens(1, 2, 3), a, lastUsed: 2);
        Add(cache, Tokens(4, 5, 6), b, lastUsed: 1);
        Add(cache, Tokens(7, 8, 9), c, lastUsed: 3);

        Assert.True(b.Disposed); // used longest ago, though added later
        Assert.False(a.Disposed);
        Assert.Equal((2, 200L, 1L), (cache.Count, cache.Bytes, cache.Evictions));
        Assert.Equal(0, cache.FindLongest(Tokens(4, 5, 6, 7), limit: 3).Common);
    }

    [Fact]
    public void Add_MakesRoomBeforeItSaves()
    {
        using var cache = NewCache(budget: 250);
        var (old, extended) = (new FakeState(100), new FakeState(100));
        Add(cache, Tokens(1, 2), old, lastUsed: 1);
        Add(cache, Tokens(5, 6), extended, lastUsed: 2);

        // Its memory can be what the dropped entries freed: they are gone when it is copied out.
        var disposedBeforeSave = (false, false);
        cache.Add(Tokens(5, 6, 7), 160, () => { disposedBeforeSave = (old.Disposed, extended.Disposed); return new FakeState(160); }, lastUsed: 3);

        Assert.Equal((true, true), disposedBeforeSave);
        Assert.Equal((1, 160L, 1L), (cache.Count, cache.Bytes, cache.Evictions));
    }

    [Fact]
    public void Add_ExtendingAnEntry_ReplacesItWithoutCountingAnEviction()
    {
        using var cache = NewCache(budget: 1000);
        var shorter = new FakeState(100);
        Add(cache, Tokens(1, 2), shorter, lastUsed: 1);
        Add(cache, Tokens(1, 2, 3, 4), new FakeState(200), lastUsed: 2);

        Assert.True(shorter.Disposed);
        Assert.Equal((1, 200L, 0L), (cache.Count, cache.Bytes, cache.Evictions));
        Assert.True(cache.Holds([.. Tokens(1, 2, 3)]));
        Assert.False(cache.Holds([.. Tokens(1, 3)]));
    }

    [Fact]
    public void Add_LargerThanTheBudget_NotSavedAndNothingDropped()
    {
        using var cache = NewCache(budget: 150);
        var kept = new FakeState(100);
        Add(cache, Tokens(1), kept, lastUsed: 1);
        var saved = false;

        Assert.False(cache.Add(Tokens(2), 151, () => { saved = true; return new FakeState(151); }, lastUsed: 2));
        Assert.False(saved); // not even copied out
        Assert.False(kept.Disposed);
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public void Add_WithAPinnedEntry_NeverDropsIt()
    {
        using var cache = NewCache(budget: 250);
        var pinned = new FakeState(100);
        var other = new FakeState(100);
        Add(cache, Tokens(1, 2), pinned, lastUsed: 1);
        Add(cache, Tokens(5, 6), other, lastUsed: 2);
        cache.Pinned = cache.FindLongest(Tokens(1, 2, 3), limit: 3).Entry;

        // Room is made from the unpinned entry, though it is the more recent one; an entry that extends the pinned
        // one does not replace it; one that fits only without the pinned entry is refused.
        Add(cache, Tokens(1, 2, 3), new FakeState(100), lastUsed: 3);
        Assert.False(pinned.Disposed);
        Assert.True(other.Disposed);
        Assert.False(Add(cache, Tokens(9), new FakeState(200), lastUsed: 4));
        Assert.False(pinned.Disposed);
    }

    [Fact]
    public void FindLongest_TheEntrySharingMostWithinTheLimit()
    {
        using var cache = NewCache(budget: 1000);
        Add(cache, Tokens(1, 2, 3, 4, 5), new FakeState(10), lastUsed: 1);
        Add(cache, Tokens(1, 2, 9), new FakeState(10), lastUsed: 2);

        var (entry, common) = cache.FindLongest(Tokens(1, 2, 3, 4, 5, 6), limit: 5);
        Assert.Equal(5, common);
        Assert.Equal(Tokens(1, 2, 3, 4, 5), entry!.Tokens);
        Assert.Equal(3, cache.FindLongest(Tokens(1, 2, 3, 4, 5, 6), limit: 3).Common); // all but the last token, say
        var (none, zero) = cache.FindLongest(Tokens(7, 1, 2), limit: 2);
        Assert.Null(none);
        Assert.Equal(0, zero);
    }

    [Fact]
    public void Dispose_FreesEveryEntry()
    {
        var states = new[] { new FakeState(1), new FakeState(2) };
        var cache = NewCache(budget: 100);
        Add(cache, Tokens(1), states[0], lastUsed: 1);
        Add(cache, Tokens(2), states[1], lastUsed: 2);

        cache.Dispose();

        Assert.All(states, s => Assert.True(s.Disposed));
        Assert.Equal((0, 0L), (cache.Count, cache.Bytes));
    }
}

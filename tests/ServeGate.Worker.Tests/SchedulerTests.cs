using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ServeGate.LlamaCpp;
using ServeGate.LlamaCpp.Native;
using ServeGate.Tests.Common;
using ServeGate.Worker.Inference;
using ServeGate.Worker.Scheduling;

namespace ServeGate.Worker.Tests;

/// <summary>One tiny model loaded once for the scheduler tests (each test makes its own scheduler and context).</summary>
public sealed class TinyModelFixture : IAsyncLifetime
{
    public LlamaModel Base { get; private set; } = null!;

    public LlamaModel Instruct { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        // Loaded as the worker loads them by default (weights repacked for the fastest kernels).
        Base = LlamaModel.Load(await TestModels.GetAsync(TestModel.TinyBase));
        Instruct = LlamaModel.Load(await TestModels.GetAsync(TestModel.TinyInstruct));
    }

    public Task DisposeAsync()
    {
        Base.Dispose();
        Instruct.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>
/// Continuous batching and KV-cache reuse against real llama.cpp: outputs do not depend on what runs beside them,
/// cached_tokens is exact, cancelled sequences free their cells, the queue bound answers, long prompts do not starve
/// running streams, and attributed compute adds up to the decode time.
/// </summary>
/// <remarks>Every test runs against both KV-cache layouts (<see cref="KvCacheLayout"/>).</remarks>
public abstract class SchedulerTests(TinyModelFixture models) : IClassFixture<TinyModelFixture>
{
    protected abstract KvCacheLayout Layout { get; }

    private const string System = "You are ServeGate's test assistant. Answer every question in one short sentence, "
        + "politely, and never mention that you are a language model. Today is a good day to test prefix caching.";

    private static readonly SamplingSettings Greedy = new() { Temperature = 0 };

    private InferenceScheduler NewScheduler(Action<SchedulerOptions>? configure = null, ILogger? logger = null)
    {
        var options = new SchedulerOptions { Parallel = 8, ContextLength = 1024, MaxQueue = 16, KvLayout = Layout };
        configure?.Invoke(options);
        return new InferenceScheduler(models.Base, options, logger ?? NullLogger.Instance);
    }

    private GenerationRequest Request(string prompt, int maxTokens, SamplingSettings? sampling = null, bool ignoreEos = true) => new()
    {
        RequestId = Guid.NewGuid().ToString("N"),
        Prompt = models.Base.Tokenize(prompt, addSpecial: true, parseSpecial: false),
        MaxTokens = maxTokens,
        Sampling = sampling ?? Greedy,
        IgnoreEos = ignoreEos,
    };

    private static GenerationHandle Submit(InferenceScheduler scheduler, GenerationRequest request, CancellationToken cancellationToken = default)
    {
        Assert.True(scheduler.TrySubmit(request, cancellationToken, out var handle), "the queue refused the request");
        return handle;
    }

    private static async Task<(string Text, GenerationResult Result)> CollectAsync(GenerationHandle handle)
    {
        var text = new System.Text.StringBuilder();
        GenerationResult? result = null;
        await foreach (var e in handle.Events.ReadAllAsync())
        {
            switch (e)
            {
                case TextDelta d:
                    text.Append(d.Text);
                    break;
                case GenerationCompleted c:
                    result = c.Result;
                    break;
            }
        }

        return (text.ToString(), result!);
    }

    private static int CommonPrefix(IReadOnlyList<LlamaToken> a, IReadOnlyList<LlamaToken> b)
    {
        var n = 0;
        while (n < a.Count && n < b.Count && a[n] == b[n])
        {
            n++;
        }

        return n;
    }

    /// <summary>
    /// Floating-point sums run in a different order when other sequences share a step (llama.cpp picks kernels by batch
    /// shape), so logits move by tiny amounts. With random weights the logits are nearly flat, so that can flip a
    /// near-tie; anything else would be a batching bug (a wrong position, a leaked sampler or KV cell). The test demands
    /// identical tokens up to the first place where the two best candidates were within <see cref="NearTie"/> nats.
    /// </summary>
    private const float NearTie = 0.02f;

    private static async Task<(GenerationResult Result, List<TokenLogprob> Logprobs)> CollectWithLogprobsAsync(GenerationHandle handle)
    {
        var logprobs = new List<TokenLogprob>();
        GenerationResult? result = null;
        await foreach (var e in handle.Events.ReadAllAsync())
        {
            if (e is TextDelta { Logprobs: { } l })
            {
                logprobs.AddRange(l);
            }
            else if (e is GenerationCompleted c)
            {
                result = c.Result;
            }
        }

        return (result!, logprobs);
    }

    private static void AssertSameUpToNearTie(List<TokenLogprob> reference, IReadOnlyList<LlamaToken> expected, IReadOnlyList<LlamaToken> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        var first = Enumerable.Range(0, expected.Count).FirstOrDefault(i => expected[i] != actual[i], -1);
        if (first >= 0)
        {
            var top = reference[first].Top;
            var gap = top[0].Logprob - top[1].Logprob;
            Assert.True(gap < NearTie, $"token {first} differs although the best candidate led by {gap:F4} nats");
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task InlineStreaming_TokensContinueTheWaitingReaderOnTheSchedulerThreadAndTheEndDoesNot(bool inline)
    {
        await using var scheduler = NewScheduler(o => o.InlineStreaming = inline);
        var handle = Submit(scheduler, Request("Once upon a time", 8));
        var tokenThreads = new List<string?>();
        string? endThread = null;

        // No synchronization context, as in ASP.NET: a continuation runs where the channel's writer lets it.
        await Task.Run(async () =>
        {
            await foreach (var e in handle.Events.ReadAllAsync().ConfigureAwait(false))
            {
                if (e is GenerationCompleted)
                {
                    endThread = Thread.CurrentThread.Name;
                }
                else
                {
                    tokenThreads.Add(Thread.CurrentThread.Name);
                }
            }
        });

        Assert.NotEmpty(tokenThreads);
        Assert.Equal(inline, tokenThreads.Contains("servegate-scheduler")); // written, and sent, before the next step
        Assert.NotEqual("servegate-scheduler", endThread); // the response's end runs off the decode loop
    }

    [Fact]
    public async Task Greedy_AloneAndBatchedBesideSeven_SameTokensUpToNearTie()
    {
        await using var scheduler = NewScheduler();
        var target = Request("The history of the printing press begins", 32) with { TopLogprobs = 2 };
        var alone = await CollectWithLogprobsAsync(Submit(scheduler, target));

        var others = Enumerable.Range(0, 7)
            .Select(i => Request($"Neighbour {i}: " + string.Concat(Enumerable.Repeat("words and more words ", i * 7 + 1)), 8 + i * 9))
            .ToList();
        var neighbours = others.Take(3).Select(r => CollectAsync(Submit(scheduler, r))).ToList();
        var batched = CollectWithLogprobsAsync(Submit(scheduler, target with { RequestId = "again" }));
        neighbours.AddRange(others.Skip(3).Select(r => CollectAsync(Submit(scheduler, r))));
        await Task.WhenAll(neighbours);

        AssertSameUpToNearTie(alone.Logprobs, alone.Result.CompletionTokenIds, (await batched).Result.CompletionTokenIds);
    }

    [Fact]
    public async Task Seeded_AloneAndBatched_SameSampleUpToNearTie()
    {
        await using var scheduler = NewScheduler();
        var sampling = new SamplingSettings { Temperature = 0.9f, TopP = 0.9f, TopK = 40, Seed = 7 };
        var target = Request("Sampling with a seed is repeatable", 24, sampling) with { TopLogprobs = 2 };
        var alone = await CollectWithLogprobsAsync(Submit(scheduler, target));
        var again = await CollectWithLogprobsAsync(Submit(scheduler, target with { RequestId = "again" }));

        var neighbours = Enumerable.Range(0, 5)
            .Select(i => CollectAsync(Submit(scheduler, Request($"Other prompt number {i} is different", 20, sampling with { Seed = (uint)i }))))
            .ToList();
        var batched = await CollectWithLogprobsAsync(Submit(scheduler, target with { RequestId = "batched" }));
        await Task.WhenAll(neighbours);

        // Alone twice: identical. Batched: the same random draws; only a near-tie in the distribution can tip one.
        Assert.Equal(alone.Result.CompletionTokenIds, again.Result.CompletionTokenIds);
        AssertSameUpToNearTie(alone.Logprobs, alone.Result.CompletionTokenIds, batched.Result.CompletionTokenIds);
    }

    [Fact]
    public async Task CachedTokens_IdenticalPrompt_AllButLastToken()
    {
        await using var scheduler = NewScheduler();
        var request = Request(System + " Question: what is a cache?", 4);

        var first = await CollectAsync(Submit(scheduler, request));
        var second = await CollectAsync(Submit(scheduler, request with { RequestId = "2" }));

        Assert.Equal(0, first.Result.CachedTokens);
        Assert.Equal(request.Prompt.Length - 1, second.Result.CachedTokens);
        Assert.Equal(first.Result.CompletionTokenIds, second.Result.CompletionTokenIds);
    }

    [Fact]
    public async Task CachedTokens_PromptSeenBeforeAnotherRequest_StillCached()
    {
        // One running sequence: the second request takes the sequence the first used, so the first prompt survives
        // only if it was kept elsewhere (per sequence: copied to a cache slot; shared: its cells stay in the pool).
        await using var scheduler = NewScheduler(o => o.Parallel = 1);
        var a = Request(System + " Question: what is a cache?", 8) with { TopLogprobs = 2 };

        var first = await CollectWithLogprobsAsync(Submit(scheduler, a));
        await CollectAsync(Submit(scheduler, Request("An unrelated prompt about the weather in spring, with nothing in common.", 4)));
        var again = await CollectWithLogprobsAsync(Submit(scheduler, a with { RequestId = "again" }));

        Assert.Equal(a.Prompt.Length - 1, again.Result.CachedTokens);

        // The kept cells are the prompt's own: generating on them gives what computing the prompt gave.
        AssertSameUpToNearTie(first.Logprobs, first.Result.CompletionTokenIds, again.Result.CompletionTokenIds);
    }

    [Fact]
    public async Task CachedTokens_SharedSystemPrompt_ExactlyTheCommonPrefix()
    {
        await using var scheduler = NewScheduler();
        var a = Request(System + " Question: what is a cache?", 4);
        var b = Request(System + " Question: why batch requests?", 4);

        await CollectAsync(Submit(scheduler, a));
        var second = await CollectAsync(Submit(scheduler, b));

        var expected = CommonPrefix(a.Prompt, b.Prompt);
        Assert.True(expected > 20);
        Assert.Equal(expected, second.Result.CachedTokens);
    }

    [Fact]
    public async Task CachedTokens_SharedSystemPromptInTurn_ReusedWhereTheLaneHoldsItAndKeptWhileIdle()
    {
        // One lane, three cache slots, three requests in turn with one system prompt. Each request finds the prefix in
        // the lane (the previous request's cells) and, from the second on, also in a cache slot.
        await using var scheduler = NewScheduler(o =>
        {
            o.Parallel = 1;
            o.CacheSlots = 3;
        });
        var requests = Enumerable.Range(0, 3).Select(i => Request(System + $" Question {i}: what is a lane?", 4)).ToList();
        for (var i = 0; i < requests.Count; i++)
        {
            var result = await CollectAsync(Submit(scheduler, requests[i]));
            Assert.Equal(i == 0 ? 0 : CommonPrefix(requests[i - 1].Prompt, requests[i].Prompt), result.Result.CachedTokens);
        }

        // Per sequence: one copy per request, each made while the scheduler was idle: the lane's history to an empty
        // cache slot. A request reuses the lane's cells in place. (Taking the cache slot's equal prefix instead cleared
        // the lane and copied the same cells back: 5 copies. Copying the history only when the next request takes the
        // lane puts the copy before its first token: 2.) Shared: every prefix is reused in place, no copies.
        var expected = Layout == KvCacheLayout.PerSequence ? 3 : 0;
        var copies = await SettledAsync(() => scheduler.Counters.KvCopies, expected);
        Assert.Equal(expected, copies);
    }

    /// <summary>A counter the scheduler thread moves on its own: once it has reached <paramref name="atLeast"/>, its value after it stops moving.</summary>
    private static async Task<long> SettledAsync(Func<long> read, long atLeast)
    {
        var deadline = Stopwatch.StartNew();
        var value = read();
        while (value < atLeast && deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(10);
            value = read();
        }

        // Anything still to come follows within milliseconds on the tiny model.
        await Task.Delay(300);
        return read();
    }

    [Fact]
    public async Task CachedTokens_ColdBurstWithSharedPrefix_PrefilledOnceThenCopied()
    {
        await using var scheduler = NewScheduler(o => o.Parallel = 4);

        // Four requests at once on a cold cache, each on its own sequence: the first prefills the shared system prompt,
        // the others wait for those cells and copy them (llama_memory_seq_cp) instead of computing them again.
        var requests = Enumerable.Range(0, 4).Select(i => Request(System + $" Question {i}: tell me something.", 4)).ToList();
        var handles = requests.Select(r => Submit(scheduler, r)).ToList();
        var results = await Task.WhenAll(handles.Select(CollectAsync));

        Assert.Equal(0, results[0].Result.CachedTokens);
        for (var i = 1; i < 4; i++)
        {
            Assert.Equal(CommonPrefix(requests[0].Prompt, requests[i].Prompt), results[i].Result.CachedTokens);
            Assert.True(results[i].Result.CachedTokens >= 30);
        }

        Assert.Equal(3, scheduler.Counters.PrefixHits);
    }

    [Fact]
    public async Task CachedTokens_ChatContinuation_ReusesPreviousTurnAndReply()
    {
        await using var scheduler = new InferenceScheduler(models.Instruct, new SchedulerOptions { Parallel = 2, ContextLength = 1024, KvLayout = Layout }, NullLogger.Instance);
        ChatTurn[] turn1 = [new("system", System), new("user", "Hello there")];
        var prompt1 = models.Instruct.Tokenize(models.Instruct.ApplyChatTemplate(turn1, addAssistant: true), addSpecial: true, parseSpecial: true);
        var first = await CollectAsync(Submit(scheduler, new GenerationRequest { RequestId = "t1", Prompt = prompt1, MaxTokens = 12, Sampling = Greedy, IgnoreEos = true }));

        ChatTurn[] turn2 = [.. turn1, new("assistant", first.Text), new("user", "And again?")];
        var prompt2 = models.Instruct.Tokenize(models.Instruct.ApplyChatTemplate(turn2, addAssistant: true), addSpecial: true, parseSpecial: true);
        var second = await CollectAsync(Submit(scheduler, new GenerationRequest { RequestId = "t2", Prompt = prompt2, MaxTokens = 4, Sampling = Greedy, IgnoreEos = true }));

        // The cache holds turn 1's prompt and every generated token but the last (never fed back).
        var cached = prompt1.Concat(first.Result.CompletionTokenIds.Take(first.Result.CompletionTokenIds.Count - 1)).ToList();
        var reusable = Math.Min(CommonPrefix(cached, prompt2), prompt2.Length - 1);
        Assert.True(reusable >= prompt1.Length - 1, $"expected reuse {reusable} of a {prompt1.Length}-token first turn");

        // Per sequence, a short new turn may recompute a few of those tokens to fill an attention tile, where the
        // scheduler measured that faster at start (the tiny model's untiled attention is ~10x a tile's): cached_tokens
        // counts the tokens reused.
        var recomputed = scheduler.TileCosts?.TokensToRecompute(prompt2.Length - reusable, reusable, AttentionTileCosts.TileRows, new SchedulerOptions().MinPrefixReuseTokens) ?? 0;
        Assert.Equal(reusable - recomputed, second.Result.CachedTokens);
        Assert.Equal(recomputed, scheduler.Counters.RecomputedTokens);
    }

    [Fact]
    public async Task SuffixRecompute_MeasuredAtStart_LeavesNoTrace()
    {
        await using var scheduler = NewScheduler();
        await scheduler.Started;

        Assert.All(scheduler.SnapshotLastPositions(), position => Assert.Equal(-1, position)); // no KV cells left
        Assert.Equal(0, scheduler.Counters.Steps);
        if (Layout == KvCacheLayout.Shared)
        {
            Assert.Null(scheduler.TileCosts); // every stream's cells are in range: a prefix's depth does not decide
            return;
        }

        var costs = scheduler.TileCosts;
        Assert.NotNull(costs);
        Assert.Equal(Math.Min(1024, scheduler.SequenceLimit - AttentionTileCosts.TileRows - 1), costs.Depth);
        Assert.All([costs.ShortMs, costs.ShortDeepMs, costs.TileMs, costs.TileDeepMs], ms => Assert.True(ms > 0));
    }

    [Fact]
    public async Task SuffixRecompute_Off_MeasuresNothingAndReusesEveryCachedToken()
    {
        await using var scheduler = NewScheduler(o => o.SuffixRecompute = SuffixRecomputeMode.Off);
        var longSystem = string.Join(" ", Enumerable.Repeat(System, 3));
        await CollectAsync(Submit(scheduler, Request(longSystem + " Question: what is a tile?", 2)));
        var b = Request(longSystem + " Question: and a cache?", 2);
        var result = await CollectAsync(Submit(scheduler, b));

        Assert.Null(scheduler.TileCosts);
        Assert.Equal(CommonPrefix(Request(longSystem + " Question: what is a tile?", 2).Prompt, b.Prompt), result.Result.CachedTokens);
        Assert.Equal(0, scheduler.Counters.RecomputedTokens);
    }

    [Fact]
    public async Task CachedTokens_ShortSuffixOnLongPrefix_RecomputedToFillATileWithTheSameOutput()
    {
        await using var scheduler = NewScheduler(o => o.SuffixRecompute = SuffixRecomputeMode.Off);
        await scheduler.Started;
        scheduler.UseTileCosts(new AttentionTileCosts(1024, ShortMs: 100, ShortDeepMs: 1000, TileMs: 10, TileDeepMs: 20));
        var longSystem = string.Join(" ", Enumerable.Repeat(System, 3));
        var a = Request(longSystem + " Question: what is a tile?", 4);
        var b = Request(longSystem + " Question: and a cache?", 8) with { TopLogprobs = 2 };
        await CollectAsync(Submit(scheduler, a));
        var warm = await CollectWithLogprobsAsync(Submit(scheduler, b));

        // The suffix and the cached tokens recomputed with it make one tile of 64 rows; cached_tokens counts the rest.
        var common = CommonPrefix(a.Prompt, b.Prompt);
        var suffix = b.Prompt.Length - common;
        Assert.InRange(suffix, 2, AttentionTileCosts.TileRows - 1);
        Assert.Equal(b.Prompt.Length - AttentionTileCosts.TileRows, warm.Result.CachedTokens);
        Assert.Equal(AttentionTileCosts.TileRows - suffix, scheduler.Counters.RecomputedTokens);

        // The recomputed cells continue the reused ones: the output is the prompt's computed cold.
        await using var cold = NewScheduler(o => o.SuffixRecompute = SuffixRecomputeMode.Off);
        var reference = await CollectWithLogprobsAsync(Submit(cold, b with { RequestId = "cold" }));
        Assert.Equal(0, reference.Result.CachedTokens);
        AssertSameUpToNearTie(reference.Logprobs, reference.Result.CompletionTokenIds, warm.Result.CompletionTokenIds);
    }

    /// <summary>
    /// A scheduler whose KV cache holds fewer prefixes than three ~100-token prompts. Shared: 256 KV cells (llama.cpp's
    /// minimum step): two such sequences fit, a third forces the least recently used idle one out. Per sequence: one
    /// lane and one cache slot; the third request's lane content pushes the first prompt out of the only cache slot.
    /// </summary>
    private InferenceScheduler NewTightScheduler(int hostCacheMiB, Action<SchedulerOptions>? configure = null) => NewScheduler(o =>
    {
        o.Parallel = 1;
        o.ContextLength = 256;
        o.HostCacheMiB = hostCacheMiB;
        o.SuffixRecompute = SuffixRecomputeMode.Off;
        if (Layout == KvCacheLayout.Shared)
        {
            o.CacheSlots = 3;
            o.KvCacheTokens = 256;
        }
        else
        {
            o.CacheSlots = 1;
        }

        configure?.Invoke(o);
    });

    private GenerationRequest TopicRequest(string topic, int maxTokens = 8) =>
        Request(topic + ": " + string.Concat(Enumerable.Repeat($"{topic} is a word about {topic}. ", 11)), maxTokens);

    [Fact]
    public async Task CachedTokens_PrefixEvictedUnderMemoryPressure_Zero()
    {
        // Evicted from the KV cache with no host memory to keep it in (HostCacheMiB = 0): gone.
        await using var scheduler = NewTightScheduler(hostCacheMiB: 0);
        Assert.Equal(Layout == KvCacheLayout.Shared ? 256 : 512, scheduler.KvCacheCells);
        var a = TopicRequest("alpha");
        Assert.InRange(a.Prompt.Length, 80, 120);

        await CollectAsync(Submit(scheduler, a));
        await CollectAsync(Submit(scheduler, TopicRequest("bravo")));
        await CollectAsync(Submit(scheduler, TopicRequest("charlie")));
        var again = await CollectAsync(Submit(scheduler, a with { RequestId = "again" }));

        Assert.True(scheduler.Counters.Evictions >= 1, $"evictions {scheduler.Counters.Evictions}, prompt {a.Prompt.Length}, cached {again.Result.CachedTokens}, slots {string.Join(",", scheduler.SnapshotSlots())}");
        Assert.Equal(0, again.Result.CachedTokens);
        Assert.Equal(0, scheduler.Counters.HostSaves);
    }

    [Fact]
    public async Task CachedTokens_PrefixEvictedIntoHostMemory_RestoredExactlyWithTheSameOutput()
    {
        await using var scheduler = NewTightScheduler(hostCacheMiB: 64);
        var a = TopicRequest("alpha", 16) with { TopLogprobs = 2 };
        var cold = await CollectWithLogprobsAsync(Submit(scheduler, a));
        await CollectAsync(Submit(scheduler, TopicRequest("bravo")));
        await CollectAsync(Submit(scheduler, TopicRequest("charlie")));
        Assert.True(scheduler.Counters.Evictions >= 1, $"evictions {scheduler.Counters.Evictions}");
        Assert.True(scheduler.Counters.HostSaves >= 1, $"host saves {scheduler.Counters.HostSaves}");
        Assert.True(scheduler.Counters.HostBytes > 0);

        var again = await CollectWithLogprobsAsync(Submit(scheduler, a with { RequestId = "again" }));

        // Its whole prompt but the last token (computed for the first logits) came back from host memory, and the
        // cells continue as computed: the output is the cold one.
        Assert.Equal(1, scheduler.Counters.HostRestores);
        Assert.Equal(a.Prompt.Length - 1, again.Result.CachedTokens);
        AssertSameUpToNearTie(cold.Logprobs, cold.Result.CompletionTokenIds, again.Result.CompletionTokenIds);
    }

    [Fact]
    public async Task HostMemory_ACopyThatFails_GivesThePrefixUpAndServesOn()
    {
        await using var scheduler = NewTightScheduler(hostCacheMiB: 64, o => o.FaultForTest = point =>
        {
            if (point == SchedulerFaultPoint.HostSave)
            {
                throw new LlamaException("test: the copy to host memory failed");
            }
        });
        var a = TopicRequest("alpha");
        var results = new List<GenerationResult>();
        foreach (var request in new[] { a, TopicRequest("bravo"), TopicRequest("charlie"), a with { RequestId = "again" } })
        {
            results.Add((await CollectAsync(Submit(scheduler, request))).Result);
        }

        // Every request served; the evicted prefix is gone as without host memory, and the model is still up.
        Assert.All(results, r => Assert.Equal(FinishReason.Length, r.FinishReason));
        Assert.True(scheduler.Counters.Evictions >= 1);
        Assert.Equal((0L, 0L), (scheduler.Counters.HostSaves, scheduler.Counters.HostBytes));
        Assert.Equal(0, results[^1].CachedTokens);
        Assert.Null(scheduler.Failure);
    }

    [Fact]
    public async Task HostMemory_ALaneItHoldsAlready_IsNotCopiedIntoACacheSlot()
    {
        if (Layout != KvCacheLayout.PerSequence)
        {
            return; // shared: the slots are the cache, nothing is copied between them
        }

        await using var scheduler = NewTightScheduler(hostCacheMiB: 64);
        var a = TopicRequest("alpha");
        await CollectAsync(Submit(scheduler, a));
        await CollectAsync(Submit(scheduler, TopicRequest("bravo")));
        await CollectAsync(Submit(scheduler, TopicRequest("charlie"))); // alpha goes to host memory
        await CollectAsync(Submit(scheduler, a with { RequestId = "again", MaxTokens = 1 }));
        Assert.Equal(1, scheduler.Counters.HostRestores);

        // The lane now holds alpha's prompt, which host memory holds (with more): the next request takes the lane
        // without a copy into the cache slot, which keeps what it holds.
        var (copies, saves) = (scheduler.Counters.KvCopies, scheduler.Counters.HostSaves);
        await CollectAsync(Submit(scheduler, TopicRequest("delta")));

        Assert.Equal((copies, saves), (scheduler.Counters.KvCopies, scheduler.Counters.HostSaves));
    }

    [Fact]
    public async Task Cancel_MidStream_FinishesCancelledAndFreesCells()
    {
        await using var scheduler = NewScheduler(o => o.Parallel = 2);
        using var cancel = new CancellationTokenSource();
        var handle = Submit(scheduler, Request("A long story that will be interrupted", 1000), cancel.Token);

        // A tiny model decodes a token in about a millisecond, faster than a reader of the events may run: watch the
        // scheduler's own count, cancel after five tokens, and expect it to stop within one step of that count.
        long atCancel = -1;
        var canceller = new Thread(() =>
        {
            handle.Started.Wait(); // after the scheduler's warm-up, whose tokens are not counted
            while (scheduler.Counters.CompletionTokens < 5)
            {
                Thread.Yield();
            }

            // Read after cancelling: a canceller preempted in between (two busy cores) then cannot make the scheduler
            // look late.
            cancel.Cancel();
            atCancel = scheduler.Counters.CompletionTokens;
        }) { IsBackground = true, Name = "test-canceller" };
        canceller.Start();
        GenerationResult? result = null;
        await foreach (var e in handle.Events.ReadAllAsync())
        {
            if (e is GenerationCompleted c)
            {
                result = c.Result;
            }
        }

        canceller.Join();
        Assert.Equal(FinishReason.Cancelled, result!.FinishReason);
        Assert.InRange(result.CompletionTokens, 5, atCancel + 2);
        Assert.All(scheduler.SnapshotSlots(), s => Assert.Equal((0, false), s));
    }

    [Fact]
    public async Task TrySubmit_QueueFull_Refused()
    {
        await using var scheduler = NewScheduler(o =>
        {
            o.Parallel = 1;
            o.MaxQueue = 1;
        });
        using var cancel = new CancellationTokenSource();
        var running = Submit(scheduler, Request("first", 300), cancel.Token);
        await running.Started;
        var queued = Submit(scheduler, Request("second", 2), cancel.Token);

        var accepted = scheduler.TrySubmit(Request("third", 2), CancellationToken.None, out _);

        Assert.False(accepted);
        await cancel.CancelAsync();
        await CollectAsync(running);
        Assert.Equal(FinishReason.Cancelled, (await CollectAsync(queued)).Result.FinishReason);
    }

    [Fact]
    public async Task Crash_FailsRunningAndQueuedRequestsAtOnce_AndRefusesNewOnes()
    {
        var crash = 0;
        await using var scheduler = NewScheduler(o =>
        {
            o.Parallel = 1;
            o.MaxQueue = 4;
            o.FaultForTest = point =>
            {
                if (point == SchedulerFaultPoint.Loop && Volatile.Read(ref crash) == 1)
                {
                    throw new LlamaException("llama_decode failed (injected)");
                }
            };
        });
        var running = Submit(scheduler, Request("first", 2000));
        await running.Started;
        var queued = Submit(scheduler, Request("second", 2));

        var clock = Stopwatch.StartNew();
        Volatile.Write(ref crash, 1);
        var (_, runningResult) = await CollectAsync(running);
        var (_, queuedResult) = await CollectAsync(queued);

        // Both end with the scheduler's error within a step, not after a queue timeout.
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(5));
        Assert.Equal(FinishReason.Error, runningResult.FinishReason);
        Assert.InRange(runningResult.CompletionTokens, 1, 1999);
        Assert.Equal(FinishReason.Error, queuedResult.FinishReason);
        Assert.Contains("internal error", queuedResult.Error, StringComparison.Ordinal);
        Assert.IsType<LlamaException>(scheduler.Failure);
        Assert.False(scheduler.TrySubmit(Request("third", 2), CancellationToken.None, out _));
        Assert.Equal(0, scheduler.Counters.Queued);
    }

    [Fact]
    public async Task Crash_WhileWarmingUp_StartsFailed()
    {
        await using var scheduler = NewScheduler(o => o.FaultForTest = point =>
        {
            if (point == SchedulerFaultPoint.Start)
            {
                throw new LlamaException("llama_decode failed (injected)");
            }
        });

        await scheduler.Started.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.IsType<LlamaException>(scheduler.Failure);
        Assert.False(scheduler.TrySubmit(Request("first", 2), CancellationToken.None, out _));
    }

    [Fact]
    public async Task TraceLog_ShowsWhatEachSequencePutInEachStep()
    {
        var logger = new ListLogger();
        await using var scheduler = NewScheduler(o => o.Parallel = 2, logger);
        await scheduler.Started.WaitAsync(TimeSpan.FromSeconds(30));
        logger.Messages.Clear(); // the warm-up's own steps
        var request = Request("Trace every step of this one", 3);
        var n = request.Prompt.Length;

        var (_, result) = await CollectAsync(Submit(scheduler, request));

        Assert.Equal(3, result.CompletionTokens);
        var steps = logger.Steps();
        // The prompt in one step (its last row gives the first token), then one step per further generated token.
        Assert.Contains(steps, m => Regex.IsMatch(m, $@"^Step of {n} tokens in \d+\.\d ms: \d+:{n}p$"));
        Assert.Equal(2, steps.Count(m => Regex.IsMatch(m, @"^Step of 1 tokens in \d+\.\d ms: \d+:1g$")));
    }

    [Fact]
    public async Task ChunkedPrefill_OtherWaitingPromptsRideInTheStepsMicroBatch()
    {
        var logger = new ListLogger();
        await using var scheduler = NewScheduler(o =>
        {
            o.Parallel = 4;
            o.PrefillChunkTokens = 32;
        }, logger);
        using var stop = new CancellationTokenSource();
        var running = Submit(scheduler, Request("A running stream", 1000), stop.Token);
        await running.Events.ReadAsync(); // generating
        var prompts = new[] { "first waiting prompt ", "second waiting prompt ", "third waiting prompt " }
            .Select(p => Request(string.Concat(Enumerable.Repeat(p, 40)), 2)).ToArray();
        Assert.All(prompts, p => Assert.True(p.Prompt.Length > 64));

        var results = await Task.WhenAll(prompts.Select(p => CollectAsync(Submit(scheduler, p))));
        await stop.CancelAsync();

        Assert.All(results, r => Assert.Equal(2, r.Result.CompletionTokens));
        var steps = logger.Steps();
        if (Layout == KvCacheLayout.PerSequence)
        {
            // One prompt's 32-token chunk beside the running stream's token, and the others' one token each (they
            // would otherwise split the step's one-token-per-sequence micro-batch).
            Assert.Contains(steps, m => m.Contains(":32p", StringComparison.Ordinal) && Regex.Matches(m, @":1p\b").Count == 2);
        }
        else
        {
            // One pool: every prompt within the step's budget, no single tokens.
            Assert.DoesNotContain(steps, m => Regex.IsMatch(m, @":1p\b"));
        }
    }

    [Fact]
    public async Task OutOfIdle_RequestsArrivingTogetherStartInOneStep()
    {
        var logger = new ListLogger();
        await using var scheduler = NewScheduler(o =>
        {
            o.Parallel = 4;
            o.GatherWindow = TimeSpan.FromMilliseconds(500);
        }, logger);
        await scheduler.Started.WaitAsync(TimeSpan.FromSeconds(30));
        // One request alone first: the scheduler then expects one, and a second arriving soon after says more come.
        await CollectAsync(Submit(scheduler, Request("A request on its own", 2)));
        logger.Messages.Clear();

        var handles = new List<GenerationHandle>();
        foreach (var word in new[] { "alpha", "beta", "gamma", "delta" })
        {
            handles.Add(Submit(scheduler, Request($"The {word} request arrives a little after the one before it", 2)));
            await Task.Delay(20); // clients' requests reach the server a few milliseconds apart
        }

        await Task.WhenAll(handles.Select(CollectAsync));

        // All four prompts in the first step, none alone.
        var first = logger.Messages.First(m => m.StartsWith("Step of ", StringComparison.Ordinal));
        Assert.Equal(4, Regex.Matches(first, @":\d+p\b").Count);
    }

    [Fact]
    public async Task OutOfIdle_WaitsOnlyForAsManyAsFinishedTogether()
    {
        var window = TimeSpan.FromSeconds(2);
        await using var scheduler = NewScheduler(o =>
        {
            o.Parallel = 4;
            o.GatherWindow = window;
        });
        await scheduler.Started.WaitAsync(TimeSpan.FromSeconds(30));

        // Before any request it expects a full batch, and waits the window for the rest of it.
        var (_, alone) = await CollectAsync(Submit(scheduler, Request("A first request on its own", 2)));
        // One request finished last: the next one alone waits only a tenth of the window for a second.
        var (_, next) = await CollectAsync(Submit(scheduler, Request("The next request on its own", 2)));

        Assert.True(alone.QueueMs + alone.TimeToFirstTokenMs >= window.TotalMilliseconds * 0.9, $"{alone.QueueMs} + {alone.TimeToFirstTokenMs} ms");
        Assert.True(next.TimeToFirstTokenMs < window.TotalMilliseconds / 2, $"{next.TimeToFirstTokenMs} ms");
    }

    [Fact]
    public async Task OutOfIdle_PromptsArrivingDuringTheFirstStepJoinTheNextInFull()
    {
        var logger = new ListLogger();
        using var firstStep = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var armed = 0;
        await using var scheduler = NewScheduler(o =>
        {
            o.Parallel = 4;
            o.PrefillChunkTokens = 32;
            o.GatherWindow = TimeSpan.Zero; // the first request starts alone at once, as when the rest come too late
            o.FaultForTest = point =>
            {
                // Holds the first step after arming until the late prompts are queued: they arrive during it.
                if (point == SchedulerFaultPoint.Decode && Interlocked.Exchange(ref armed, 0) == 1)
                {
                    firstStep.Set();
                    release.Wait(TimeSpan.FromSeconds(30));
                }
            };
        }, logger);
        await scheduler.Started.WaitAsync(TimeSpan.FromSeconds(30));
        Volatile.Write(ref armed, 1);
        var first = Submit(scheduler, Request("The first request of a batch", 4));
        Assert.True(firstStep.Wait(TimeSpan.FromSeconds(30)));
        var late = new[] { "first late arrival ", "second late arrival " }
            .Select(p => Request(string.Concat(Enumerable.Repeat(p, 20)), 2)).ToArray();
        Assert.All(late, p => Assert.True(p.Prompt.Length > 40));
        var lateHandles = late.Select(p => Submit(scheduler, p)).ToArray();
        release.Set();

        var results = await Task.WhenAll(lateHandles.Append(first).Select(CollectAsync)).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.All(results, r => Assert.Equal(FinishReason.Length, r.Result.FinishReason));
        var steps = logger.Steps();
        // Beside the first request's second token, both late prompts put in a full chunk (32 tokens), not one prompt's
        // chunk per step: they then generate in step with each other.
        Assert.Contains(steps, m => Regex.IsMatch(m, @"\d+:1g \d+:32p \d+:32p$"));
    }

    [Fact]
    public async Task ChunkedPrefill_PromptsArrivingAfterTheFirstStepComeOneChunkPerStep()
    {
        var logger = new ListLogger();
        await using var scheduler = NewScheduler(o =>
        {
            o.Parallel = 4;
            o.PrefillChunkTokens = 32;
            o.GatherWindow = TimeSpan.Zero;
        }, logger);
        using var stop = new CancellationTokenSource();
        var running = Submit(scheduler, Request("A running stream", 1000), stop.Token);
        await running.Events.ReadAsync(); // its first step is over
        var late = new[] { "first late arrival ", "second late arrival " }
            .Select(p => Request(string.Concat(Enumerable.Repeat(p, 20)), 2)).ToArray();

        var results = await Task.WhenAll(late.Select(p => CollectAsync(Submit(scheduler, p)))).WaitAsync(TimeSpan.FromSeconds(60));
        await stop.CancelAsync();

        Assert.All(results, r => Assert.Equal(2, r.Result.CompletionTokens));
        var steps = logger.Steps();
        // The chunk bounds what a running stream waits for a token: never two prompts' chunks in one step.
        Assert.DoesNotContain(steps, m => Regex.IsMatch(m, @":32p \d+:32p"));
        Assert.Contains(steps, m => m.Contains(":32p", StringComparison.Ordinal));
    }

    [Fact]
    public async Task OutOfIdle_ShutdownWhileGathering_EndsTheWaitingRequestWithAnError()
    {
        var scheduler = NewScheduler(o =>
        {
            o.Parallel = 4;
            o.GatherWindow = TimeSpan.FromSeconds(1);
        });
        await scheduler.Started.WaitAsync(TimeSpan.FromSeconds(30));
        // Before any request a full batch is expected: this one waits the window for three more.
        var handle = Submit(scheduler, Request("A request that waits for company", 4));
        await Task.Delay(100);

        await scheduler.DisposeAsync();
        var (_, result) = await CollectAsync(handle).WaitAsync(TimeSpan.FromSeconds(30));

        // Ended, not left waiting: the queue's closing ends the gathering (a step may still run as the loop stops).
        Assert.Equal(FinishReason.Error, result.FinishReason);
        Assert.Contains("shutting down", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dispose_StopsTheSchedulerThreadWhileTheThreadPoolIsBusy()
    {
        var scheduler = NewScheduler(o => o.Parallel = 1);
        await scheduler.Started.WaitAsync(TimeSpan.FromSeconds(30));
        using var gate = new ManualResetEventSlim();
        var blockers = new List<Task>();
        try
        {
            // Every pool thread held, with work still queued behind them: the pool has no thread to lend.
            var saturated = Stopwatch.StartNew();
            while (ThreadPool.PendingWorkItemCount == 0 && saturated.Elapsed < TimeSpan.FromSeconds(10))
            {
                for (var i = 0; i < ThreadPool.ThreadCount + 2; i++)
                {
                    blockers.Add(Task.Run(() => gate.Wait(TimeSpan.FromSeconds(30))));
                }

                Thread.Sleep(10);
            }

            Assert.True(ThreadPool.PendingWorkItemCount > 0, "could not occupy the thread pool");
            var stopping = Stopwatch.StartNew();
            var disposing = scheduler.DisposeAsync().AsTask(); // its synchronous part closes the queue and cancels

            // The scheduler thread wakes from its wait and ends without a pool thread (the pool adds one only every
            // ~0.5 s when starved; before, the wake-up and the cancellation each needed one).
            // Waited on by blocking: an await would itself need a pool thread to resume.
#pragma warning disable xUnit1031
            var stopped = scheduler.Stopped.Wait(TimeSpan.FromSeconds(0.4));
#pragma warning restore xUnit1031
            Assert.True(stopped, $"the scheduler thread had not ended after {stopping.ElapsedMilliseconds} ms");
            gate.Set();
            await disposing.WaitAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            gate.Set();
            await Task.WhenAll(blockers).WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    private sealed class ListLogger : ILogger
    {
        public ConcurrentQueue<string> Messages { get; } = new();

        /// <summary>The scheduler's step log lines (Trace), in order.</summary>
        public List<string> Steps() => [.. Messages.Where(m => m.StartsWith("Step of ", StringComparison.Ordinal))];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Messages.Enqueue(formatter(state, exception));
    }

    [Fact]
    public async Task LongPrompt_ChunkedPrefill_RunningStreamKeepsGettingTokens()
    {
        await using var scheduler = NewScheduler(o =>
        {
            o.Parallel = 2;
            o.PrefillChunkTokens = 64;
            o.ContextLength = 2048;
        });
        var longPrompt = Request(string.Concat(Enumerable.Repeat("long prompt words ", 300)), 1);
        Assert.True(longPrompt.Prompt.Length > 640);
        var stream = Submit(scheduler, Request("A running stream", 1000));
        var streamTokens = 0L;
        var before = 0L;
        var submitted = new TaskCompletionSource<GenerationHandle>(TaskCreationOptions.RunContinuationsAsynchronously);

        // The long prompt goes in from the stream's own reader at its third token, so the stream is certainly running
        // then: submitted from the test's thread after polling, a stalled thread pool once let the tiny model finish
        // all 1,000 tokens first.
        var reader = Task.Run(async () =>
        {
            await foreach (var e in stream.Events.ReadAllAsync())
            {
                if (e is TextDelta d && Interlocked.Add(ref streamTokens, d.Tokens) is var n && n >= 3 && !submitted.Task.IsCompleted)
                {
                    before = n;
                    submitted.SetResult(Submit(scheduler, longPrompt));
                }
            }
        });
        // Counted when the long prompt's first token arrives: this reader waits for it, so it runs on the scheduler
        // thread as the token is written (inline streaming), before the stream's next step.
        var during = -1L;
        GenerationResult? result = null;
        await foreach (var e in (await submitted.Task).Events.ReadAllAsync())
        {
            if (e is TextDelta && during < 0)
            {
                during = Interlocked.Read(ref streamTokens) - before;
            }
            else if (e is GenerationCompleted c)
            {
                result = c.Result;
            }
        }

        // One chunk of 64 per step: the stream gets a token on each of the ~14 prefill steps.
        Assert.True(during >= (longPrompt.Prompt.Length / 64) - 2, $"the running stream got {during} tokens during a {longPrompt.Prompt.Length}-token prefill");
        Assert.Equal(1, result!.CompletionTokens);
        await scheduler.DisposeAsync();
        await reader;
    }

    [Fact]
    public async Task ComputeSeconds_SumOverRequests_EqualsDecodeTime()
    {
        await using var scheduler = NewScheduler();
        var requests = Enumerable.Range(0, 12).Select(i => Request($"Request {i} " + string.Concat(Enumerable.Repeat("text ", i * 5)), 10 + i * 3)).ToList();

        var results = await Task.WhenAll(requests.Select(r => CollectAsync(Submit(scheduler, r))));

        var attributed = results.Sum(r => r.Result.ComputeSeconds);
        var decode = scheduler.Counters.DecodeSeconds;
        Assert.True(decode > 0);
        Assert.InRange(attributed, decode * 0.99, decode * 1.01);
        Assert.All(results, r => Assert.True(r.Result.ComputeSeconds > 0));
    }

    [Fact]
    public async Task Result_ReportsTokensAndTimings()
    {
        await using var scheduler = NewScheduler();
        var request = Request("Timing check", 6);
        var stopwatch = Stopwatch.StartNew();

        var (_, result) = await CollectAsync(Submit(scheduler, request));

        Assert.Equal(FinishReason.Length, result.FinishReason);
        Assert.Equal(request.Prompt.Length, result.PromptTokens);
        Assert.Equal(6, result.CompletionTokens);
        Assert.InRange(result.TimeToFirstTokenMs, 0.01, result.DurationMs);
        Assert.InRange(result.DurationMs, result.TimeToFirstTokenMs, stopwatch.Elapsed.TotalMilliseconds + 1);
        Assert.True(result.QueueMs >= 0);
    }
}

/// <summary>Hot prefixes saved at shutdown come back after a restart.</summary>
public sealed class PrefixPersistenceTests(TinyModelFixture models) : IClassFixture<TinyModelFixture>
{
    [Theory]
    [InlineData(KvCacheLayout.Shared)]
    [InlineData(KvCacheLayout.PerSequence)]
    public async Task Restart_WithPrefixCacheDirectory_RestoresCachedPrefix(KvCacheLayout layout)
    {
        var folder = Directory.CreateTempSubdirectory("servegate-prefixes-").FullName;
        try
        {
            var options = new SchedulerOptions { Parallel = 2, ContextLength = 512, PrefixCacheDirectory = folder, KvLayout = layout };
            var prompt = models.Base.Tokenize("A system prompt that should survive a restart of the worker process, word for word.", addSpecial: true, parseSpecial: false);
            var request = new GenerationRequest { RequestId = "r", Prompt = prompt, MaxTokens = 3, Sampling = new SamplingSettings { Temperature = 0 }, IgnoreEos = true };

            async Task<GenerationResult> RunAsync(InferenceScheduler scheduler)
            {
                Assert.True(scheduler.TrySubmit(request, CancellationToken.None, out var handle));
                await foreach (var e in handle.Events.ReadAllAsync())
                {
                    if (e is GenerationCompleted c)
                    {
                        return c.Result;
                    }
                }

                throw new InvalidOperationException("no result");
            }

            await using (var first = new InferenceScheduler(models.Base, options, NullLogger.Instance))
            {
                Assert.Equal(0, (await RunAsync(first)).CachedTokens);
            }

            // Once, although a cache slot may hold the lane's cells too.
            Assert.Single(Directory.GetFiles(folder, "*.seq", SearchOption.AllDirectories));

            await using var second = new InferenceScheduler(models.Base, options, NullLogger.Instance);
            var again = await RunAsync(second);

            Assert.Equal(prompt.Length - 1, again.CachedTokens);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Restart_AfterASaveThatFailedOrStopped_RestoresTheLastCompleteSet()
    {
        var folder = Directory.CreateTempSubdirectory("servegate-prefixes-").FullName;
        try
        {
            var options = new SchedulerOptions { Parallel = 2, ContextLength = 512, PrefixCacheDirectory = folder };
            GenerationRequest Request(string text) => new()
            {
                RequestId = text,
                Prompt = models.Base.Tokenize(text, addSpecial: true, parseSpecial: false),
                MaxTokens = 2,
                Sampling = new SamplingSettings { Temperature = 0 },
                IgnoreEos = true,
            };

            static async Task<GenerationResult> RunAsync(InferenceScheduler scheduler, GenerationRequest request)
            {
                Assert.True(scheduler.TrySubmit(request, CancellationToken.None, out var handle));
                return await handle.Completion.WaitAsync(TimeSpan.FromSeconds(60));
            }

            var kept = Request("A system prompt saved by the first run, and still there after the second failed to save.");
            await using (var first = new InferenceScheduler(models.Base, options, NullLogger.Instance))
            {
                await RunAsync(first, kept);
            }

            // The second run's save cannot write its new set (a file stands where it would go): a save that removed the
            // last set before writing the next would leave nothing to restore.
            var saved = Assert.Single(Directory.GetDirectories(folder));
            await File.WriteAllTextAsync(saved + ".saving", "in the way");
            await using (var second = new InferenceScheduler(models.Base, options, NullLogger.Instance))
            {
                await second.Started.WaitAsync(TimeSpan.FromSeconds(30));
            }

            File.Delete(saved + ".saving");
            await using (var third = new InferenceScheduler(models.Base, options, NullLogger.Instance))
            {
                Assert.Equal(kept.Prompt.Length - 1, (await RunAsync(third, kept)).CachedTokens);
            }

            // Stopped between setting the last set aside and putting the new one in place: the set aside comes back.
            Directory.Move(saved, saved + ".old");
            await using var fourth = new InferenceScheduler(models.Base, options, NullLogger.Instance);
            Assert.Equal(kept.Prompt.Length - 1, (await RunAsync(fourth, kept)).CachedTokens);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}

public sealed class SharedKvSchedulerTests(TinyModelFixture models) : SchedulerTests(models)
{
    protected override KvCacheLayout Layout => KvCacheLayout.Shared;
}

public sealed class PerSequenceKvSchedulerTests(TinyModelFixture models) : SchedulerTests(models)
{
    protected override KvCacheLayout Layout => KvCacheLayout.PerSequence;
}

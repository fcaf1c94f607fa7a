namespace ServeGate.Worker.Scheduling;

/// <summary>How the KV cache is laid out across sequences.</summary>
public enum KvCacheLayout
{
    /// <summary>
    /// One buffer for every sequence (llama.cpp's unified cache): sharing a prefix is a metadata copy and cells are
    /// a pool that idle prefixes and running requests compete for, but every token's attention spans the cells of
    /// all sequences up to the highest one in use.
    /// </summary>
    Shared,

    /// <summary>
    /// A stream of <see cref="SchedulerOptions.ContextLength"/> cells per sequence: attention sees only the
    /// sequence's own cells (llama-server's default), and a prefix is shared by copying a stream (memory speed,
    /// microseconds per token of prefix, instead of recomputing it). Running requests use the first
    /// <see cref="SchedulerOptions.Parallel"/> sequences, kept contiguous so a step stays one batch; the cache slots
    /// beyond them keep the prefixes of finished requests.
    /// </summary>
    PerSequence,
}

/// <summary>Where <see cref="SchedulerOptions.FaultForTest"/> is called.</summary>
internal enum SchedulerFaultPoint
{
    /// <summary>Before the warm-up: a failure there stops the scheduler before it takes a request.</summary>
    Start,

    /// <summary>At each turn of the loop, before it admits requests.</summary>
    Loop,

    /// <summary>In each step, before <c>llama_decode</c> (requests submitted then arrive during the step).</summary>
    Decode,

    /// <summary>Before an evicted prefix is copied into host memory (a <see cref="LlamaCpp.LlamaException"/> there is a failed copy).</summary>
    HostSave,
}

/// <summary>Whether llama.cpp computes attention with its flash-attention kernels.</summary>
public enum FlashAttentionMode
{
    /// <summary>llama.cpp decides (it enables flash attention wherever the device supports it, the CPU included).</summary>
    Auto,
    On,
    Off,
}

/// <summary>Whether a short uncached suffix on a long cached prefix may recompute some of the prefix (see <see cref="AttentionTileCosts"/>).</summary>
public enum SuffixRecomputeMode
{
    /// <summary>Measured when the scheduler starts: recompute where this machine's attention kernels make it faster.</summary>
    Auto,

    /// <summary>Always reuse every cached token.</summary>
    Off,
}

/// <summary>How one model's scheduler batches requests and uses its KV cache. Bound from <c>ServeGate:Worker</c>.</summary>
public sealed class SchedulerOptions
{
    /// <summary>Sequences decoded together (concurrent requests per model); 0 picks a default for the machine.</summary>
    public int Parallel { get; set; }

    /// <summary>The most tokens (prompt plus output) one request may use; capped by the model's trained context.</summary>
    public int ContextLength { get; set; } = 4096;

    /// <summary>
    /// How the KV cache is laid out across sequences. <see cref="KvCacheLayout.PerSequence"/> by default: with
    /// distinct prompts at concurrency 8 it decoded ~10% faster than the shared layout (llama.cpp's CPU flash
    /// attention visits every cell in range for each query row, the other sequences' masked ones included), and it
    /// meets the shared-prefix burst targets too (docs/benchmarks.md); it takes twice the KV memory.
    /// </summary>
    public KvCacheLayout KvLayout { get; set; } = KvCacheLayout.PerSequence;

    /// <summary>
    /// KV-cache cells shared by all sequences (<see cref="KvCacheLayout.Shared"/> only; 0 means
    /// <see cref="ContextLength"/> x <see cref="Parallel"/>). With <see cref="KvCacheLayout.PerSequence"/> every
    /// sequence has <see cref="ContextLength"/> cells of its own.
    /// </summary>
    public int KvCacheTokens { get; set; }

    /// <summary>Idle sequences kept beyond <see cref="Parallel"/> to hold reusable prefixes; 0 means as many as <see cref="Parallel"/>.</summary>
    public int CacheSlots { get; set; }

    /// <summary>Most tokens submitted in one decode step.</summary>
    public int BatchSize { get; set; } = 2048;

    /// <summary>Tokens llama.cpp computes per physical step.</summary>
    public int MicroBatchSize { get; set; } = 512;

    /// <summary>
    /// Most prompt tokens added to a step while other sequences are generating: a long prompt is prefilled in chunks
    /// so running streams keep getting tokens (this bounds the inter-token latency a long prompt can cause). With
    /// <see cref="KvCacheLayout.PerSequence"/> those tokens come from one prompt per step.
    /// </summary>
    public int PrefillChunkTokens { get; set; } = 256;

    /// <summary>Requests that may wait for a free sequence; more get 429 with Retry-After.</summary>
    public int MaxQueue { get; set; } = 64;

    /// <summary>How long a request may wait for a free sequence before it fails.</summary>
    public TimeSpan QueueTimeout { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>Shorter common prefixes are recomputed rather than copied (a shared BOS token is no prefix worth reporting).</summary>
    public int MinPrefixReuseTokens { get; set; } = 8;

    /// <summary>
    /// Decode so that a sequence's output never depends on what is batched beside it: flash attention on (it visits
    /// only the sequence's own cells) and, when loading models, no weight repacking (whose kernels differ between one
    /// row and several). This narrows, but does not close, the float-order differences (llama.cpp's CPU attention
    /// also changes kernels with the batch shape); it costs speed, see docs/benchmarks.md.
    /// </summary>
    public bool BatchInvariant { get; set; }

    /// <summary>
    /// Flash attention; <see cref="BatchInvariant"/> forces it on. Keep <see cref="FlashAttentionMode.Auto"/> (on) for
    /// ServeGate's contexts: with their large shared KV cache, turning it off measured slower on the 2-core CPU machine
    /// (SmolLM2-135M Q4_K_M, tests/ServeGate.Benchmarks engine: decode 75 vs 94 tokens/s, pp512 210 vs 270), although
    /// llama-bench, whose cache holds only the test's tokens, measures the opposite at depth 1,000.
    /// </summary>
    public FlashAttentionMode FlashAttention { get; set; }

    /// <summary>
    /// With <see cref="SuffixRecomputeMode.Auto"/> (per sequence, flash attention not off, layers on the CPU) the
    /// scheduler measures at start what a chunk of under 64 rows costs on a cached prefix against a full attention tile,
    /// and recomputes a few cached tokens with a short suffix where the tile is faster (a chat turn on a long history).
    /// The response's cached_tokens then counts only the tokens reused. The measurement prefills up to 1,024 tokens
    /// and times up to twelve short steps within ~8 s (about 6 s for SmolLM2-135M on 2 cores) before the model is
    /// ready; it is skipped without <see cref="WarmUp"/>.
    /// </summary>
    public SuffixRecomputeMode SuffixRecompute { get; set; }

    /// <summary>
    /// Where to save the cached prefixes (idle sequences' KV cells, <c>llama_state_seq_save_file</c>) at shutdown and
    /// restore them at start, so a restart keeps its warm system prompts. Null or empty: not saved.
    /// </summary>
    public string? PrefixCacheDirectory { get; set; }

    /// <summary>
    /// Host memory, in MiB, for cached prefixes evicted from the KV cache (<see cref="HostPrefixCache{TState}"/>): a
    /// request that starts with one gets its cells copied back instead of computed again. Like llama-server's
    /// <c>--cache-ram</c> (on there, 8,192 MiB). Off (0) by default: every admission that evicts a cached prefix saves
    /// it first, and with one-off prompts at concurrency 8 that cost 6% of the output tokens/s on the test VM, where
    /// prompts sent again got their first token ~17x sooner (docs/benchmarks.md, Session 12).
    /// </summary>
    public int HostCacheMiB { get; set; }

    /// <summary>Run one short generation before the first request (llama.cpp's graphs and the JIT warm up).</summary>
    public bool WarmUp { get; set; } = true;

    /// <summary>Threads for llama.cpp; 0 = every core.</summary>
    public int Threads { get; set; }

    /// <summary>
    /// How hard llama.cpp's compute threads poll for the next step before sleeping, 0–100 (llama.cpp's default 50).
    /// Polling saves a wake-up per step, but a polling thread holds a core that the HTTP side also needs.
    /// </summary>
    public int ThreadPoll { get; set; } = 50;

    /// <summary>
    /// Hand each token to the request that waits for it on the scheduler thread, so the SSE chunk is written (and, with
    /// the host's inline socket scheduling, sent) before the next step instead of after two thread wake-ups. On two
    /// cores busy with llama.cpp a woken thread often waited for the next 4 ms scheduler tick, so tokens reached the
    /// client on a 4 ms grid (concurrency-1 ITL p50 8.0 ms while a token took 6.3–7.5 ms). The same setting makes
    /// the host schedule socket I/O inline (<c>SocketTransportOptions.UnsafePreferInlineScheduling</c>).
    /// </summary>
    public bool InlineStreaming { get; set; } = true;

    /// <summary>
    /// When the scheduler has been idle and requests arrive, how long it waits after each arrival for the rest of a
    /// batch before the first step (0: not at all). It waits so while fewer requests have arrived than finished
    /// together when it went idle (all of <see cref="Parallel"/> before its first request): clients that send their
    /// next request when one finishes send as many as just finished. Otherwise it looks a tenth of the window for a
    /// second arrival (a request alone waits that long), and one arriving that soon starts a batch it gathers in
    /// full. The prompts then start in one step, as llama-server prefills them, rather than the first alone and the
    /// rest a chunk per step beside it: that staircase kept the sequences out of step for the rest of a run, and a
    /// wave's eight prompts took a third longer that way (docs/benchmarks.md, "Session 10"). Prompts that still come
    /// during the first step join in the next one, up to <see cref="PrefillChunkTokens"/> each.
    /// </summary>
    public TimeSpan GatherWindow { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// For tests: called on the scheduler's thread before its warm-up, at each turn of its loop and in each step. An exception it
    /// throws stops the scheduler as a failed <c>llama_decode</c> would, which llama.cpp cannot be made to do on demand.
    /// Internal, so configuration never binds it.
    /// </summary>
    internal Action<SchedulerFaultPoint>? FaultForTest { get; set; }

    public int ResolveParallel() => Parallel > 0 ? Parallel : Math.Clamp(Environment.ProcessorCount * 2, 4, 16);

    public int ResolveCacheSlots() => CacheSlots > 0 ? CacheSlots : ResolveParallel();

    /// <summary>The context's flash-attention setting: true, false, or null for llama.cpp's own choice.</summary>
    public bool? ResolveFlashAttention() => BatchInvariant ? true : FlashAttention switch
    {
        FlashAttentionMode.On => true,
        FlashAttentionMode.Off => false,
        _ => null,
    };

    /// <summary>Problems with these settings, all at once.</summary>
    public IEnumerable<string> Validate()
    {
        if (Parallel < 0 || Parallel > 256)
        {
            yield return $"Parallel must be between 0 (automatic) and 256, not {Parallel}.";
        }

        if (ContextLength < 16)
        {
            yield return $"ContextLength must be at least 16, not {ContextLength}.";
        }

        if (KvCacheTokens < 0)
        {
            yield return $"KvCacheTokens must not be negative ({KvCacheTokens}).";
        }

        if (BatchSize < 1 || MicroBatchSize < 1 || PrefillChunkTokens < 1)
        {
            yield return "BatchSize, MicroBatchSize and PrefillChunkTokens must be positive.";
        }

        if (MaxQueue < 0)
        {
            yield return $"MaxQueue must not be negative ({MaxQueue}).";
        }

        if (GatherWindow < TimeSpan.Zero || GatherWindow > TimeSpan.FromSeconds(1))
        {
            yield return $"GatherWindow must be between 0 and 1 second, not {GatherWindow}.";
        }

        if (ThreadPoll is < 0 or > 100)
        {
            yield return $"ThreadPoll must be between 0 and 100, not {ThreadPoll}.";
        }

        if (!Enum.IsDefined(KvLayout))
        {
            yield return "KvLayout must be Shared or PerSequence.";
        }

        if (KvLayout == KvCacheLayout.PerSequence && KvCacheTokens > 0)
        {
            yield return "KvCacheTokens applies to the Shared KV layout only; with PerSequence, each sequence has ContextLength cells.";
        }

        if (!Enum.IsDefined(FlashAttention))
        {
            yield return "FlashAttention must be Auto, On or Off.";
        }

        if (!Enum.IsDefined(SuffixRecompute))
        {
            yield return "SuffixRecompute must be Auto or Off.";
        }

        if (QueueTimeout <= TimeSpan.Zero)
        {
            yield return "QueueTimeout must be positive.";
        }
    }
}

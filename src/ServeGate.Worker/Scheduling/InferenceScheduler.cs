using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using ServeGate.LlamaCpp;
using ServeGate.LlamaCpp.Native;
using ServeGate.Worker.Inference;

namespace ServeGate.Worker.Scheduling;

/// <summary>
/// Owns one model's llama.cpp context and is its only caller (contexts are not thread-safe). A dedicated thread runs
/// the decode loop: each step carries the next token of every generating sequence plus a chunk of any prompt still
/// being prefilled (continuous batching with chunked prefill). Requests arrive through a bounded queue and join between
/// steps; finished or cancelled ones leave at once. A new prompt that starts like tokens already in the KV cache (any
/// sequence, running or idle) shares those cells through <c>llama_memory_seq_cp</c> instead of recomputing them.
/// </summary>
public sealed partial class InferenceScheduler : IAsyncDisposable
{
    private const string CrashedError = "The model's scheduler stopped after an internal error.";
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    private readonly LlamaModel _model;
    private readonly LlamaContext _context;
    private readonly SchedulerOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Channel<Job> _queue;
    private readonly Slot[] _slots;
    private readonly List<Job> _active = [];
    private readonly List<Job> _byLane = [];
    private readonly bool _perSequence;
    private readonly LlamaBatch _batch;
    private readonly LlamaToken[] _endOfGenerationTokens;
    private readonly CancellationTokenSource _stopping = new();
    private readonly int _parallel;
    private readonly int _sequenceLimit;
    private readonly int _slotCount;
    private readonly byte[] _pieceBuffer = new byte[256];
    private readonly SchedulerCounters _counters = new();
    private readonly HostPrefixCache<SequenceState>? _hostCache;
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _useClock;
    private AttentionTileCosts? _tileCosts;
    private Exception? _failure;

    // Requests that finished in the step that left the scheduler idle (before the first request, all it runs at once):
    // as many may arrive together next (GatherArrivals).
    private int _expectedArrivals;

    // Steps since the scheduler last came out of idle (counted to 2), and when the first of them ended: prompts that
    // arrived during it join the next step in full (BuildBatch).
    private int _stepsSinceIdle;
    private long _firstStepEndedAt;

    public InferenceScheduler(LlamaModel model, SchedulerOptions options, ILogger logger, TimeProvider? time = null)
    {
        _model = model;
        _options = options;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _parallel = options.ResolveParallel();
        _expectedArrivals = _parallel;
        var sequenceLimit = Math.Min(options.ContextLength, model.TrainedContextLength > 0 ? model.TrainedContextLength : options.ContextLength);
        _perSequence = options.KvLayout == KvCacheLayout.PerSequence;
        _slotCount = _parallel + options.ResolveCacheSlots();
        var kvCells = _perSequence ? sequenceLimit * _slotCount
            : options.KvCacheTokens > 0 ? options.KvCacheTokens : sequenceLimit * _parallel;
        _context = LlamaContext.Create(model, new LlamaContextOptions
        {
            ContextLength = (uint)kvCells,
            BatchSize = (uint)options.BatchSize,
            MicroBatchSize = (uint)options.MicroBatchSize,
            MaxSequences = (uint)_slotCount,
            Threads = options.Threads,
            ThreadPoll = (uint)options.ThreadPoll,
            UnifiedKvCache = !_perSequence,
            FlashAttention = options.ResolveFlashAttention(),
        });
        _sequenceLimit = Math.Min(sequenceLimit, (int)_context.SequenceContextLength);
        if (_perSequence && !model.OffloadsToGpu)
        {
            try
            {
                _context.ReserveCellCopyBuffer(new LlamaSeqId(0), _sequenceLimit);
            }
            catch
            {
                _context.Dispose();
                throw;
            }
        }
        _slots = Enumerable.Range(0, _slotCount).Select(i => new Slot(new LlamaSeqId(i))).ToArray();
        _hostCache = options.HostCacheMiB > 0 ? new(options.HostCacheMiB * 1024L * 1024, static s => (long)s.Length) : null;
        _batch = new LlamaBatch(options.BatchSize);
        _endOfGenerationTokens = Enumerable.Range(0, model.VocabSize)
            .Select(t => new LlamaToken(t))
            .Where(model.IsEndOfGeneration)
            .ToArray();
        _queue = Channel.CreateBounded<Job>(new BoundedChannelOptions(Math.Max(1, options.MaxQueue))
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,

            // The only waiter is the scheduler thread, blocked in WaitForWork: a write (or the queue's closing, or a
            // timeout) wakes it directly instead of through a thread-pool continuation, so neither a request's start
            // nor a shutdown waits for the pool when it is busy or short of threads.
            AllowSynchronousContinuations = true,
        });
        new Thread(Run) { IsBackground = true, Name = "servegate-scheduler" }.Start();
    }

    /// <summary>Concurrent sequences.</summary>
    public int Parallel => _parallel;

    /// <summary>The most tokens (prompt plus output) one request may use.</summary>
    public int SequenceLimit => _sequenceLimit;

    /// <summary>KV-cache cells in total.</summary>
    public int KvCacheCells => (int)_context.ContextLength;

    /// <summary>
    /// Completes when the scheduler takes its first request: after the warm-up, the attention-tile measurement and the
    /// restore of saved prefixes (or when it stops before). Requests submitted earlier wait in the queue.
    /// </summary>
    public Task Started => _started.Task;

    /// <summary>Completes when the scheduler thread has ended (disposal or a crash): the context is no longer in use then.</summary>
    internal Task Stopped => _stopped.Task;

    /// <summary>
    /// The error that stopped the scheduler's loop (a failed <c>llama_decode</c>, in the warm-up or later), or null. Once
    /// set, the scheduler has failed its running and queued requests and refuses new ones (<see cref="TrySubmit"/>).
    /// </summary>
    public Exception? Failure => Volatile.Read(ref _failure);

    /// <summary>Whether the scheduler is being disposed (it refuses new requests).</summary>
    public bool Stopping => _stopping.IsCancellationRequested;

    /// <summary>Counters for metrics and tests.</summary>
    public SchedulerCounters Counters => _counters;

    /// <summary>
    /// What this model's short prompt chunks and attention tiles measured at start (<see cref="SchedulerOptions.SuffixRecompute"/>),
    /// or null when not measured; set before the first request is admitted.
    /// </summary>
    public AttentionTileCosts? TileCosts => Volatile.Read(ref _tileCosts);

    /// <summary>For tests: decide with these costs instead of measured ones (set with <see cref="SuffixRecomputeMode.Off"/>, which measures none).</summary>
    internal void UseTileCosts(AttentionTileCosts costs) => Volatile.Write(ref _tileCosts, costs);

    /// <summary>
    /// Queues a generation. Returns false when the queue is full (answer 429), or when the scheduler has stopped
    /// (<see cref="Failure"/>, or disposal): its queue no longer takes requests, so none waits for a loop that is
    /// gone. Cancelling <paramref name="cancellationToken"/> (client disconnect) ends the sequence and frees its KV
    /// cells within one step.
    /// </summary>
    public bool TrySubmit(GenerationRequest request, CancellationToken cancellationToken, out GenerationHandle handle)
    {
        ArgumentNullException.ThrowIfNull(request);
        var job = new Job(request, cancellationToken, _time.GetTimestamp(), _options.InlineStreaming);
        handle = job.Handle;
        if (_stopping.IsCancellationRequested || !_queue.Writer.TryWrite(job))
        {
            return false;
        }

        Interlocked.Increment(ref _counters.QueueDepth);
        return true;
    }

    /// <summary>
    /// One short generation through the whole step path before the first request, as llama-server warms up: llama.cpp
    /// allocates its compute graphs and the JIT compiles the step, so the first requests do not pay for either. Leaves
    /// no trace: its sequence is cleared and the counters reset.
    /// </summary>
    private void WarmUp()
    {
        LlamaToken[] prompt = [_model.Bos, .. Enumerable.Range(0, 15).Select(FillerToken)];
        var job = new Job(new GenerationRequest { RequestId = "warm-up", Prompt = prompt, MaxTokens = 8, Sampling = new SamplingSettings { Temperature = 0 }, IgnoreEos = true }, CancellationToken.None, _time.GetTimestamp(), inlineDelivery: false);
        Start(job);
        while (_active.Count > 0 && !_stopping.IsCancellationRequested)
        {
            Step();
        }

        foreach (var slot in _slots)
        {
            ClearSlot(slot);
            slot.LastUsed = 0;
        }

        _counters.Reset();
    }

    /// <summary>
    /// Times a short chunk (<see cref="AttentionTileCosts.ShortRows"/>) and a tile (<see cref="AttentionTileCosts.TileRows"/>)
    /// at depth 0 and on a prefix of up to 1,024 tokens, up to three times each in turn, keeping each shape's fastest (the
    /// others met a busy machine), within ~8 s (<see cref="AttentionTileCosts.PlanMeasurement"/>). Null when <see cref="SchedulerOptions.SuffixRecompute"/> is off or does not apply: the shared
    /// layout (every stream's cells are in range, so depth is not the prefix's), flash attention off (no tile), layers
    /// on a GPU (other kernels), or a context too short. It leaves no KV cells behind and, calling llama.cpp directly,
    /// moves no counter.
    /// </summary>
    private AttentionTileCosts? MeasureAttentionTiles()
    {
        const int tile = AttentionTileCosts.TileRows;
        if (_options.SuffixRecompute == SuffixRecomputeMode.Off || !_perSequence || _options.ResolveFlashAttention() == false
            || _model.OffloadsToGpu || _slots.Length < 2)
        {
            return null;
        }

        // The prefix and the rounds fit in ~8 s at the time per token of a short chunk (the faster of two: one slow
        // step alone once halved the depth): 1,024 tokens and three rounds for SmolLM2-135M on 2 cores.
        var deep = _slots[0].Id;
        var shallow = _slots[1].Id;
        var shortMs = Math.Min(TimeAndDrop(shallow, 0, AttentionTileCosts.ShortRows), TimeAndDrop(shallow, 0, AttentionTileCosts.ShortRows));
        if (AttentionTileCosts.PlanMeasurement(shortMs / AttentionTileCosts.ShortRows, _sequenceLimit - tile - 1) is not { } plan)
        {
            return null;
        }

        var (depth, rounds) = plan;

        for (var position = 0; position < depth; position += _options.BatchSize)
        {
            Time(deep, position, Math.Min(_options.BatchSize, depth - position));
        }

        double[] best = [shortMs, double.MaxValue, double.MaxValue, double.MaxValue]; // the two timings above count too
        for (var round = 0; round < rounds && !_stopping.IsCancellationRequested; round++)
        {
            best[0] = Math.Min(best[0], TimeAndDrop(shallow, 0, AttentionTileCosts.ShortRows));
            best[1] = Math.Min(best[1], TimeAndDrop(deep, depth, AttentionTileCosts.ShortRows));
            best[2] = Math.Min(best[2], TimeAndDrop(shallow, 0, tile));
            best[3] = Math.Min(best[3], TimeAndDrop(deep, depth, tile));
        }

        _context.RemoveSequence(deep);
        _context.RemoveSequence(shallow);
        if (_stopping.IsCancellationRequested)
        {
            return null;
        }

        var costs = new AttentionTileCosts(depth, best[0], best[1], best[2], best[3]);
        var from = costs.ShallowestRecomputedDepth(_sequenceLimit - tile);
        SchedulerLog.TilesMeasured(_logger, depth, costs.ShortMs, costs.ShortDeepMs, costs.TileMs, costs.TileDeepMs,
            from is { } d ? $"from a prefix of {d} tokens" : $"on no prefix up to {_sequenceLimit - tile} tokens");
        return costs;

        double TimeAndDrop(LlamaSeqId sequence, int position, int count)
        {
            var ms = Time(sequence, position, count);
            _context.RemoveSequence(sequence, position, -1);
            return ms;
        }

        double Time(LlamaSeqId sequence, int position, int count)
        {
            _batch.Clear();
            for (var i = 0; i < count; i++)
            {
                _batch.Add(FillerToken(position + i), position + i, sequence, wantLogits: i == count - 1);
            }

            var started = _time.GetTimestamp();
            if (_context.Decode(_batch) != 0)
            {
                throw new LlamaException($"Measuring attention tiles: no KV room for {count} tokens at position {position}.");
            }

            return ElapsedMs(started);
        }
    }

    /// <summary>Tokens spread over the vocabulary for the warm-up and the measurement (no request's prompt).</summary>
    private LlamaToken FillerToken(int index) => new(index * 7919 % _model.VocabSize);

    private void Run()
    {
        try
        {
            _options.FaultForTest?.Invoke(SchedulerFaultPoint.Start);
            if (_options.WarmUp)
            {
                WarmUp();
                if (MeasureAttentionTiles() is { } tiles)
                {
                    Volatile.Write(ref _tileCosts, tiles);
                }
            }

            RestorePrefixes();
            _started.TrySetResult();

            while (!_stopping.IsCancellationRequested)
            {
                _options.FaultForTest?.Invoke(SchedulerFaultPoint.Loop);
                DropCancelled();
                var wasIdle = _active.Count == 0;
                Admit();
                if (HasEmbeddingWork)
                {
                    EmbeddingStep(); // one per turn: generation steps go on between them
                }

                if (_active.Count == 0)
                {
                    if (HasEmbeddingWork)
                    {
                        continue;
                    }

                    if (!KeepNextLaneInCache())
                    {
                        WaitForWork();
                    }

                    continue;
                }

                if (wasIdle)
                {
                    GatherArrivals();
                    _stepsSinceIdle = 0;
                }

                var running = _active.Count;
                Step();
                if (_active.Count == 0)
                {
                    _expectedArrivals = running;
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            Volatile.Write(ref _failure, ex); // the model reports failed from here on
            SchedulerLog.Crashed(_logger, ex);
        }
        finally
        {
            try
            {
                _started.TrySetResult();

                // Nothing queues behind a loop that has stopped: TrySubmit fails from here on.
                _queue.Writer.TryComplete();
                var failed = Failure is not null;
                var reason = failed ? CrashedError : "The model is shutting down.";
                foreach (var job in _active.ToList())
                {
                    Finish(job, FinishReason.Error, reason);
                }

                // After a crash the cells may not match what the slots record: keep the prefixes saved before instead.
                if (!failed)
                {
                    SavePrefixes();
                }

                while (_queue.Reader.TryRead(out var job))
                {
                    Interlocked.Decrement(ref _counters.QueueDepth);
                    job.Handle.Complete(new GenerationResult { FinishReason = FinishReason.Error, Error = reason });
                }

                FailEmbeddings(reason);
            }
            finally
            {
                _stopped.TrySetResult();
            }
        }
    }

    /// <summary>
    /// Per sequence, while nothing runs or waits: copies the history of the lane the next request will take (the
    /// lowest) into a cache slot now, so that the request does not wait for the copy. A 1,000-token history of
    /// SmolLM2-135M is ~24 MB and took 10-15 ms to copy on the Intel test VM, a tenth of the step that follows a warm
    /// prefix; llama-server pays nothing there (it reuses a slot in place and keeps no copy). Only that one lane, and
    /// only into an empty cache slot or one it extends: cache slots holding what idle lanes hold anyway would leave
    /// fewer distinct prefixes cached, and which cached prefix to give up is best decided when the request that needs
    /// one arrives (<see cref="TryAttachPrefix"/>). So once every cache slot is taken, the copy is made on admission
    /// again. Returns whether it copied.
    /// </summary>
    private bool KeepNextLaneInCache()
    {
        if (!_perSequence || _queue.Reader.Count > 0)
        {
            return false;
        }

        return KeepInCacheSlot(NextFreeLane(), source: null, evict: false);
    }

    /// <summary>Per sequence, the lane a request admitted now takes: the lowest free one (see <see cref="Start"/>).</summary>
    private Slot NextFreeLane() => _slots.Take(_parallel).First(s => s.Job is null);

    /// <summary>
    /// Out of idle: admits further arrivals before the first step, so that prompts sent together start in one step
    /// (see <see cref="SchedulerOptions.GatherWindow"/>). While fewer have come than finished together when the
    /// scheduler went idle, it waits up to the window after each arrival; otherwise it looks a tenth of the window
    /// for a second one, and one arriving that soon means a batch is arriving: then it gathers up to all it runs.
    /// </summary>
    private void GatherArrivals()
    {
        var window = _options.GatherWindow;
        var expected = Math.Min(_expectedArrivals, _parallel);
        _expectedArrivals = 0; // once per idle period
        var probing = _active.Count >= expected;
        while (window > TimeSpan.Zero && _active.Count < _parallel && (probing || _active.Count < expected)
            && !_stopping.IsCancellationRequested)
        {
            if (!WaitForWork(probing ? window / 10 : window))
            {
                return; // nothing more within the window, or the queue closed for shutdown
            }

            var before = _active.Count;
            Admit();
            if (_active.Count == before)
            {
                return; // cancelled while queued, or the queue is closing
            }

            if (probing)
            {
                probing = false;
                expected = _parallel;
            }
        }
    }

    /// <summary>
    /// Blocks until a request is queued (true), the queue is closed for shutdown (false) or, with
    /// <paramref name="within"/>, that much time has passed (false).
    /// </summary>
    private bool WaitForWork(TimeSpan? within = null)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        if (within is { } limit)
        {
            timeout.CancelAfter(limit);
        }

        // Blocking is right here: this thread exists only to drive the context. An embedding request wakes it too.
        try
        {
            if (_embeddingQueue.Reader.Count > 0)
            {
                return true;
            }

            var generation = _queue.Reader.WaitToReadAsync(timeout.Token).AsTask();
            var embedding = _embeddingQueue.Reader.WaitToReadAsync(timeout.Token).AsTask();
            var first = Task.WhenAny(generation, embedding).GetAwaiter().GetResult();
            var result = first.GetAwaiter().GetResult();
            timeout.Cancel(); // the other wait ends here rather than stay registered with its queue
            return result;
        }
        catch (OperationCanceledException) when (!_stopping.IsCancellationRequested)
        {
            return false;
        }
    }

    private void Admit()
    {
        while (_active.Count < _parallel && _queue.Reader.TryRead(out var job))
        {
            Interlocked.Decrement(ref _counters.QueueDepth);
            if (job.Cancellation.IsCancellationRequested)
            {
                job.Handle.Complete(new GenerationResult
                {
                    FinishReason = FinishReason.Cancelled,
                    PromptTokens = job.Request.Prompt.Length,
                    QueueMs = ElapsedMs(job.EnqueuedAt),
                });
                continue;
            }

            try
            {
                Start(job);
            }
            catch (Exception) when (!_active.Contains(job))
            {
                // Taken off the queue but not yet running: the loop's end would not see it.
                job.Handle.Complete(new GenerationResult { FinishReason = FinishReason.Error, Error = CrashedError, QueueMs = ElapsedMs(job.EnqueuedAt) });
                throw;
            }
        }
    }

    private void Start(Job job)
    {
        var (source, common) = FindReusablePrefix(job.Request.Prompt);

        // Per sequence: the lowest free lane, so that running sequences stay contiguous and a step stays one batch
        // (llama.cpp splits a multi-stream batch wherever sequence ids skip). Shared: reuse in place when the best
        // source is idle; otherwise take an empty slot, else the least recently used idle one.
        var slot = _perSequence
            ? NextFreeLane()
            : source is { Job: null } && common > 0
                ? source
                : _slots.Where(s => s.Job is null).MinBy(s => s.KvTokens.Count == 0 ? long.MinValue : s.LastUsed)!;
        job.Handle.MarkStarted();
        job.Slot = slot;
        job.StartedAt = _time.GetTimestamp();
        job.Sampler = TokenSampler.Create(_model, job.Request.IgnoreEos
            ? job.Request.Sampling with { BannedTokens = _endOfGenerationTokens }
            : job.Request.Sampling);
        slot.Job = job;
        slot.LastUsed = ++_useClock;
        _active.Add(job);
        var lane = _byLane.FindIndex(j => j.Slot!.Id.Value > slot.Id.Value);
        _byLane.Insert(lane < 0 ? _byLane.Count : lane, job);
        _counters.PromptTokens += job.Request.Prompt.Length;
        job.AwaitingPrefix = true;
        TryAttachPrefix(job);
    }

    /// <summary>
    /// Gives a job the longest prefix of its prompt already in the KV cache (copied from any sequence, running or
    /// idle), unless a request admitted before it is still prefilling a longer shared prefix: then the job waits for
    /// those cells instead of computing them a second time. A burst of requests with one system prompt thus
    /// prefills it once, where per-slot caches prefill it once per slot. Returns false while the job waits.
    /// </summary>
    private bool TryAttachPrefix(Job job)
    {
        var prompt = job.Request.Prompt;
        var (source, common) = FindReusablePrefix(prompt, job.Slot);
        var (saved, held) = FindSavedPrefix(prompt, common);
        foreach (var leader in _active)
        {
            if (leader == job)
            {
                break; // only requests admitted earlier: no job ever waits on one that waits on it
            }

            if (!leader.IsGenerating && Math.Min(CommonPrefix(leader.Request.Prompt, prompt), prompt.Length - 1) is var pending
                && pending >= _options.MinPrefixReuseTokens && pending > Math.Max(common, held))
            {
                return false;
            }
        }

        if (saved is not null)
        {
            (source, common) = (null, held);
        }

        // A short suffix on a long prefix may be faster with a few cached tokens recomputed (AttentionTileCosts). With
        // other sequences generating, llama.cpp puts one row of the chunk in a micro-batch with their tokens; a tile
        // cut by a smaller micro-batch or prefill chunk would not be one.
        if (common > 0 && TileCosts is { } tiles
            && AttentionTileCosts.TileRows + (_active.Any(j => j.IsGenerating) ? 1 : 0) is var rows
            && rows <= Math.Min(_options.MicroBatchSize, _options.PrefillChunkTokens))
        {
            var recompute = tiles.TokensToRecompute(prompt.Length - common, common, rows, _options.MinPrefixReuseTokens);
            common -= recompute;
            _counters.RecomputedTokens += recompute;
        }

        var slot = job.Slot!;
        _hostCache?.Pinned = saved; // whatever goes to host memory now must not push out the prefix to restore
        if ((common < slot.KvTokens.Count || saved is not null) && _hostCache?.Holds(slot.KvTokens) != true)
        {
            // What the lane held beyond the reused prefix would otherwise be lost: into a cache slot (per sequence),
            // else into host memory (shared: the slot is the cache). Not when host memory holds it already: it comes
            // back from there about as fast, and a cache slot given up for it would have to be saved there too.
            if (!KeepInCacheSlot(slot, source) && !_perSequence)
            {
                SpillToHost(slot);
            }
        }

        if (saved is not null)
        {
            if (TryRestore(saved, slot))
            {
                source = slot; // cut to the prefix below, as a lane's own cells are
            }
            else
            {
                common = 0;
            }

            _hostCache!.Pinned = null;
        }

        if (source == slot && common > 0)
        {
            if (_context.RemoveSequence(slot.Id, common, -1))
            {
                slot.KvTokens.RemoveRange(common, slot.KvTokens.Count - common);
            }
            else
            {
                ClearSlot(slot);
                common = 0;
            }
        }
        else
        {
            ClearSlot(slot);
            if (common > 0 && source is not null)
            {
                if (_perSequence)
                {
                    // The source's cells are copied to the lane's stream, then cut to the prefix.
                    CopyToStream(source, slot);
                    _context.RemoveSequence(slot.Id, common, -1);
                }
                else
                {
                    _context.CopySequence(source.Id, slot.Id, 0, common);
                    _counters.KvCopies++;
                }

                slot.KvTokens.AddRange(source.KvTokens.Take(common));
            }
        }

        job.AwaitingPrefix = false;
        job.CachedTokens = common;
        job.PrefillPosition = common;
        _counters.CachedTokens += common;
        if (common > 0)
        {
            _counters.PrefixHits++;
        }
        else
        {
            _counters.PrefixMisses++;
        }

        return true;
    }

    /// <summary>
    /// The longest cached prefix worth reusing (at least <see cref="SchedulerOptions.MinPrefixReuseTokens"/>), or none.
    /// <paramref name="own"/>, the slot the request runs on, wins ties: its cells are reused where they are.
    /// </summary>
    private (Slot? Source, int Common) FindReusablePrefix(LlamaToken[] prompt, Slot? own = null)
    {
        var (source, common) = FindLongestCachedPrefix(prompt, own);

        // Too short to be worth sharing (a BOS token, a common first word): leave every cached prefix where it is.
        return common < _options.MinPrefixReuseTokens ? (null, 0) : (source, common);
    }

    /// <summary>
    /// The prefix held in host memory (<see cref="SchedulerOptions.HostCacheMiB"/>) that shares more of
    /// <paramref name="prompt"/> than the <paramref name="cached"/> tokens the KV cache offers, if one is worth reusing.
    /// </summary>
    private (HostPrefixCache<SequenceState>.Entry? Entry, int Common) FindSavedPrefix(LlamaToken[] prompt, int cached)
    {
        if (_hostCache is not { Count: > 0 })
        {
            return (null, 0);
        }

        var (entry, common) = _hostCache.FindLongest(prompt, prompt.Length - 1);
        return entry is not null && common > cached && common >= _options.MinPrefixReuseTokens ? (entry, common) : (null, 0);
    }

    /// <summary>
    /// Puts a prefix held in host memory back into <paramref name="slot"/>, whole (the caller cuts it to what the
    /// prompt shares). In a shared cache without room for it, idle sequences are evicted first, least recently used
    /// first; a restore that still fails leaves the slot empty.
    /// </summary>
    private bool TryRestore(HostPrefixCache<SequenceState>.Entry saved, Slot slot)
    {
        ClearSlot(slot);
        while (!TryCopyBack(saved, slot))
        {
            ClearSlot(slot);
            if (_perSequence || !EvictIdleSlot())
            {
                return false;
            }
        }

        slot.KvTokens.AddRange(saved.Tokens);
        saved.LastUsed = slot.LastUsed;
        _counters.HostRestores++;
        return true;
    }

    /// <summary>One <c>llama_state_seq_set_data</c>, timed alone (an eviction between tries times its own save).</summary>
    private bool TryCopyBack(HostPrefixCache<SequenceState>.Entry saved, Slot slot)
    {
        var started = _time.GetTimestamp();
        try
        {
            _context.RestoreSequenceState(saved.State, slot.Id);
            return true;
        }
        catch (LlamaException)
        {
            return false;
        }
        finally
        {
            _counters.HostCopySeconds += _time.GetElapsedTime(started).TotalSeconds;
        }
    }

    /// <summary>
    /// Before an idle sequence's cells are given up: keeps them in host memory (<see cref="SchedulerOptions.HostCacheMiB"/>)
    /// unless they are held there already or too short to reuse. ~24 MB for a 1,000-token prefix of SmolLM2-135M.
    /// </summary>
    private void SpillToHost(Slot slot)
    {
        if (_hostCache is null || slot.KvTokens.Count < _options.MinPrefixReuseTokens || _hostCache.Holds(slot.KvTokens))
        {
            return;
        }

        var started = _time.GetTimestamp();
        var size = _context.SequenceStateSize(slot.Id);
        try
        {
            if (_hostCache.Add([.. slot.KvTokens], (long)size, () =>
            {
                _options.FaultForTest?.Invoke(SchedulerFaultPoint.HostSave);
                return _context.SaveSequenceState(slot.Id, size);
            }, slot.LastUsed))
            {
                _counters.HostSaves++;
            }
        }
        catch (LlamaException ex)
        {
            // The prefix is given up, as it would be without host memory; the request that evicted it goes on.
            SchedulerLog.PrefixCacheFailed(_logger, "host memory", ex.Message);
        }

        _counters.HostCopySeconds += _time.GetElapsedTime(started).TotalSeconds;

        _counters.HostEvictions = _hostCache.Evictions;
        _counters.HostBytes = _hostCache.Bytes;
    }

    /// <summary>
    /// Per sequence: before a lane takes a new request (or, for the next lane to be taken, while the scheduler is idle:
    /// <see cref="KeepNextLaneInCache"/>), copies what it holds into a cache slot (one beyond
    /// <see cref="Parallel"/>), unless a cache slot already holds it: a cache slot it extends is replaced, else the
    /// least recently used one other than <paramref name="source"/> (about to be copied into the lane) is evicted.
    /// With <paramref name="evict"/> false it only fills an empty cache slot or one the lane's history extends.
    /// Returns whether it copied.
    /// </summary>
    private bool KeepInCacheSlot(Slot lane, Slot? source, bool evict = true)
    {
        if (!_perSequence || lane.KvTokens.Count < _options.MinPrefixReuseTokens)
        {
            return false;
        }

        var cacheSlots = _slots.AsSpan(_parallel);
        Slot? target = null;
        foreach (var slot in cacheSlots)
        {
            if (TokenPrefix.StartsWith(slot.KvTokens, lane.KvTokens))
            {
                return false; // already kept, maybe with more
            }

            if (target is null && slot != source && slot.KvTokens.Count > 0 && TokenPrefix.StartsWith(lane.KvTokens, slot.KvTokens))
            {
                target = slot; // the lane holds all of it and more
            }
        }

        if (target is null)
        {
            foreach (var slot in cacheSlots)
            {
                if (slot == source)
                {
                    continue;
                }

                if (target is null || (target.KvTokens.Count > 0 && (slot.KvTokens.Count == 0 || slot.LastUsed < target.LastUsed)))
                {
                    target = slot;
                }
            }

            if (target is null || (target.KvTokens.Count > 0 && !evict))
            {
                return false;
            }

            if (target.KvTokens.Count > 0)
            {
                SpillToHost(target);
                _counters.Evictions++;
            }
        }

        CopyToStream(lane, target);
        target.KvTokens.Clear();
        target.KvTokens.AddRange(lane.KvTokens);
        target.LastUsed = lane.LastUsed;
        return true;
    }

    /// <summary>
    /// Per sequence: copies one sequence's cells into another's stream. In host memory only the cells the source
    /// holds are copied (<see cref="LlamaContext.CopySequenceCells"/>); llama.cpp's own cross-stream copy takes the
    /// whole stream, however little of it is used: 4.2 ms against 0.7 ms for a 192-token sequence in a 2,048-cell
    /// stream, 19.5 against 1.0 ms in an 8,192-cell one (SmolLM2-135M, <c>tests/ServeGate.Benchmarks kvcopy</c>).
    /// On a GPU the whole-stream copy stays on the device, where copying cells would go through host memory.
    /// </summary>
    private void CopyToStream(Slot source, Slot destination)
    {
        _counters.KvCopies++;
        if (!_model.OffloadsToGpu)
        {
            _context.CopySequenceCells(source.Id, destination.Id);
        }
        else
        {
            _context.CopySequence(source.Id, destination.Id);
        }
    }

    private static int CommonPrefix(LlamaToken[] a, LlamaToken[] b) => a.AsSpan().CommonPrefixLength(b);

    /// <summary>
    /// The sequence whose KV cells share the longest prefix with <paramref name="prompt"/> (at most all but its last
    /// token). On ties: <paramref name="own"/> (reused in place: no copy), else an idle slot over a running one.
    /// </summary>
    private (Slot? Source, int Common) FindLongestCachedPrefix(LlamaToken[] prompt, Slot? own)
    {
        Slot? best = null;
        var bestLength = 0;
        foreach (var slot in _slots)
        {
            var kv = slot.KvTokens;
            var limit = Math.Min(kv.Count, prompt.Length - 1);
            var n = 0;
            while (n < limit && kv[n] == prompt[n])
            {
                n++;
            }

            // Ties: the request's own slot, whose cells stay where they are; else an idle slot over a running one.
            // (A lane's earlier history also sits in the cache slot it was kept in: taking that one would clear the
            // lane and copy the same cells back: ~24 MB for a 1,000-token prefix of SmolLM2-135M, 10-15 ms on the
            // Intel test VM.)
            if (n > bestLength || (n == bestLength && n > 0 && best != own && (slot == own || (slot.Job is null && best?.Job is not null))))
            {
                best = slot;
                bestLength = n;
            }
        }

        return (best, bestLength);
    }

    private void ClearSlot(Slot slot)
    {
        _context.RemoveSequence(slot.Id);
        slot.KvTokens.Clear();
    }

    private void Step()
    {
        // A step's time starts before its batch is built: attaching a cached prefix copies KV cells then.
        var started = _time.GetTimestamp();
        BuildBatch();
        _options.FaultForTest?.Invoke(SchedulerFaultPoint.Decode);
        var status = _context.Decode(_batch);
        while (status == 1)
        {
            // No room in the KV cache: give up cached prefixes of idle slots first, then the newest request.
            if (!EvictIdleSlot())
            {
                var victim = _active[^1];
                Finish(victim, FinishReason.Error, "The KV cache is full: the request does not fit beside the ones running. Retry, or send a shorter prompt.");
                if (_active.Count == 0)
                {
                    return;
                }
            }

            started = _time.GetTimestamp();
            BuildBatch();
            status = _context.Decode(_batch);
        }

        if (status != 0)
        {
            throw new LlamaException($"llama_decode returned {status}.");
        }

        var seconds = _time.GetElapsedTime(started).TotalSeconds;
        _counters.DecodeSeconds += seconds;
        _counters.Steps++;
        if (_stepsSinceIdle == 0)
        {
            _firstStepEndedAt = _time.GetTimestamp();
        }

        _stepsSinceIdle = Math.Min(_stepsSinceIdle + 1, 2);
        var total = _batch.Count;
        if (_logger.IsEnabled(LogLevel.Trace))
        {
            SchedulerLog.Step(_logger, total, seconds * 1000, DescribeStep());
        }

        // Attribute the step's wall time to sequences in proportion to the tokens each contributed to it.
        foreach (var job in _active)
        {
            if (job.StepTokens > 0)
            {
                var share = seconds * job.StepTokens / total;
                job.ComputeSeconds += share;
                if (!job.IsGenerating)
                {
                    job.PromptSeconds += share; // the prompt part, for what a cached prompt token saves
                }
            }
        }

        for (var i = _active.Count - 1; i >= 0; i--)
        {
            var job = _active[i];
            CommitStepTokens(job);
            if (job.LogitsIndex >= 0)
            {
                Sample(job);
            }
        }
    }

    /// <summary>
    /// What each sequence put in the step, in batch order: <c>sequence:tokens</c> and <c>p</c> for a prompt chunk or
    /// <c>g</c> for a generated token (e.g. <c>0:1g 1:128p 3:1g</c>). With the per-sequence layout llama.cpp cuts a
    /// step into micro-batches of equal tokens per sequence over consecutive sequence ids, so this shows how many it
    /// became.
    /// </summary>
    private string DescribeStep() => string.Join(' ', (_perSequence ? _byLane : _active)
        .Where(j => j.StepTokens > 0)
        .Select(j => string.Create(CultureInfo.InvariantCulture, $"{j.Slot!.Id.Value}:{j.StepTokens}{(j.IsGenerating ? 'g' : 'p')}")));

    private void BuildBatch()
    {
        _batch.Clear();
        var generating = 0;
        foreach (var job in _active)
        {
            job.StepTokens = 0;
            job.LogitsIndex = -1;
            if (job.IsGenerating)
            {
                job.StepTokens = 1;
                generating++;
            }
        }

        // Prompt tokens for this step, in admission order (an earlier request's prompt goes first).
        var budget = _options.BatchSize - generating;
        if (generating > 0 && _stepsSinceIdle == 1)
        {
            // The step after the first out of idle: the sequences generating started in that first step, and plain
            // prompts that arrived during it (a batch whose first request came ahead of the rest, beyond the gather
            // window) join them now, up to a chunk each, as if gathered with them. One prompt per step would have
            // them follow a step apart each, out of step with each other for as long as their clients keep sending.
            // Not a suffix on a reused prefix: several of those beside running streams make many small micro-batches.
            foreach (var job in _active)
            {
                if (job.IsPlainPrompt && budget > 0 && job.EnqueuedAt <= _firstStepEndedAt)
                {
                    job.StepTokens = Math.Min(Math.Min(job.PromptLeft, _options.PrefillChunkTokens), budget);
                    budget -= job.StepTokens;
                }
            }
        }

        if (generating > 0)
        {
            budget = Math.Min(budget, _options.PrefillChunkTokens);
        }

        var chunked = false;
        foreach (var job in _active)
        {
            if (job.IsGenerating || job.StepTokens > 0)
            {
                continue;
            }

            // Per sequence, while others generate: one prompt's chunk per step. llama.cpp cuts a step over several
            // streams into micro-batches of equal tokens per stream, so prompts of unequal remaining lengths beside
            // running streams become several small micro-batches, each reading every weight and running attention
            // on a few rows per stream. The shared-prefix burst prefilled its suffixes in 2.0 s this way and in
            // 3.4 s three at a time (docs/architecture.md, "Chunked prefill").
            if (chunked)
            {
                // The other waiting prompts put in one token each: llama.cpp's micro-batches span consecutive
                // sequence ids only, so a lane left out splits the step's one-token-per-lane micro-batch in two (an
                // extra pass over every weight); with it, that token rides in the micro-batch that runs anyway. Not
                // a suffix on a reused prefix: its chunk may have been sized to fill an attention tile.
                if (job.IsPlainPrompt)
                {
                    job.StepTokens = 1;
                }

                continue;
            }

            if (budget <= 0 || (job.AwaitingPrefix && !TryAttachPrefix(job)))
            {
                continue;
            }

            job.StepTokens = Math.Min(job.PromptLeft, budget);
            budget -= job.StepTokens;
            chunked = _perSequence && generating > 0;
        }

        if (_perSequence)
        {
            // Each lane's tokens together, lanes in order: llama.cpp then forms one micro-batch of every lane's next
            // token (it needs consecutive sequence ids), and the rest of a long prompt after it.
            foreach (var job in _byLane)
            {
                AddStepTokens(job);
            }

            return;
        }

        foreach (var job in _active)
        {
            if (job.IsGenerating)
            {
                AddStepTokens(job);
            }
        }

        foreach (var job in _active)
        {
            if (!job.IsGenerating)
            {
                AddStepTokens(job);
            }
        }
    }

    private void AddStepTokens(Job job)
    {
        if (job.StepTokens == 0)
        {
            return;
        }

        var slot = job.Slot!;
        if (job.IsGenerating)
        {
            job.LogitsIndex = _batch.Add(job.PendingToken, slot.KvTokens.Count, slot.Id, wantLogits: true);
            return;
        }

        var prompt = job.Request.Prompt;
        for (var k = 0; k < job.StepTokens; k++)
        {
            var index = job.PrefillPosition + k;
            var last = index == prompt.Length - 1;
            var batchIndex = _batch.Add(prompt[index], slot.KvTokens.Count + k, slot.Id, wantLogits: last);
            if (last)
            {
                job.LogitsIndex = batchIndex;
            }
        }
    }

    private void CommitStepTokens(Job job)
    {
        if (job.StepTokens == 0)
        {
            return;
        }

        if (job.IsGenerating)
        {
            job.Slot!.KvTokens.Add(job.PendingToken);
        }
        else
        {
            job.Slot!.KvTokens.AddRange(job.Request.Prompt.AsSpan(job.PrefillPosition, job.StepTokens));
            job.PrefillPosition += job.StepTokens;
        }
    }

    private void Sample(Job job)
    {
        var token = job.Sampler!.Sample(_context, job.LogitsIndex);
        var logprob = job.Request.TopLogprobs is { } top ? Logprobs.Compute(_model, _context.GetLogits(job.LogitsIndex), token, top) : null;
        if (job.Generated == 0)
        {
            job.FirstTokenAt = _time.GetTimestamp();
        }

        job.Generated++;
        job.Output.Add(token);
        _counters.CompletionTokens++;
        if (job.Sampler.Exhausted || (!job.Request.IgnoreEos && _model.IsEndOfGeneration(token)))
        {
            Finish(job, FinishReason.Stop);
            return;
        }

        var length = _model.TokenToPiece(token, _pieceBuffer);
        var text = job.Stop.Append(job.Text.Append(_pieceBuffer.AsSpan(0, length)));
        if (text.Length > 0 || logprob is not null)
        {
            job.Handle.Write(new TextDelta(text, 1, logprob is null ? null : [logprob]));
        }

        if (job.Stop.Stopped)
        {
            Finish(job, FinishReason.Stop);
        }
        else if (job.Generated >= job.Request.MaxTokens || job.Slot!.KvTokens.Count + 1 >= _sequenceLimit)
        {
            Finish(job, FinishReason.Length);
        }
        else
        {
            job.PendingToken = token;
            job.IsGenerating = true;
        }
    }

    private void DropCancelled()
    {
        for (var i = _active.Count - 1; i >= 0; i--)
        {
            var job = _active[i];
            if (job.Cancellation.IsCancellationRequested)
            {
                // A cancelled sequence's cells are freed at once; its prefix is not worth keeping half-written.
                Finish(job, FinishReason.Cancelled, clearSlot: true);
            }
        }
    }

    private bool EvictIdleSlot()
    {
        var victim = _slots.Where(s => s.Job is null && s.KvTokens.Count > 0).MinBy(s => s.LastUsed);
        if (victim is null)
        {
            return false;
        }

        SpillToHost(victim);
        ClearSlot(victim);
        _counters.Evictions++;
        return true;
    }

    /// <summary>
    /// Ends a job: releases its lane (clearing its cells after an error, or when <paramref name="clearSlot"/>), then
    /// completes its handle last, so whoever the completion wakes sees the sequence gone and its cells freed.
    /// </summary>
    private void Finish(Job job, FinishReason reason, string? error = null, bool clearSlot = false)
    {
        if (reason is FinishReason.Stop or FinishReason.Length)
        {
            var rest = job.Stop.Stopped ? string.Empty : job.Stop.Append(job.Text.Flush()) + job.Stop.Flush();
            if (rest.Length > 0)
            {
                job.Handle.Write(new TextDelta(rest, 0, null));
            }
        }

        var now = _time.GetTimestamp();
        var result = new GenerationResult
        {
            FinishReason = reason,
            PromptTokens = job.Request.Prompt.Length,
            CachedTokens = job.CachedTokens,
            CompletionTokens = job.Generated,
            QueueMs = (job.StartedAt - job.EnqueuedAt) * 1000.0 / _time.TimestampFrequency,
            TimeToFirstTokenMs = job.FirstTokenAt > 0 ? (job.FirstTokenAt - job.EnqueuedAt) * 1000.0 / _time.TimestampFrequency : 0,
            DurationMs = (now - job.EnqueuedAt) * 1000.0 / _time.TimestampFrequency,
            ComputeSeconds = job.ComputeSeconds,
            PromptSeconds = job.PromptSeconds,
            Error = error,
            CompletionTokenIds = job.Output,
        };
        job.Sampler?.Dispose();
        job.Sampler = null;
        if (job.Slot is { } slot)
        {
            slot.Job = null;
            slot.LastUsed = ++_useClock;
            if (clearSlot || reason == FinishReason.Error)
            {
                ClearSlot(slot);
            }
        }

        _active.Remove(job);
        _byLane.Remove(job);
        _counters.Completed++;
        job.Handle.Complete(result);
    }

    /// <summary>The folder of this model's saved prefixes: one per model file (path, size and time), so files never mix models.</summary>
    private string? PrefixFolder()
    {
        if (string.IsNullOrWhiteSpace(_options.PrefixCacheDirectory))
        {
            return null;
        }

        var file = new FileInfo(_model.Path);
        var identity = $"{file.FullName}|{file.Length}|{file.LastWriteTimeUtc.Ticks}|{_context.ContextLength}";
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(identity)))[..16];
        return Path.Combine(_options.PrefixCacheDirectory, $"{Path.GetFileNameWithoutExtension(file.Name)}-{hash}");
    }

    /// <summary>Runs on the scheduler thread as it stops: writes each idle sequence worth keeping to a file.</summary>
    private void SavePrefixes()
    {
        var folder = PrefixFolder();
        if (folder is null)
        {
            return;
        }

        // Written beside the last saved set and put in its place only when complete: a save that fails (or a process
        // killed during it) leaves the last set to be restored, not half of a new one.
        var saving = folder + ".saving";
        try
        {
            if (Directory.Exists(saving))
            {
                Directory.Delete(saving, recursive: true);
            }

            Directory.CreateDirectory(saving);
            var saved = 0;
            var kept = new List<List<LlamaToken>>();
            foreach (var slot in _slots.Where(s => s.Job is null && s.KvTokens.Count >= _options.MinPrefixReuseTokens)
                .OrderByDescending(s => s.LastUsed).ThenByDescending(s => s.KvTokens.Count))
            {
                // A cache slot often holds what a lane holds too (copied while idle): save those cells once.
                if (kept.Exists(k => TokenPrefix.StartsWith(k, slot.KvTokens)))
                {
                    continue;
                }

                kept.Add(slot.KvTokens);
                _context.SaveSequence(Path.Combine(saving, $"{saved++:D3}.seq"), slot.Id, [.. slot.KvTokens]);
            }

            // The last set steps aside before the new one takes its place: between the two moves it is still whole
            // under ".old", where a restore looks when the folder is missing.
            var old = folder + ".old";
            if (Directory.Exists(old))
            {
                Directory.Delete(old, recursive: true);
            }

            if (Directory.Exists(folder))
            {
                Directory.Move(folder, old);
            }

            Directory.Move(saving, folder);
            if (Directory.Exists(old))
            {
                Directory.Delete(old, recursive: true);
            }

            SchedulerLog.PrefixesSaved(_logger, saved, folder);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or LlamaException)
        {
            SchedulerLog.PrefixCacheFailed(_logger, folder, ex.Message);
        }
    }

    /// <summary>Runs on the scheduler thread before the first request: loads saved prefixes into idle sequences, most recent first.</summary>
    private void RestorePrefixes()
    {
        var folder = PrefixFolder();
        if (folder is not null && !Directory.Exists(folder))
        {
            folder += ".old"; // a save stopped between setting the last set aside and putting the new one in place
        }

        if (folder is null || !Directory.Exists(folder))
        {
            return;
        }

        var restored = 0;
        foreach (var file in Directory.EnumerateFiles(folder, "*.seq").Order(StringComparer.Ordinal).Take(_slots.Length))
        {
            var slot = _slots[restored];
            try
            {
                slot.KvTokens.AddRange(_context.LoadSequence(file, slot.Id, _sequenceLimit));
                slot.LastUsed = -restored;
                restored++;
            }
            catch (LlamaException ex)
            {
                ClearSlot(slot);
                SchedulerLog.PrefixCacheFailed(_logger, file, ex.Message);
            }
        }

        SchedulerLog.PrefixesRestored(_logger, restored, folder);
    }

    /// <summary>For tests, while the scheduler is idle: each sequence's highest position in the KV cache, -1 when it holds no cells.</summary>
    internal int[] SnapshotLastPositions() => [.. _slots.Select(s => _context.SequenceMaxPosition(s.Id))];

    /// <summary>Tokens held by each KV sequence and whether it runs a request (tests; read while the scheduler is idle).</summary>
    internal IReadOnlyList<(int Tokens, bool Busy)> SnapshotSlots() => [.. _slots.Select(s => (s.KvTokens.Count, s.Job is not null))];

    private double ElapsedMs(long since) => _time.GetElapsedTime(since).TotalMilliseconds;

    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        // Cancelled here, not through CancelAsync: the callbacks only end the scheduler thread's wait (the queue wakes
        // it inline), and nothing on the way to the thread's end needs the thread pool. Cancelled before the queue
        // closes, so that the thread stops at the next turn of its loop instead of running what it gathered on.
        // Awaited, not joined: a pool thread blocked in Join, with two schedulers stopping together on two cores, held
        // a shutdown ~0.8 s until the pool added a thread.
        _stopping.Cancel();
        _queue.Writer.TryComplete();
        _embeddingQueue.Writer.TryComplete();
        try
        {
            await _stopped.Task.WaitAsync(StopTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // The thread may still be inside llama.cpp: leave the context to the process's end rather than free it under it.
            SchedulerLog.StopTimedOut(_logger, StopTimeout.TotalSeconds);
            return;
        }

        _batch.Dispose();
        DisposeEmbeddings();
        _context.Dispose();
        _hostCache?.Dispose();
        _stopping.Dispose();
    }

    /// <summary>A KV-cache sequence: running a request, or idle and holding the tokens of its last one for reuse.</summary>
    private sealed class Slot(LlamaSeqId id)
    {
        public LlamaSeqId Id { get; } = id;

        /// <summary>Exactly the tokens whose cells this sequence holds, positions 0..Count-1.</summary>
        public List<LlamaToken> KvTokens { get; } = [];

        public Job? Job { get; set; }

        public long LastUsed { get; set; }
    }

    private sealed class Job(GenerationRequest request, CancellationToken cancellation, long enqueuedAt, bool inlineDelivery)
    {
        public GenerationRequest Request { get; } = request;

        public CancellationToken Cancellation { get; } = cancellation;

        public GenerationHandle Handle { get; } = new(inlineDelivery);

        public long EnqueuedAt { get; } = enqueuedAt;

        public long StartedAt { get; set; }

        public long FirstTokenAt { get; set; }

        public Slot? Slot { get; set; }

        public TokenSampler? Sampler { get; set; }

        public Utf8TextAssembler Text { get; } = new();

        public StopSequenceMatcher Stop { get; } = new(request.Stop);

        public int CachedTokens { get; set; }

        public int PrefillPosition { get; set; }

        public bool IsGenerating { get; set; }

        /// <summary>Admitted, but waiting for an earlier request to prefill the prefix they share.</summary>
        public bool AwaitingPrefix { get; set; }

        /// <summary>Prompt tokens not yet in the KV cache.</summary>
        public int PromptLeft => Request.Prompt.Length - PrefillPosition;

        /// <summary>
        /// Prefilling a prompt from its start, without a reused prefix (whose chunk may be sized to fill an attention
        /// tile) and not waiting for one.
        /// </summary>
        public bool IsPlainPrompt => !IsGenerating && !AwaitingPrefix && CachedTokens == 0;

        public LlamaToken PendingToken { get; set; }

        public int Generated { get; set; }

        public List<LlamaToken> Output { get; } = [];

        public int StepTokens { get; set; }

        public int LogitsIndex { get; set; } = -1;

        public double ComputeSeconds { get; set; }

        public double PromptSeconds { get; set; }
    }
}

/// <summary>Running totals of one scheduler (written by its thread, read by metrics).</summary>
public sealed class SchedulerCounters
{
    internal int QueueDepth;

    public int Queued => Volatile.Read(ref QueueDepth);

    public long Steps { get; internal set; }

    public double DecodeSeconds { get; internal set; }

    public long PromptTokens { get; internal set; }

    public long CachedTokens { get; internal set; }

    public long CompletionTokens { get; internal set; }

    public long PrefixHits { get; internal set; }

    public long PrefixMisses { get; internal set; }

    public long Evictions { get; internal set; }

    /// <summary>Copies of KV cells from one sequence to another: a cached prefix to a lane, or a lane's history to a cache slot.</summary>
    public long KvCopies { get; internal set; }

    /// <summary>Cached tokens computed again with a short suffix to fill an attention tile (<see cref="AttentionTileCosts"/>).</summary>
    public long RecomputedTokens { get; internal set; }

    public long Completed { get; internal set; }

    /// <summary>Cached prefixes evicted from the KV cache into host memory (<see cref="SchedulerOptions.HostCacheMiB"/>).</summary>
    public long HostSaves { get; internal set; }

    /// <summary>Prefixes put back from host memory into a sequence for a request.</summary>
    public long HostRestores { get; internal set; }

    /// <summary>Prefixes dropped from host memory for room.</summary>
    public long HostEvictions { get; internal set; }

    /// <summary>Bytes of KV cells held in host memory.</summary>
    public long HostBytes { get; internal set; }

    /// <summary>Wall time spent copying cells to and from host memory (on the scheduler thread, between steps).</summary>
    public double HostCopySeconds { get; internal set; }

    /// <summary>Embedding steps (<see cref="InferenceScheduler.TrySubmitEmbedding"/>), their inputs, tokens and decode time.</summary>
    public long EmbeddingSteps { get; internal set; }

    public long EmbeddingInputs { get; internal set; }

    public long EmbeddingTokens { get; internal set; }

    public double EmbeddingSeconds { get; internal set; }

    internal void Reset()
    {
        Steps = 0;
        DecodeSeconds = 0;
        PromptTokens = 0;
        CachedTokens = 0;
        CompletionTokens = 0;
        PrefixHits = 0;
        PrefixMisses = 0;
        Evictions = 0;
        KvCopies = 0;
        RecomputedTokens = 0;
        Completed = 0;
        HostSaves = 0;
        HostRestores = 0;
        HostCopySeconds = 0;
    }
}

/// <summary>The caller's side of a queued generation: its events, in order, ending with <see cref="GenerationCompleted"/>.</summary>
/// <param name="inlineDelivery">
/// A reader waiting for the next event continues on the writer's thread, the scheduler's (see
/// <see cref="SchedulerOptions.InlineStreaming"/>): its code must not block, and only awaits what completes later.
/// </param>
public sealed class GenerationHandle(bool inlineDelivery = false)
{
    private readonly Channel<GenerationEvent> _events = Channel.CreateUnbounded<GenerationEvent>(new UnboundedChannelOptions
    {
        SingleReader = true,
        SingleWriter = true,
        AllowSynchronousContinuations = inlineDelivery,
    });

    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<GenerationResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ChannelReader<GenerationEvent> Events => _events.Reader;

    /// <summary>
    /// The result, also for a reader that stopped reading <see cref="Events"/> (a client that left): a cancelled
    /// generation reports the tokens it produced before the scheduler saw the cancellation. Never faults.
    /// </summary>
    public Task<GenerationResult> Completion => _completion.Task;

    /// <summary>Completes when the request leaves the queue and gets a sequence (or ends without one).</summary>
    public Task Started => _started.Task;

    internal void MarkStarted() => _started.TrySetResult();

    internal void Write(GenerationEvent e) => _events.Writer.TryWrite(e);

    internal void Complete(GenerationResult result)
    {
        _started.TrySetResult();
        if (inlineDelivery)
        {
            // The end of a response (usage chunk, metering, closing the connection) runs on the thread pool, not
            // between two decode steps; every token event was written before this.
            ThreadPool.UnsafeQueueUserWorkItem(static state => state.Handle.Finish(state.Result), (Handle: this, Result: result), preferLocal: false);
            return;
        }

        Finish(result);
    }

    private void Finish(GenerationResult result)
    {
        _events.Writer.TryWrite(new GenerationCompleted(result));
        _events.Writer.TryComplete();
        _completion.TrySetResult(result);
    }
}

internal static partial class SchedulerLog
{
    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Saved {Count} cached prefixes to {Folder}")]
    public static partial void PrefixesSaved(ILogger logger, int count, string folder);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "Restored {Count} cached prefixes from {Folder}")]
    public static partial void PrefixesRestored(ILogger logger, int count, string folder);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "Prefix cache at {Path} not used: {Reason}")]
    public static partial void PrefixCacheFailed(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Information, Message = "Attention tiles measured (ms, depth 0 / {Depth}): 40-row chunk {ShortMs:F1} / {ShortDeepMs:F1}, 64-row tile {TileMs:F1} / {TileDeepMs:F1}; a 40-token suffix recomputes to a tile {Where}")]
    public static partial void TilesMeasured(ILogger logger, int depth, double shortMs, double shortDeepMs, double tileMs, double tileDeepMs, string where);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Trace, Message = "Step of {Tokens} tokens in {Milliseconds:F1} ms: {Sequences}")]
    public static partial void Step(ILogger logger, int tokens, double milliseconds, string sequences);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Error, Message = "The scheduler did not stop within {Seconds} s; its llama.cpp context is left open")]
    public static partial void StopTimedOut(ILogger logger, double seconds);

    [LoggerMessage(EventId = 2000, Level = LogLevel.Critical, Message = "The scheduler loop stopped after an unexpected error")]
    public static partial void Crashed(ILogger logger, Exception exception);
}

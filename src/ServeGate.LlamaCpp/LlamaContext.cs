using System.Buffers;
using System.Runtime.InteropServices;
using ServeGate.LlamaCpp.Native;

namespace ServeGate.LlamaCpp;

/// <summary>How to create a <see cref="LlamaContext"/>.</summary>
public sealed record LlamaContextOptions
{
    /// <summary>KV-cache cells shared by all sequences (tokens across every running request); 0 = the model's trained context.</summary>
    public uint ContextLength { get; init; }

    /// <summary>Most tokens one <see cref="LlamaContext.Decode"/> call may submit (logical batch).</summary>
    public uint BatchSize { get; init; } = 2048;

    /// <summary>Tokens computed per physical step inside llama.cpp.</summary>
    public uint MicroBatchSize { get; init; } = 512;

    /// <summary>Distinct sequences (parallel requests plus cached prefixes) the KV cache can hold.</summary>
    public uint MaxSequences { get; init; } = 1;

    /// <summary>Threads for both decode and batch processing; 0 = every core.</summary>
    public int Threads { get; init; }

    /// <summary>
    /// One KV buffer shared by all sequences. Needed for cross-sequence prefix sharing: <c>llama_memory_seq_cp</c>
    /// then shares cells instead of duplicating them (see ../shared/DESIGN.md).
    /// </summary>
    public bool UnifiedKvCache { get; init; } = true;

    /// <summary>
    /// Flash attention: null lets llama.cpp decide. On the CPU it visits only a sequence's own KV cells, in order, so a
    /// sequence's attention does not depend on where other sequences' cells lie in the shared cache.
    /// </summary>
    public bool? FlashAttention { get; init; }

    /// <summary>
    /// How hard the context's persistent compute threads poll for the next graph before sleeping, 0–100 (llama.cpp's
    /// default, 50, is what llama-bench and llama-server use). 0 makes idle threads sleep at once.
    /// </summary>
    public uint ThreadPoll { get; init; } = 50;

    /// <summary>
    /// Set: an embedding context, which outputs every token and pools each sequence's vectors this way
    /// (<see cref="LlamaContext.GetSequenceEmbedding"/>); null: a generation context (logits).
    /// </summary>
    public LlamaPoolingType? Pooling { get; init; }

    /// <summary>
    /// Compute on this context's thread pool instead of a new one: two contexts used in turn by one thread then do not
    /// keep two sets of polling threads competing for the cores. It must outlive the new context.
    /// </summary>
    public LlamaContext? ShareThreadsWith { get; init; }
}

/// <summary>
/// A llama.cpp context: the KV cache and the compute state of one model. Not thread-safe: a single owner
/// (ServeGate's scheduler thread) makes every call.
/// </summary>
public sealed class LlamaContext : IDisposable
{
    private readonly SafeLlamaContextHandle _handle;
    private readonly SafeGgmlThreadpoolHandle _threadpool;
    private readonly bool _ownsThreadpool;
    private readonly nint _memory;
    private unsafe byte* _stateBuffer;
    private nuint _stateBufferSize;

    private LlamaContext(LlamaModel model, SafeLlamaContextHandle handle, SafeGgmlThreadpoolHandle threadpool, bool ownsThreadpool)
    {
        Model = model;
        _handle = handle;
        _threadpool = threadpool;
        _ownsThreadpool = ownsThreadpool;
        _memory = NativeMethods.llama_get_memory(handle);
        ContextLength = NativeMethods.llama_n_ctx(handle);
        SequenceContextLength = NativeMethods.llama_n_ctx_seq(handle);
        BatchSize = NativeMethods.llama_n_batch(handle);
        MaxSequences = NativeMethods.llama_n_seq_max(handle);
    }

    public LlamaModel Model { get; }

    /// <summary>KV cells in total.</summary>
    public uint ContextLength { get; }

    /// <summary>The most positions one sequence may reach.</summary>
    public uint SequenceContextLength { get; }

    public uint BatchSize { get; }

    public uint MaxSequences { get; }

    /// <summary>Creates a context for <paramref name="model"/>.</summary>
    public static LlamaContext Create(LlamaModel model, LlamaContextOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        var threads = options.Threads > 0 ? options.Threads : Environment.ProcessorCount;
        var p = NativeMethods.llama_context_default_params();
        p.NCtx = options.ContextLength;
        p.NBatch = options.BatchSize;
        p.NUbatch = Math.Min(options.MicroBatchSize, options.BatchSize);
        p.NSeqMax = options.MaxSequences;
        p.NThreads = threads;
        p.NThreadsBatch = threads;
        p.KvUnified = options.UnifiedKvCache ? (byte)1 : (byte)0;
        p.NoPerf = 0;
        p.FlashAttnType = options.FlashAttention switch { true => 1, false => 0, null => -1 };
        if (options.Pooling is { } pooling)
        {
            p.Embeddings = 1;
            p.PoolingType = (int)pooling;
        }

        var handle = NativeMethods.llama_init_from_model(model.Handle, p);
        if (handle.IsInvalid)
        {
            handle.Dispose();
            throw new LlamaException(
                $"llama.cpp could not create a context (context {options.ContextLength}, {options.MaxSequences} sequences): out of memory or invalid sizes.");
        }

        // One persistent pool for decode and batch work (they use the same thread count), as llama-bench does.
        SafeGgmlThreadpoolHandle threadpool;
        try
        {
            threadpool = options.ShareThreadsWith?._threadpool ?? LlamaThreadpool.Create(threads, options.ThreadPoll);
        }
        catch
        {
            handle.Dispose();
            throw;
        }

        NativeMethods.llama_attach_threadpool(handle, threadpool.DangerousGetHandle(), 0);
        return new LlamaContext(model, handle, threadpool, ownsThreadpool: options.ShareThreadsWith is null);
    }

    /// <summary>
    /// Runs the model over a batch. Returns llama.cpp's status: 0 success, 1 no KV slot for the batch (the cache is
    /// full: free sequences or shrink the batch), 2 aborted. Negative values are fatal and throw.
    /// </summary>
    public int Decode(LlamaBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var status = NativeMethods.llama_decode(_handle, batch.Native);
        if (status < 0)
        {
            throw new LlamaException($"llama_decode failed with status {status} for a batch of {batch.Count} tokens.");
        }

        return status;
    }

    /// <summary>The logits for the <paramref name="batchIndex"/>-th token of the last decoded batch (it must have asked for them).</summary>
    public unsafe ReadOnlySpan<float> GetLogits(int batchIndex)
    {
        var logits = NativeMethods.llama_get_logits_ith(_handle, batchIndex);
        if (logits is null)
        {
            throw new LlamaException($"No logits for batch index {batchIndex}.");
        }

        return new ReadOnlySpan<float>(logits, Model.VocabSize);
    }

    /// <summary>
    /// An embedding context's pooled vector of <paramref name="sequence"/> after the last decode (unnormalized, the
    /// model's embedding length). Valid until the next decode.
    /// </summary>
    public unsafe ReadOnlySpan<float> GetSequenceEmbedding(LlamaSeqId sequence)
    {
        var embedding = NativeMethods.llama_get_embeddings_seq(_handle, sequence);
        if (embedding is null)
        {
            throw new LlamaException($"No pooled embedding for sequence {sequence.Value}: not an embedding context, or the sequence was not in the last batch.");
        }

        return new ReadOnlySpan<float>(embedding, Model.EmbeddingLength);
    }

    /// <summary>Clears the whole KV cache.</summary>
    public void ClearMemory() => NativeMethods.llama_memory_clear(_memory, true);

    /// <summary>Removes a sequence's cells in [<paramref name="from"/>, <paramref name="to"/>); -1 means open-ended.</summary>
    public bool RemoveSequence(LlamaSeqId sequence, int from = -1, int to = -1) =>
        NativeMethods.llama_memory_seq_rm(_memory, sequence, new LlamaPos(from), new LlamaPos(to));

    /// <summary>Makes <paramref name="destination"/> share <paramref name="source"/>'s cells in [from, to) (no recompute).</summary>
    public void CopySequence(LlamaSeqId source, LlamaSeqId destination, int from = -1, int to = -1) =>
        NativeMethods.llama_memory_seq_cp(_memory, source, destination, new LlamaPos(from), new LlamaPos(to));

    /// <summary>
    /// Replaces <paramref name="destination"/>'s cells with copies of <paramref name="source"/>'s, reading and writing
    /// only the cells the source holds (<c>llama_state_seq_get_data</c>, then <c>llama_state_seq_set_data</c>, through
    /// a host buffer kept for the next copy). Done before it returns. Between the KV streams of a per-sequence cache
    /// <see cref="CopySequence"/> copies the source's whole stream over the destination's at the next decode instead,
    /// however few cells the source holds. Returns the bytes copied.
    /// </summary>
    public unsafe ulong CopySequenceCells(LlamaSeqId source, LlamaSeqId destination)
    {
        EnsureStateBuffer(NativeMethods.llama_state_seq_get_size(_handle, source));

        var written = NativeMethods.llama_state_seq_get_data(_handle, _stateBuffer, _stateBufferSize, source);
        if (written == 0 || NativeMethods.llama_state_seq_set_data(_handle, _stateBuffer, written, destination) == 0)
        {
            throw new LlamaException($"Could not copy the cells of sequence {source} to sequence {destination}.");
        }

        return written;
    }

    /// <summary>
    /// Sizes the host buffer of <see cref="CopySequenceCells"/> for a sequence of <paramref name="cells"/> cells and
    /// writes every page of it now, so that no request pays for fresh memory on its first copy: on a VM whose memory
    /// the host backs lazily, the first 24 MB copy took 106 ms, the next ones 3.6 ms. The size per cell is measured by
    /// decoding two tokens into <paramref name="scratch"/>, which must be empty and is left empty. Returns the bytes.
    /// </summary>
    public unsafe ulong ReserveCellCopyBuffer(LlamaSeqId scratch, int cells)
    {
        // The state is a header, per-layer headers when any cell is held, then the same bytes per cell: two cells
        // against one give the bytes per cell, one cell less those the base.
        using (var batch = new LlamaBatch(2))
        {
            batch.Add(new LlamaToken(0), 0, scratch, wantLogits: false);
            batch.Add(new LlamaToken(0), 1, scratch, wantLogits: false);
            if (Decode(batch) != 0)
            {
                throw new LlamaException("Could not decode two tokens to measure the KV state of a cell.");
            }
        }

        var two = NativeMethods.llama_state_seq_get_size(_handle, scratch);
        RemoveSequence(scratch, 1, -1);
        var one = NativeMethods.llama_state_seq_get_size(_handle, scratch);
        RemoveSequence(scratch);
        var perCell = two - one;
        var size = one - perCell + (perCell * (ulong)Math.Max(1, cells));
        EnsureStateBuffer((nuint)size);
        NativeMemory.Clear(_stateBuffer, _stateBufferSize);
        return size;
    }

    private unsafe void EnsureStateBuffer(nuint size)
    {
        if (size <= _stateBufferSize)
        {
            return;
        }

        NativeMemory.Free(_stateBuffer);
        _stateBuffer = null;
        _stateBufferSize = 0;
        _stateBuffer = (byte*)NativeMemory.Alloc(size);
        _stateBufferSize = size;
    }

    /// <summary>
    /// Copies one sequence's KV cells into host memory of their own (see <see cref="SequenceState"/>).
    /// <paramref name="size"/> is its <see cref="SequenceStateSize"/>, which the caller has measured already (a dry
    /// run of the copy over every layer, not repeated here).
    /// </summary>
    public unsafe SequenceState SaveSequenceState(LlamaSeqId sequence, ulong size)
    {
        var data = (byte*)NativeMemory.Alloc((nuint)size);
        var written = NativeMethods.llama_state_seq_get_data(_handle, data, (nuint)size, sequence);
        if (written == 0)
        {
            NativeMemory.Free(data);
            throw new LlamaException($"Could not copy the cells of sequence {sequence} to host memory ({size} bytes measured).");
        }

        return new SequenceState(data, written);
    }

    /// <summary>
    /// Replaces <paramref name="destination"/>'s cells with those saved in <paramref name="state"/>
    /// (<c>llama_state_seq_set_data</c>); the state stays with its owner.
    /// </summary>
    public unsafe void RestoreSequenceState(SequenceState state, LlamaSeqId destination)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (NativeMethods.llama_state_seq_set_data(_handle, state.Data, (nuint)state.Length, destination) == 0)
        {
            throw new LlamaException($"Could not restore saved cells into sequence {destination}.");
        }
    }

    /// <summary>The largest position a sequence holds, or -1 when empty.</summary>
    public int SequenceMaxPosition(LlamaSeqId sequence) => NativeMethods.llama_memory_seq_pos_max(_memory, sequence).Value;

    /// <summary>The smallest position a sequence holds, or -1 when empty.</summary>
    public int SequenceMinPosition(LlamaSeqId sequence) => NativeMethods.llama_memory_seq_pos_min(_memory, sequence).Value;

    /// <summary>Bytes the KV state of one sequence takes.</summary>
    public ulong SequenceStateSize(LlamaSeqId sequence) => NativeMethods.llama_state_seq_get_size(_handle, sequence);

    /// <summary>Saves one sequence's KV cells and its tokens to a file (<c>llama_state_seq_save_file</c>).</summary>
    public unsafe void SaveSequence(string path, LlamaSeqId sequence, ReadOnlySpan<LlamaToken> tokens)
    {
        fixed (LlamaToken* t = tokens)
        {
            var written = NativeMethods.llama_state_seq_save_file(_handle, path, sequence, t, (nuint)tokens.Length);
            if (written == 0)
            {
                throw new LlamaException($"Could not save sequence {sequence} to '{path}'.");
            }
        }
    }

    /// <summary>Restores a sequence saved by <see cref="SaveSequence"/> and returns its tokens.</summary>
    public unsafe LlamaToken[] LoadSequence(string path, LlamaSeqId destination, int maxTokens)
    {
        var tokens = ArrayPool<LlamaToken>.Shared.Rent(maxTokens);
        try
        {
            fixed (LlamaToken* t = tokens)
            {
                var read = NativeMethods.llama_state_seq_load_file(_handle, path, destination, t, (nuint)maxTokens, out var count);
                if (read == 0)
                {
                    throw new LlamaException($"Could not restore a sequence from '{path}' (written by another model or context size?).");
                }

                return tokens.AsSpan(0, (int)count).ToArray();
            }
        }
        finally
        {
            ArrayPool<LlamaToken>.Shared.Return(tokens);
        }
    }

    /// <summary>llama.cpp's own timing counters.</summary>
    public (double PromptMs, int PromptTokens, double EvalMs, int EvalTokens) Performance()
    {
        var p = NativeMethods.llama_perf_context(_handle);
        return (p.TPromptEvalMs, p.NPromptEval, p.TEvalMs, p.NEval);
    }

    internal SafeLlamaContextHandle Handle => _handle;

    public void Dispose()
    {
        // The context goes first: it must not outlive the threads it computes on.
        _handle.Dispose();
        if (_ownsThreadpool)
        {
            _threadpool.Dispose();
        }

        unsafe
        {
            NativeMemory.Free(_stateBuffer);
            _stateBuffer = null;
            _stateBufferSize = 0;
        }
    }
}

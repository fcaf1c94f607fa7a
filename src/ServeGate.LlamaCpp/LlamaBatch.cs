using ServeGate.LlamaCpp.Native;

namespace ServeGate.LlamaCpp;

/// <summary>
/// A reusable <c>llama_batch</c> (arrays allocated once by llama.cpp): tokens of one or more sequences with their
/// positions, submitted together in one <see cref="LlamaContext.Decode"/>.
/// </summary>
public sealed unsafe class LlamaBatch : IDisposable
{
    private LlamaBatchNative _native;
    private bool _disposed;

    public LlamaBatch(int capacity, int maxSequencesPerToken = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSequencesPerToken, 1);
        Capacity = capacity;
        MaxSequencesPerToken = maxSequencesPerToken;
        _native = NativeMethods.llama_batch_init(capacity, 0, maxSequencesPerToken);
    }

    public int Capacity { get; }

    public int MaxSequencesPerToken { get; }

    /// <summary>Tokens added since the last <see cref="Clear"/>.</summary>
    public int Count => _native.NTokens;

    internal LlamaBatchNative Native => _native;

    public void Clear() => _native.NTokens = 0;

    /// <summary>Adds a token of one sequence; returns its index in the batch (the index to read logits with).</summary>
    public int Add(LlamaToken token, int position, LlamaSeqId sequence, bool wantLogits)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var i = _native.NTokens;
        if (i >= Capacity)
        {
            throw new InvalidOperationException($"The batch is full ({Capacity} tokens).");
        }

        _native.Token[i] = token;
        _native.Pos[i] = new LlamaPos(position);
        _native.NSeqId[i] = 1;
        _native.SeqId[i][0] = sequence;
        _native.Logits[i] = wantLogits ? (sbyte)1 : (sbyte)0;
        _native.NTokens = i + 1;
        return i;
    }

    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            NativeMethods.llama_batch_free(_native);
            _native = default;
        }
    }
}

using System.Runtime.InteropServices;

namespace ServeGate.LlamaCpp;

/// <summary>
/// One sequence's KV cells copied out of a context into host memory (<c>llama_state_seq_get_data</c>), to be put back
/// into any sequence of a context of the same model and size (<see cref="LlamaContext.RestoreSequenceState"/>). Owns
/// its native memory until disposed. Not thread-safe.
/// </summary>
public sealed unsafe class SequenceState : IDisposable
{
    private byte* _data;

    internal SequenceState(byte* data, ulong length)
    {
        _data = data;
        Length = length;
    }

    /// <summary>Bytes held.</summary>
    public ulong Length { get; }

    internal byte* Data => _data != null ? _data : throw new ObjectDisposedException(nameof(SequenceState));

    public void Dispose()
    {
        NativeMemory.Free(_data);
        _data = null;
    }
}

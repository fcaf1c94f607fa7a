using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Text;

namespace ServeGate.Models.Gguf;

/// <summary>
/// Writes a GGUF version 3 file to a stream in one pass: declare every tensor, write the header, then stream each
/// tensor's bytes in declaration order.
/// </summary>
/// <remarks>
/// The header holds every tensor's offset, and offsets follow from shapes and types alone, so the header can be
/// written before any weight exists and weights never need to be in memory together: a 1 GB model is written from a
/// 1 MB buffer. Padding (zeros to <c>general.alignment</c>, default 32) goes after the header and after each tensor,
/// as llama.cpp's <c>gguf_write_out</c> does; a file without tensors gets no padding, as gguf-py writes the
/// vocab-only files, so reading and rewriting one of those reproduces it byte for byte.
/// </remarks>
public sealed class GgufWriter : IAsyncDisposable
{
    private static readonly byte[] Zeros = new byte[256];

    private readonly Stream _output;
    private readonly GgufMetadata _metadata;
    private readonly bool _leaveOpen;
    private readonly List<GgufTensorInfo> _tensors = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private long _dataSize;
    private State _state;
    private int _tensorIndex;
    private long _tensorWritten;

    /// <param name="output">Where the file goes, from its first byte.</param>
    /// <param name="metadata">Keys to write, in order; read when the header is written. <c>general.alignment</c>, if present, must be a power-of-two UInt32.</param>
    /// <param name="leaveOpen">Leave <paramref name="output"/> open on dispose.</param>
    public GgufWriter(Stream output, GgufMetadata metadata, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(metadata);
        GgufValue.EnsureLittleEndian();
        _output = output;
        _metadata = metadata;
        _leaveOpen = leaveOpen;
        Alignment = ReadAlignment(metadata);
    }

    private enum State
    {
        DeclaringTensors,
        WritingData,
        Completed,
    }

    public int Alignment { get; }

    /// <summary>Tensors declared so far, with their offsets in the data section.</summary>
    public IReadOnlyList<GgufTensorInfo> Tensors => _tensors;

    /// <summary>Bytes written to the output so far.</summary>
    public long BytesWritten { get; private set; }

    /// <summary>Size of the data section (tensor bytes and padding) for the tensors declared so far.</summary>
    public long DataSize => _dataSize;

    /// <summary>Declares a tensor; its data must later be written in the same order as the declarations.</summary>
    /// <param name="name">Unique, shorter than 64 UTF-8 bytes (ggml's name limit).</param>
    /// <param name="type">Element type of the data that will be written.</param>
    /// <param name="dimensions">1 to 4 sizes, innermost first (ggml's <c>ne</c>); the first must be a whole number of blocks.</param>
    public GgufTensorInfo AddTensor(string name, GgmlType type, params ReadOnlySpan<long> dimensions)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (_state != State.DeclaringTensors)
        {
            throw new InvalidOperationException("Tensors must be declared before the header is written.");
        }

        if (Encoding.UTF8.GetByteCount(name) >= GgufTensorInfo.MaxNameBytes)
        {
            throw new ArgumentException($"Tensor name '{name}' must be shorter than {GgufTensorInfo.MaxNameBytes} UTF-8 bytes.", nameof(name));
        }

        if (!type.IsKnown())
        {
            throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown ggml type.");
        }

        if (dimensions.Length is 0 or > GgufTensorInfo.MaxDimensions)
        {
            throw new ArgumentException($"A tensor has 1 to {GgufTensorInfo.MaxDimensions} dimensions, not {dimensions.Length}.", nameof(dimensions));
        }

        foreach (var dimension in dimensions)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(dimension, nameof(dimensions));
        }

        if (dimensions[0] % type.GetBlockSize() != 0)
        {
            throw new ArgumentException($"Tensor '{name}': rows of {dimensions[0]} elements are not a whole number of {type} blocks ({type.GetBlockSize()}).", nameof(dimensions));
        }

        if (!_names.Add(name))
        {
            throw new ArgumentException($"Tensor '{name}' is already declared.", nameof(name));
        }

        var tensor = new GgufTensorInfo(name, ImmutableArray.Create(dimensions), type, (ulong)_dataSize);
        _dataSize = checked(_dataSize + GgufReader.Pad(tensor.ByteSize, Alignment));
        _tensors.Add(tensor);
        return tensor;
    }

    /// <summary>Writes magic, version, counts, metadata, tensor infos and the padding before the data section.</summary>
    public async ValueTask WriteHeaderAsync(CancellationToken cancellationToken = default)
    {
        if (_state != State.DeclaringTensors)
        {
            throw new InvalidOperationException("The header has already been written.");
        }

        // The header is built in memory (a few MB at most: the largest part is a tokenizer) and written at once.
        var header = new ArrayBufferWriter<byte>(64 * 1024);
        WriteUInt32(header, GgufReader.Magic);
        WriteUInt32(header, 3);
        WriteUInt64(header, (ulong)_tensors.Count);
        WriteUInt64(header, (ulong)_metadata.Count);
        foreach (var (key, value) in _metadata)
        {
            WriteString(header, Encoding.UTF8.GetBytes(key));
            WriteValue(header, value);
        }

        foreach (var tensor in _tensors)
        {
            WriteString(header, Encoding.UTF8.GetBytes(tensor.Name));
            WriteUInt32(header, (uint)tensor.Dimensions.Length);
            foreach (var dimension in tensor.Dimensions)
            {
                WriteUInt64(header, (ulong)dimension);
            }

            WriteUInt32(header, (uint)tensor.Type);
            WriteUInt64(header, tensor.Offset);
        }

        await WriteAsync(header.WrittenMemory, cancellationToken).ConfigureAwait(false);
        if (_tensors.Count > 0)
        {
            await PadAsync(cancellationToken).ConfigureAwait(false);
        }

        _state = State.WritingData;
        await SkipEmptyTensorsAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Appends tensor bytes. Calls may split a tensor into any number of chunks, or cover several tensors; padding
    /// is inserted when a tensor is complete.
    /// </summary>
    public async ValueTask WriteTensorDataAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        if (_state != State.WritingData)
        {
            throw new InvalidOperationException(_state == State.DeclaringTensors
                ? "Write the header before tensor data."
                : "All tensor data has already been written.");
        }

        while (!data.IsEmpty)
        {
            if (_tensorIndex == _tensors.Count)
            {
                throw new InvalidOperationException($"{data.Length} bytes more than the declared tensors hold.");
            }

            var tensor = _tensors[_tensorIndex];
            var take = (int)Math.Min(data.Length, tensor.ByteSize - _tensorWritten);
            await WriteAsync(data[..take], cancellationToken).ConfigureAwait(false);
            data = data[take..];
            _tensorWritten += take;
            if (_tensorWritten == tensor.ByteSize)
            {
                await PadAsync(cancellationToken).ConfigureAwait(false);
                _tensorIndex++;
                _tensorWritten = 0;
                await SkipEmptyTensorsAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Checks every declared byte was written and flushes the output.</summary>
    public async ValueTask CompleteAsync(CancellationToken cancellationToken = default)
    {
        if (_state == State.DeclaringTensors)
        {
            await WriteHeaderAsync(cancellationToken).ConfigureAwait(false);
        }

        if (_tensorIndex != _tensors.Count)
        {
            var tensor = _tensors[_tensorIndex];
            throw new InvalidOperationException($"Tensor '{tensor.Name}' has {_tensorWritten} of its {tensor.ByteSize} bytes; every declared tensor must be written.");
        }

        await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
        _state = State.Completed;
    }

    /// <summary>Closes the output (unless left open). Does not complete the file: an incomplete file stays incomplete.</summary>
    public ValueTask DisposeAsync() => _leaveOpen ? ValueTask.CompletedTask : _output.DisposeAsync();

    private async ValueTask SkipEmptyTensorsAsync(CancellationToken cancellationToken)
    {
        while (_tensorIndex < _tensors.Count && _tensors[_tensorIndex].ByteSize == 0)
        {
            await PadAsync(cancellationToken).ConfigureAwait(false);
            _tensorIndex++;
        }
    }

    private async ValueTask PadAsync(CancellationToken cancellationToken)
    {
        var padding = (int)(GgufReader.Pad(BytesWritten, Alignment) - BytesWritten);
        while (padding > 0)
        {
            var chunk = Math.Min(padding, Zeros.Length);
            await WriteAsync(Zeros.AsMemory(0, chunk), cancellationToken).ConfigureAwait(false);
            padding -= chunk;
        }
    }

    private async ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        await _output.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
        BytesWritten += bytes.Length;
    }

    private static int ReadAlignment(GgufMetadata metadata)
    {
        if (!metadata.TryGetValue(GgufKeys.Alignment, out var value))
        {
            return GgufReader.DefaultAlignment;
        }

        if (value.Type != GgufValueType.UInt32)
        {
            throw new ArgumentException($"'{GgufKeys.Alignment}' must be UInt32 (llama.cpp rejects other types), not {value.Type}.", nameof(metadata));
        }

        var alignment = value.AsUInt32();
        return alignment != 0 && (alignment & (alignment - 1)) == 0 && alignment <= 1 << 30
            ? (int)alignment
            : throw new ArgumentException($"'{GgufKeys.Alignment}' is {alignment}, not a power of two.", nameof(metadata));
    }

    private static void WriteValue(ArrayBufferWriter<byte> header, GgufValue value)
    {
        if (!value.IsArray)
        {
            WriteUInt32(header, (uint)value.Type);
            if (value.Type == GgufValueType.String)
            {
                WriteString(header, value.RawBytes);
            }
            else
            {
                header.Write(value.RawBytes);
            }

            return;
        }

        WriteUInt32(header, (uint)GgufValueType.Array);
        WriteUInt32(header, (uint)value.ElementType);
        WriteUInt64(header, (ulong)value.Count);
        if (value.RawStrings is { } strings)
        {
            foreach (var utf8 in strings)
            {
                WriteString(header, utf8);
            }
        }
        else
        {
            header.Write(value.RawBytes);
        }
    }

    private static void WriteString(ArrayBufferWriter<byte> header, ReadOnlySpan<byte> utf8)
    {
        WriteUInt64(header, (ulong)utf8.Length);
        header.Write(utf8);
    }

    private static void WriteUInt32(ArrayBufferWriter<byte> header, uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(header.GetSpan(sizeof(uint)), value);
        header.Advance(sizeof(uint));
    }

    private static void WriteUInt64(ArrayBufferWriter<byte> header, ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(header.GetSpan(sizeof(ulong)), value);
        header.Advance(sizeof(ulong));
    }
}

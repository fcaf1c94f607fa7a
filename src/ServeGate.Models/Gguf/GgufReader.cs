using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace ServeGate.Models.Gguf;

/// <summary>
/// Reads a GGUF file (versions 2 and 3, little-endian): header, metadata, tensor infos, and tensor data on demand.
/// </summary>
/// <remarks>
/// Checks what llama.cpp's <c>gguf_init_from_file_impl</c> (<c>ggml/src/gguf.cpp</c>) checks, so a file this
/// reader accepts is one llama.cpp's parser accepts: non-empty unique keys, no nested arrays, a power-of-two
/// uint32 <c>general.alignment</c>, unique tensor names shorter than 64 bytes, at most 4 dimensions, rows a whole
/// number of blocks, and tensors laid out back to back at aligned offsets. Lengths are checked against the bytes
/// left in the file before anything is allocated, so a corrupt length cannot ask for gigabytes.
/// </remarks>
public sealed class GgufReader : IDisposable
{
    /// <summary>"GGUF" read as a little-endian uint32.</summary>
    internal const uint Magic = 0x46554747;

    /// <summary>llama.cpp's <c>GGUF_DEFAULT_ALIGNMENT</c>.</summary>
    public const int DefaultAlignment = 32;

    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly long _start;
    private readonly Dictionary<string, GgufTensorInfo> _tensorsByName;

    private GgufReader(Stream stream, bool leaveOpen)
    {
        _stream = stream;
        _leaveOpen = leaveOpen;
        _start = stream.Position;

        var input = new BufferedInput(stream);
        if (input.ReadUInt32() != Magic)
        {
            throw new InvalidDataException("Not a GGUF file: the first four bytes are not 'GGUF'.");
        }

        Version = input.ReadUInt32();
        if (Version is < 2 or > 3)
        {
            throw new InvalidDataException($"GGUF version {Version} is not supported (2 and 3 are).");
        }

        var tensorCount = input.ReadInt64();
        var kvCount = input.ReadInt64();
        if (tensorCount < 0 || kvCount < 0 || tensorCount > input.Remaining || kvCount > input.Remaining)
        {
            throw new InvalidDataException($"GGUF header counts are invalid: {tensorCount} tensors, {kvCount} keys.");
        }

        Metadata = new GgufMetadata();
        for (long i = 0; i < kvCount; i++)
        {
            var key = Encoding.UTF8.GetString(input.ReadString());
            if (key.Length == 0)
            {
                throw new InvalidDataException($"GGUF key {i} is empty.");
            }

            if (Metadata.ContainsKey(key))
            {
                throw new InvalidDataException($"GGUF key '{key}' appears twice.");
            }

            Metadata.Add(key, ReadValue(input, key));
        }

        Alignment = DefaultAlignment;
        if (Metadata.TryGetValue(GgufKeys.Alignment, out var alignment))
        {
            if (alignment.Type != GgufValueType.UInt32)
            {
                throw new InvalidDataException($"'{GgufKeys.Alignment}' must be UInt32, not {alignment.Type}.");
            }

            var value = alignment.AsUInt32();
            if (value == 0 || (value & (value - 1)) != 0 || value > int.MaxValue)
            {
                throw new InvalidDataException($"'{GgufKeys.Alignment}' is {value}, not a power of two.");
            }

            Alignment = (int)value;
        }

        var tensors = new GgufTensorInfo[tensorCount];
        _tensorsByName = new Dictionary<string, GgufTensorInfo>(StringComparer.Ordinal);
        ulong expectedOffset = 0;
        for (long i = 0; i < tensorCount; i++)
        {
            var tensor = ReadTensorInfo(input);
            if (!_tensorsByName.TryAdd(tensor.Name, tensor))
            {
                throw new InvalidDataException($"GGUF tensor name '{tensor.Name}' appears twice.");
            }

            if (tensor.Offset != expectedOffset)
            {
                throw new InvalidDataException($"GGUF tensor '{tensor.Name}' has offset {tensor.Offset}, expected {expectedOffset}.");
            }

            expectedOffset += (ulong)Pad(tensor.ByteSize, Alignment);
            tensors[i] = tensor;
        }

        Tensors = tensors;
        var headerEnd = input.Position - _start;
        DataOffset = _start + (tensorCount > 0 ? Pad(headerEnd, Alignment) : headerEnd);
        foreach (var tensor in tensors)
        {
            if (DataOffset + (long)tensor.Offset + tensor.ByteSize > stream.Length)
            {
                throw new InvalidDataException($"GGUF tensor '{tensor.Name}' runs past the end of the file.");
            }
        }
    }

    public uint Version { get; }

    public GgufMetadata Metadata { get; }

    public IReadOnlyList<GgufTensorInfo> Tensors { get; }

    /// <summary>Alignment of tensor data: <c>general.alignment</c>, or 32 when absent.</summary>
    public int Alignment { get; }

    /// <summary>Absolute stream position where tensor data starts.</summary>
    public long DataOffset { get; }

    public static GgufReader Open(string path)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, bufferSize: 0);
        try
        {
            return new GgufReader(stream, leaveOpen: false);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Reads a GGUF that starts at the current position of a seekable stream.</summary>
    public static GgufReader Open(Stream stream, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek || !stream.CanRead)
        {
            throw new ArgumentException("The stream must be readable and seekable.", nameof(stream));
        }

        return new GgufReader(stream, leaveOpen);
    }

    public GgufTensorInfo GetTensor(string name) =>
        _tensorsByName.TryGetValue(name, out var tensor)
            ? tensor
            : throw new KeyNotFoundException($"GGUF file has no tensor '{name}'.");

    public bool TryGetTensor(string name, [MaybeNullWhen(false)] out GgufTensorInfo tensor) =>
        _tensorsByName.TryGetValue(name, out tensor);

    /// <summary>Reads all of a tensor's bytes into <paramref name="destination"/>, which must be exactly that long.</summary>
    public void ReadTensorData(GgufTensorInfo tensor, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (destination.Length != tensor.ByteSize)
        {
            throw new ArgumentException($"Tensor '{tensor.Name}' has {tensor.ByteSize} bytes, the destination {destination.Length}.", nameof(destination));
        }

        _stream.Position = DataOffset + (long)tensor.Offset;
        _stream.ReadExactly(destination);
    }

    /// <summary>Reads a tensor's bytes into a new array; for small tensors and tests.</summary>
    public byte[] ReadTensorData(GgufTensorInfo tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var bytes = new byte[tensor.ByteSize];
        ReadTensorData(tensor, bytes);
        return bytes;
    }

    public void Dispose()
    {
        if (!_leaveOpen)
        {
            _stream.Dispose();
        }
    }

    internal static long Pad(long value, int alignment) => (value + alignment - 1) / alignment * alignment;

    private static GgufValue ReadValue(BufferedInput input, string key)
    {
        var type = (GgufValueType)input.ReadInt32();
        if (type != GgufValueType.Array)
        {
            return type == GgufValueType.String
                ? GgufValue.FromRaw(GgufValueType.String, GgufValueType.String, input.ReadString())
                : GgufValue.FromRaw(type, type, input.ReadBytes(ScalarSize(type, key)));
        }

        var elementType = (GgufValueType)input.ReadInt32();
        var count = input.ReadUInt64();
        if (elementType == GgufValueType.String)
        {
            // Each string has at least its 8-byte length, which bounds the count before allocating.
            if (count > (ulong)(input.Remaining / sizeof(ulong)))
            {
                throw new InvalidDataException($"GGUF key '{key}' claims {count} strings, more than the file holds.");
            }

            var strings = new byte[count][];
            for (ulong i = 0; i < count; i++)
            {
                strings[i] = input.ReadString();
            }

            return GgufValue.FromRawStrings(strings);
        }

        var size = ScalarSize(elementType, key);
        if (count > (ulong)(input.Remaining / size))
        {
            throw new InvalidDataException($"GGUF key '{key}' claims {count} elements, more than the file holds.");
        }

        return GgufValue.FromRaw(GgufValueType.Array, elementType, input.ReadBytes((long)count * size));
    }

    private static int ScalarSize(GgufValueType type, string key) => type switch
    {
        GgufValueType.String or GgufValueType.Array => throw new InvalidDataException($"GGUF key '{key}' is an array of arrays, which llama.cpp rejects."),
        >= GgufValueType.UInt8 and <= GgufValueType.Float64 => GgufValue.SizeOf(type),
        _ => throw new InvalidDataException($"GGUF key '{key}' has unknown type {(int)type}."),
    };

    private static GgufTensorInfo ReadTensorInfo(BufferedInput input)
    {
        var nameBytes = input.ReadString();
        var name = Encoding.UTF8.GetString(nameBytes);
        if (nameBytes.Length >= GgufTensorInfo.MaxNameBytes)
        {
            throw new InvalidDataException($"GGUF tensor name '{name}' is {nameBytes.Length} bytes; the limit is {GgufTensorInfo.MaxNameBytes - 1}.");
        }

        var dimensionCount = input.ReadUInt32();
        if (dimensionCount > GgufTensorInfo.MaxDimensions)
        {
            throw new InvalidDataException($"GGUF tensor '{name}' has {dimensionCount} dimensions; the limit is {GgufTensorInfo.MaxDimensions}.");
        }

        var dimensions = ImmutableArray.CreateBuilder<long>((int)dimensionCount);
        for (var j = 0; j < dimensionCount; j++)
        {
            var dimension = input.ReadInt64();
            if (dimension < 0)
            {
                throw new InvalidDataException($"GGUF tensor '{name}' has negative dimension {dimension}.");
            }

            dimensions.Add(dimension);
        }

        var type = (GgmlType)input.ReadInt32();
        if (!type.IsKnown())
        {
            throw new InvalidDataException($"GGUF tensor '{name}' has unknown ggml type {(int)type}.");
        }

        if (dimensions.Count > 0 && dimensions[0] % type.GetBlockSize() != 0)
        {
            throw new InvalidDataException($"GGUF tensor '{name}' has rows of {dimensions[0]} elements, not a multiple of {type}'s block of {type.GetBlockSize()}.");
        }

        var offset = input.ReadUInt64();
        try
        {
            return new GgufTensorInfo(name, dimensions.MoveToImmutable(), type, offset);
        }
        catch (OverflowException)
        {
            throw new InvalidDataException($"GGUF tensor '{name}' has more elements than fit in 64 bits.");
        }
    }

    /// <summary>
    /// Little-endian reads through one reusable buffer. Tokenizers are ~10^5 short strings; a read call per string
    /// on the file would dominate, and BinaryReader decodes strings in .NET's own (7-bit length) format.
    /// </summary>
    private sealed class BufferedInput(Stream stream)
    {
        private readonly byte[] _buffer = new byte[64 * 1024];
        private readonly long _length = stream.Length;
        private long _bufferStart = stream.Position;
        private int _position;
        private int _count;

        public long Position => _bufferStart + _position;

        public long Remaining => _length - Position;

        public uint ReadUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(sizeof(uint)));

        public int ReadInt32() => BinaryPrimitives.ReadInt32LittleEndian(Take(sizeof(int)));

        public ulong ReadUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(sizeof(ulong)));

        public long ReadInt64() => BinaryPrimitives.ReadInt64LittleEndian(Take(sizeof(long)));

        public byte[] ReadString()
        {
            var length = ReadUInt64();
            if (length > (ulong)Remaining)
            {
                throw new InvalidDataException($"GGUF string of {length} bytes at offset {Position} runs past the end of the file.");
            }

            return ReadBytes((long)length);
        }

        public byte[] ReadBytes(long count)
        {
            if (count > Remaining)
            {
                throw new InvalidDataException($"GGUF file ends inside a value at offset {Position}.");
            }

            var result = new byte[count];
            var buffered = (int)Math.Min(count, _count - _position);
            _buffer.AsSpan(_position, buffered).CopyTo(result);
            _position += buffered;
            if (buffered < count)
            {
                // Large values go straight from the stream into the result.
                stream.ReadExactly(result.AsSpan(buffered));
                _bufferStart += _count + (count - buffered);
                _position = 0;
                _count = 0;
            }

            return result;
        }

        private ReadOnlySpan<byte> Take(int size)
        {
            if (_count - _position < size)
            {
                Fill(size);
            }

            var span = _buffer.AsSpan(_position, size);
            _position += size;
            return span;
        }

        private void Fill(int size)
        {
            var left = _count - _position;
            _buffer.AsSpan(_position, left).CopyTo(_buffer);
            _bufferStart += _position;
            _position = 0;
            _count = left;
            while (_count < size)
            {
                var read = stream.Read(_buffer, _count, _buffer.Length - _count);
                if (read == 0)
                {
                    throw new InvalidDataException($"GGUF file ends early, at offset {_bufferStart + _count}.");
                }

                _count += read;
            }
        }
    }
}

using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace ServeGate.Models.Gguf;

/// <summary>
/// One GGUF metadata value: a scalar or a one-level array of one element type.
/// </summary>
/// <remarks>
/// Values keep their on-disk bytes (little-endian numbers, UTF-8 strings) rather than decoded .NET objects.
/// A tokenizer is hundreds of thousands of strings: keeping bytes makes copying one from a vocab file into a
/// model exact (a string that is not valid UTF-8 survives unchanged) and cheap (nothing is decoded or re-encoded).
/// Equality compares type and bytes, so a copied key can be checked byte for byte.
/// </remarks>
public sealed class GgufValue : IEquatable<GgufValue>
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    // Numbers and bools (scalar or array) and a scalar string's UTF-8 live in _bytes; string arrays in _strings.
    private readonly byte[]? _bytes;
    private readonly byte[][]? _strings;

    private GgufValue(GgufValueType type, GgufValueType elementType, byte[]? bytes, byte[][]? strings)
    {
        Type = type;
        ElementType = elementType;
        _bytes = bytes;
        _strings = strings;
    }

    /// <summary>The value's type tag; <see cref="GgufValueType.Array"/> for arrays.</summary>
    public GgufValueType Type { get; }

    /// <summary>For an array, the type of its elements; for a scalar, the same as <see cref="Type"/>.</summary>
    public GgufValueType ElementType { get; }

    public bool IsArray => Type == GgufValueType.Array;

    /// <summary>Number of elements of an array (1 for a scalar).</summary>
    public int Count => !IsArray ? 1 : _strings?.Length ?? _bytes!.Length / SizeOf(ElementType);

    public static GgufValue FromUInt8(byte value) => Scalar(GgufValueType.UInt8, [value]);

    public static GgufValue FromInt8(sbyte value) => Scalar(GgufValueType.Int8, [unchecked((byte)value)]);

    public static GgufValue FromUInt16(ushort value) => Scalar(GgufValueType.UInt16, value, BinaryPrimitives.WriteUInt16LittleEndian);

    public static GgufValue FromInt16(short value) => Scalar(GgufValueType.Int16, value, BinaryPrimitives.WriteInt16LittleEndian);

    public static GgufValue FromUInt32(uint value) => Scalar(GgufValueType.UInt32, value, BinaryPrimitives.WriteUInt32LittleEndian);

    public static GgufValue FromInt32(int value) => Scalar(GgufValueType.Int32, value, BinaryPrimitives.WriteInt32LittleEndian);

    public static GgufValue FromFloat32(float value) => Scalar(GgufValueType.Float32, value, BinaryPrimitives.WriteSingleLittleEndian);

    public static GgufValue FromBool(bool value) => Scalar(GgufValueType.Bool, [value ? (byte)1 : (byte)0]);

    public static GgufValue FromUInt64(ulong value) => Scalar(GgufValueType.UInt64, value, BinaryPrimitives.WriteUInt64LittleEndian);

    public static GgufValue FromInt64(long value) => Scalar(GgufValueType.Int64, value, BinaryPrimitives.WriteInt64LittleEndian);

    public static GgufValue FromFloat64(double value) => Scalar(GgufValueType.Float64, value, BinaryPrimitives.WriteDoubleLittleEndian);

    public static GgufValue FromString(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return new(GgufValueType.String, GgufValueType.String, StrictUtf8.GetBytes(value), null);
    }

    /// <summary>A string value from raw UTF-8 bytes, kept as given.</summary>
    public static GgufValue FromUtf8(ReadOnlySpan<byte> utf8) => new(GgufValueType.String, GgufValueType.String, utf8.ToArray(), null);

    /// <summary>
    /// An array of numbers or bools. <typeparamref name="T"/> picks the element type: byte, sbyte, ushort, short,
    /// uint, int, float, bool, ulong, long or double.
    /// </summary>
    public static GgufValue FromArray<T>(ReadOnlySpan<T> values)
        where T : unmanaged
    {
        var elementType = ElementTypeOf<T>();
        var bytes = MemoryMarshal.AsBytes(values).ToArray();
        EnsureLittleEndian();
        if (elementType == GgufValueType.Bool)
        {
            NormalizeBools(bytes);
        }

        return new(GgufValueType.Array, elementType, bytes, null);
    }

    public static GgufValue FromStringArray(IEnumerable<string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return new(GgufValueType.Array, GgufValueType.String, null, values.Select(StrictUtf8.GetBytes).ToArray());
    }

    /// <summary>Takes ownership of <paramref name="bytes"/>: for the reader, which has just allocated them.</summary>
    internal static GgufValue FromRaw(GgufValueType type, GgufValueType elementType, byte[] bytes)
    {
        if (elementType == GgufValueType.Bool)
        {
            NormalizeBools(bytes);
        }

        return new(type, elementType, bytes, null);
    }

    /// <summary>Takes ownership of <paramref name="strings"/>: for the reader, which has just allocated them.</summary>
    internal static GgufValue FromRawStrings(byte[][] strings) => new(GgufValueType.Array, GgufValueType.String, null, strings);

    public byte AsUInt8() => ScalarBytes(GgufValueType.UInt8)[0];

    public sbyte AsInt8() => unchecked((sbyte)ScalarBytes(GgufValueType.Int8)[0]);

    public ushort AsUInt16() => BinaryPrimitives.ReadUInt16LittleEndian(ScalarBytes(GgufValueType.UInt16));

    public short AsInt16() => BinaryPrimitives.ReadInt16LittleEndian(ScalarBytes(GgufValueType.Int16));

    public uint AsUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(ScalarBytes(GgufValueType.UInt32));

    public int AsInt32() => BinaryPrimitives.ReadInt32LittleEndian(ScalarBytes(GgufValueType.Int32));

    public float AsFloat32() => BinaryPrimitives.ReadSingleLittleEndian(ScalarBytes(GgufValueType.Float32));

    public bool AsBool() => ScalarBytes(GgufValueType.Bool)[0] != 0;

    public ulong AsUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(ScalarBytes(GgufValueType.UInt64));

    public long AsInt64() => BinaryPrimitives.ReadInt64LittleEndian(ScalarBytes(GgufValueType.Int64));

    public double AsFloat64() => BinaryPrimitives.ReadDoubleLittleEndian(ScalarBytes(GgufValueType.Float64));

    /// <summary>A string value, decoded (invalid UTF-8 becomes U+FFFD; <see cref="AsUtf8"/> has the exact bytes).</summary>
    public string AsString() => Encoding.UTF8.GetString(ScalarBytes(GgufValueType.String));

    public ReadOnlySpan<byte> AsUtf8() => ScalarBytes(GgufValueType.String);

    /// <summary>The elements of a number or bool array, without copying.</summary>
    public ReadOnlySpan<T> AsArray<T>()
        where T : unmanaged
    {
        var elementType = ElementTypeOf<T>();
        if (!IsArray || ElementType != elementType)
        {
            throw WrongType($"array of {elementType}");
        }

        EnsureLittleEndian();
        return MemoryMarshal.Cast<byte, T>(_bytes);
    }

    /// <summary>The elements of a string array, decoded.</summary>
    public IReadOnlyList<string> AsStringArray()
    {
        var strings = StringElements();
        var result = new string[strings.Length];
        for (var i = 0; i < strings.Length; i++)
        {
            result[i] = Encoding.UTF8.GetString(strings[i]);
        }

        return result;
    }

    /// <summary>The exact UTF-8 bytes of one element of a string array.</summary>
    public ReadOnlySpan<byte> GetUtf8(int index) => StringElements()[index];

    public bool Equals(GgufValue? other)
    {
        if (other is null || Type != other.Type || ElementType != other.ElementType)
        {
            return false;
        }

        if (_strings is null || other._strings is null)
        {
            return _bytes.AsSpan().SequenceEqual(other._bytes);
        }

        if (_strings.Length != other._strings.Length)
        {
            return false;
        }

        for (var i = 0; i < _strings.Length; i++)
        {
            if (!_strings[i].AsSpan().SequenceEqual(other._strings[i]))
            {
                return false;
            }
        }

        return true;
    }

    public override bool Equals(object? obj) => Equals(obj as GgufValue);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Type);
        hash.Add(ElementType);
        hash.Add(Count);
        if (_bytes is not null)
        {
            hash.AddBytes(_bytes.AsSpan(0, Math.Min(_bytes.Length, 64)));
        }

        return hash.ToHashCode();
    }

    public override string ToString()
    {
        if (IsArray)
        {
            return $"[{ElementType} x {Count}]";
        }

        return Type switch
        {
            GgufValueType.UInt8 => AsUInt8().ToString(CultureInfo.InvariantCulture),
            GgufValueType.Int8 => AsInt8().ToString(CultureInfo.InvariantCulture),
            GgufValueType.UInt16 => AsUInt16().ToString(CultureInfo.InvariantCulture),
            GgufValueType.Int16 => AsInt16().ToString(CultureInfo.InvariantCulture),
            GgufValueType.UInt32 => AsUInt32().ToString(CultureInfo.InvariantCulture),
            GgufValueType.Int32 => AsInt32().ToString(CultureInfo.InvariantCulture),
            GgufValueType.Float32 => AsFloat32().ToString(CultureInfo.InvariantCulture),
            GgufValueType.Bool => AsBool() ? "true" : "false",
            GgufValueType.UInt64 => AsUInt64().ToString(CultureInfo.InvariantCulture),
            GgufValueType.Int64 => AsInt64().ToString(CultureInfo.InvariantCulture),
            GgufValueType.Float64 => AsFloat64().ToString(CultureInfo.InvariantCulture),
            _ => AsString(),
        };
    }

    /// <summary>Size in bytes of one element of a fixed-size type (not strings or arrays).</summary>
    internal static int SizeOf(GgufValueType type) => type switch
    {
        GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
        GgufValueType.UInt16 or GgufValueType.Int16 => 2,
        GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
        GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Not a fixed-size GGUF type."),
    };

    /// <summary>The raw bytes of a number/bool scalar or array, or a scalar string's UTF-8: what the writer emits.</summary>
    internal ReadOnlySpan<byte> RawBytes => _bytes;

    /// <summary>The UTF-8 of each element of a string array: what the writer emits.</summary>
    internal byte[][]? RawStrings => _strings;

    private static GgufValue Scalar(GgufValueType type, byte[] bytes) => new(type, type, bytes, null);

    private static GgufValue Scalar<T>(GgufValueType type, T value, SpanAction<T> write)
    {
        var bytes = new byte[SizeOf(type)];
        write(bytes, value);
        return new(type, type, bytes, null);
    }

    private delegate void SpanAction<in T>(Span<byte> destination, T value);

    private ReadOnlySpan<byte> ScalarBytes(GgufValueType expected) =>
        Type == expected ? _bytes : throw WrongType(expected.ToString());

    private byte[][] StringElements() =>
        _strings ?? throw WrongType($"array of {GgufValueType.String}");

    private InvalidOperationException WrongType(string expected) =>
        new($"GGUF value is {(IsArray ? $"array of {ElementType}" : Type.ToString())}, not {expected}.");

    private static GgufValueType ElementTypeOf<T>()
        where T : unmanaged
    {
        if (typeof(T) == typeof(byte)) { return GgufValueType.UInt8; }
        if (typeof(T) == typeof(sbyte)) { return GgufValueType.Int8; }
        if (typeof(T) == typeof(ushort)) { return GgufValueType.UInt16; }
        if (typeof(T) == typeof(short)) { return GgufValueType.Int16; }
        if (typeof(T) == typeof(uint)) { return GgufValueType.UInt32; }
        if (typeof(T) == typeof(int)) { return GgufValueType.Int32; }
        if (typeof(T) == typeof(float)) { return GgufValueType.Float32; }
        if (typeof(T) == typeof(bool)) { return GgufValueType.Bool; }
        if (typeof(T) == typeof(ulong)) { return GgufValueType.UInt64; }
        if (typeof(T) == typeof(long)) { return GgufValueType.Int64; }
        if (typeof(T) == typeof(double)) { return GgufValueType.Float64; }
        throw new NotSupportedException($"{typeof(T)} has no GGUF element type.");
    }

    // GGUF stores bools as one byte and llama.cpp reads any non-zero byte as true; keep 0/1 so equality is meaningful.
    private static void NormalizeBools(byte[] bytes)
    {
        for (var i = 0; i < bytes.Length; i++)
        {
            bytes[i] = bytes[i] != 0 ? (byte)1 : (byte)0;
        }
    }

    internal static void EnsureLittleEndian()
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("GGUF numbers are little-endian; big-endian hosts are not supported.");
        }
    }
}

using System.Buffers.Binary;
using ServeGate.Models.Gguf;

namespace ServeGate.Models.Tests;

public sealed class GgufRoundTripTests
{
    [Fact]
    public async Task WriteThenRead_EveryValueType_RoundTripsInOrder()
    {
        // Arrange
        var metadata = new GgufMetadata
        {
            { "t.u8", GgufValue.FromUInt8(250) },
            { "t.i8", GgufValue.FromInt8(-120) },
            { "t.u16", GgufValue.FromUInt16(65_000) },
            { "t.i16", GgufValue.FromInt16(-32_000) },
            { "t.u32", GgufValue.FromUInt32(4_000_000_000) },
            { "t.i32", GgufValue.FromInt32(-2_000_000_000) },
            { "t.f32", GgufValue.FromFloat32(3.5e-6f) },
            { "t.f32.nan", GgufValue.FromFloat32(float.NaN) },
            { "t.bool", GgufValue.FromBool(true) },
            { "t.str", GgufValue.FromString("héllo, 世界 ✓") },
            { "t.str.empty", GgufValue.FromString("") },
            { "t.str.invalid-utf8", GgufValue.FromUtf8([0x66, 0xFF, 0xC3]) },
            { "t.u64", GgufValue.FromUInt64(ulong.MaxValue - 1) },
            { "t.i64", GgufValue.FromInt64(long.MinValue + 1) },
            { "t.f64", GgufValue.FromFloat64(-1.25e300) },
            { "a.u8", GgufValue.FromArray<byte>([0, 1, 255]) },
            { "a.i8", GgufValue.FromArray<sbyte>([-128, 0, 127]) },
            { "a.u16", GgufValue.FromArray<ushort>([1, 65_535]) },
            { "a.i16", GgufValue.FromArray<short>([-1, 2]) },
            { "a.u32", GgufValue.FromArray<uint>([7, 8, 9]) },
            { "a.i32", GgufValue.FromArray<int>([-7, 0, int.MaxValue]) },
            { "a.f32", GgufValue.FromArray<float>([0.5f, -0f, float.PositiveInfinity]) },
            { "a.bool", GgufValue.FromArray<bool>([true, false, true]) },
            { "a.str", GgufValue.FromStringArray(["a", "", "Ġ Ġ", "<|im_start|>"]) },
            { "a.u64", GgufValue.FromArray<ulong>([ulong.MaxValue]) },
            { "a.i64", GgufValue.FromArray<long>([long.MinValue, 3]) },
            { "a.f64", GgufValue.FromArray<double>([Math.PI]) },
            { "a.empty", GgufValue.FromArray<int>([]) },
            { "a.str.empty", GgufValue.FromStringArray([]) },
        };

        // Act
        var bytes = await WriteAsync(metadata, []);
        using var reader = GgufReader.Open(new MemoryStream(bytes));

        // Assert
        Assert.Equal(3u, reader.Version);
        Assert.Equal(metadata.Keys, reader.Metadata.Keys);
        foreach (var (key, value) in metadata)
        {
            Assert.Equal(value, reader.Metadata[key]);
        }

        Assert.Equal(4_000_000_000u, reader.Metadata["t.u32"].AsUInt32());
        Assert.Equal(-120, reader.Metadata["t.i8"].AsInt8());
        Assert.True(float.IsNaN(reader.Metadata["t.f32.nan"].AsFloat32()));
        Assert.Equal("héllo, 世界 ✓", reader.Metadata.GetString("t.str"));
        Assert.Equal([0x66, 0xFF, 0xC3], reader.Metadata["t.str.invalid-utf8"].AsUtf8().ToArray());
        Assert.Equal(["a", "", "Ġ Ġ", "<|im_start|>"], reader.Metadata["a.str"].AsStringArray());
        Assert.Equal([true, false, true], reader.Metadata["a.bool"].AsArray<bool>().ToArray());
        Assert.Equal([-7, 0, int.MaxValue], reader.Metadata["a.i32"].AsArray<int>().ToArray());
        Assert.Equal(GgufValueType.Array, reader.Metadata["a.empty"].Type);
        Assert.Equal(0, reader.Metadata["a.empty"].Count);
        Assert.Equal(-1.25e300, reader.Metadata["t.f64"].AsFloat64());
        Assert.Empty(reader.Tensors);
        Assert.Equal(bytes.Length, reader.DataOffset);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(64u)]
    [InlineData(1u)]
    public async Task WriteThenRead_Tensors_AreAlignedAndRoundTrip(uint? alignment)
    {
        // Arrange: sizes that are not multiples of the alignment, so padding is needed between every tensor.
        var metadata = new GgufMetadata { { "general.architecture", GgufValue.FromString("test") } };
        if (alignment is { } value)
        {
            metadata.Add(GgufKeys.Alignment, GgufValue.FromUInt32(value));
        }

        var tensors = new (string Name, GgmlType Type, long[] Dims, byte[] Data)[]
        {
            ("a.weight", GgmlType.F32, [3], Bytes(12, 1)),
            ("b.weight", GgmlType.F16, [5, 3], Bytes(30, 2)),
            ("c.weight", GgmlType.Q8_0, [64, 1, 1, 1], Bytes(68, 3)),
            ("empty", GgmlType.I32, [0], []),
            ("d.weight", GgmlType.I8, [7, 2, 1], Bytes(14, 4)),
        };

        // Act
        var bytes = await WriteAsync(metadata, tensors);
        using var reader = GgufReader.Open(new MemoryStream(bytes));

        // Assert
        var expectedAlignment = (int)(alignment ?? 32);
        Assert.Equal(expectedAlignment, reader.Alignment);
        Assert.Equal(0, reader.DataOffset % expectedAlignment);
        Assert.Equal(tensors.Select(t => t.Name), reader.Tensors.Select(t => t.Name));
        foreach (var (name, type, dims, data) in tensors)
        {
            var tensor = reader.GetTensor(name);
            Assert.Equal(type, tensor.Type);
            Assert.Equal(dims, tensor.Dimensions);
            Assert.Equal(0ul, tensor.Offset % (ulong)expectedAlignment);
            Assert.Equal(data.Length, tensor.ByteSize);
            Assert.Equal(data, reader.ReadTensorData(tensor));
        }

        // The data section ends padded, as llama.cpp's own writer leaves it.
        Assert.Equal(0, bytes.Length % expectedAlignment);
    }

    [Theory]
    [InlineData(TestVocab.LlamaSpm)]
    [InlineData(TestVocab.Starcoder)]
    [InlineData(TestVocab.Qwen2)]
    [InlineData(TestVocab.LlamaBpe)]
    public async Task ReadThenWrite_VocabFile_ReproducesItByteForByte(string vocabFile)
    {
        // Arrange
        var original = await File.ReadAllBytesAsync(TestVocab.PathOf(vocabFile));
        using var reader = GgufReader.Open(new MemoryStream(original));

        // Act
        var rewritten = await WriteAsync(reader.Metadata, []);

        // Assert
        Assert.True(reader.Metadata[GgufKeys.TokenizerTokens].Count > 30_000);
        Assert.Equal(original.Length, rewritten.Length);
        Assert.True(original.AsSpan().SequenceEqual(rewritten), "rewritten vocab file differs from the original");
    }

    [Fact]
    public void Open_BadMagic_Throws()
    {
        var bytes = "GGML\u0003\0\0\0"u8.ToArray().Concat(new byte[16]).ToArray();

        var error = Assert.Throws<InvalidDataException>(() => GgufReader.Open(new MemoryStream(bytes)));

        Assert.Contains("GGUF", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Open_TruncatedHeader_Throws()
    {
        var bytes = await WriteAsync(new GgufMetadata { { "k", GgufValue.FromStringArray(["one", "two", "three"]) } }, []);

        Assert.Throws<InvalidDataException>(() => GgufReader.Open(new MemoryStream(bytes[..^4])));
    }

    [Fact]
    public async Task Open_TruncatedTensorData_Throws()
    {
        var bytes = await WriteAsync(new GgufMetadata(), [("t", GgmlType.F32, [64], Bytes(256, 9))]);

        var error = Assert.Throws<InvalidDataException>(() => GgufReader.Open(new MemoryStream(bytes[..^64])));

        Assert.Contains("past the end", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_NestedArray_ThrowsLikeLlamaCpp()
    {
        // Arrange: one key whose value is an array of arrays.
        using var stream = new MemoryStream();
        void U32(uint v) { Span<byte> b = stackalloc byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, v); stream.Write(b); }
        void U64(ulong v) { Span<byte> b = stackalloc byte[8]; BinaryPrimitives.WriteUInt64LittleEndian(b, v); stream.Write(b); }
        stream.Write("GGUF"u8);
        U32(3);
        U64(0);
        U64(1);
        U64(1);
        stream.Write("k"u8);
        U32((uint)GgufValueType.Array);
        U32((uint)GgufValueType.Array);
        U64(0);
        stream.Position = 0;

        // Act and assert
        var error = Assert.Throws<InvalidDataException>(() => GgufReader.Open(stream, leaveOpen: true));
        Assert.Contains("array of arrays", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WriteTensorData_MoreBytesThanDeclared_Throws()
    {
        await using var writer = new GgufWriter(new MemoryStream(), new GgufMetadata());
        writer.AddTensor("t", GgmlType.F32, 2);
        await writer.WriteHeaderAsync();

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await writer.WriteTensorDataAsync(new byte[12]));
    }

    [Fact]
    public async Task CompleteAsync_MissingTensorData_ThrowsNamingTheTensor()
    {
        await using var writer = new GgufWriter(new MemoryStream(), new GgufMetadata());
        writer.AddTensor("first", GgmlType.F32, 2);
        writer.AddTensor("second", GgmlType.F32, 2);
        await writer.WriteHeaderAsync();
        await writer.WriteTensorDataAsync(new byte[12]);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await writer.CompleteAsync());

        Assert.Contains("'second' has 4 of its 8 bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddTensor_AfterHeader_Throws()
    {
        await using var writer = new GgufWriter(new MemoryStream(), new GgufMetadata());
        await writer.WriteHeaderAsync();

        Assert.Throws<InvalidOperationException>(() => writer.AddTensor("late", GgmlType.F32, 1));
    }

    [Fact]
    public void AddTensor_InvalidDeclarations_Throw()
    {
        var writer = new GgufWriter(new MemoryStream(), new GgufMetadata());
        writer.AddTensor("taken", GgmlType.F32, 1);

        Assert.Throws<ArgumentException>(() => writer.AddTensor(new string('x', 64), GgmlType.F32, 1));
        Assert.Throws<ArgumentException>(() => writer.AddTensor("taken", GgmlType.F32, 1));
        Assert.Throws<ArgumentException>(() => writer.AddTensor("q8", GgmlType.Q8_0, 33));
        Assert.Throws<ArgumentException>(() => writer.AddTensor("5d", GgmlType.F32, 1, 1, 1, 1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.AddTensor("negative", GgmlType.F32, -1));
    }

    [Theory]
    [InlineData(48u)]
    [InlineData(0u)]
    public void Constructor_AlignmentNotPowerOfTwo_Throws(uint alignment)
    {
        var metadata = new GgufMetadata { { GgufKeys.Alignment, GgufValue.FromUInt32(alignment) } };

        Assert.Throws<ArgumentException>(() => new GgufWriter(new MemoryStream(), metadata));
    }

    [Fact]
    public void Constructor_AlignmentNotUInt32_Throws()
    {
        var metadata = new GgufMetadata { { GgufKeys.Alignment, GgufValue.FromUInt64(32) } };

        Assert.Throws<ArgumentException>(() => new GgufWriter(new MemoryStream(), metadata));
    }

    [Fact]
    public void Accessor_WrongType_Throws()
    {
        var value = GgufValue.FromUInt32(5);

        Assert.Throws<InvalidOperationException>(() => value.AsInt32());
        Assert.Throws<InvalidOperationException>(() => value.AsString());
        Assert.Throws<InvalidOperationException>(() => GgufValue.FromArray<int>([1]).AsArray<uint>().Length);
    }

    [Fact]
    public void MetadataAdd_DuplicateKey_Throws()
    {
        var metadata = new GgufMetadata { { "k", GgufValue.FromBool(false) } };

        Assert.Throws<ArgumentException>(() => metadata.Add("k", GgufValue.FromBool(true)));
    }

    [Fact]
    public void MetadataIndexer_Replace_KeepsPosition()
    {
        var metadata = new GgufMetadata
        {
            { "a", GgufValue.FromInt32(1) },
            { "b", GgufValue.FromInt32(2) },
        };

        metadata["a"] = GgufValue.FromInt32(3);

        Assert.Equal(["a", "b"], metadata.Keys);
        Assert.Equal(3, metadata["a"].AsInt32());
    }

    private static async Task<byte[]> WriteAsync(GgufMetadata metadata, (string Name, GgmlType Type, long[] Dims, byte[] Data)[] tensors)
    {
        var stream = new MemoryStream();
        await using (var writer = new GgufWriter(stream, metadata, leaveOpen: true))
        {
            foreach (var (name, type, dims, _) in tensors)
            {
                writer.AddTensor(name, type, dims);
            }

            await writer.WriteHeaderAsync();
            foreach (var (_, _, _, data) in tensors)
            {
                // Split each tensor's bytes to exercise chunked writes.
                var half = data.Length / 2;
                await writer.WriteTensorDataAsync(data.AsMemory(0, half));
                await writer.WriteTensorDataAsync(data.AsMemory(half));
            }

            await writer.CompleteAsync();
        }

        return stream.ToArray();
    }

    private static byte[] Bytes(int count, byte seed) => Enumerable.Range(0, count).Select(i => (byte)(i * 31 + seed)).ToArray();
}

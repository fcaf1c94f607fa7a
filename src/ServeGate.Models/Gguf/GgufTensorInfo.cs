using System.Collections.Immutable;

namespace ServeGate.Models.Gguf;

/// <summary>
/// A tensor's entry in a GGUF header: name, shape, element type and where its bytes start.
/// </summary>
public sealed class GgufTensorInfo
{
    /// <summary>ggml's <c>GGML_MAX_NAME</c>: names must be shorter than this many bytes.</summary>
    public const int MaxNameBytes = 64;

    /// <summary>ggml's <c>GGML_MAX_DIMS</c>.</summary>
    public const int MaxDimensions = 4;

    internal GgufTensorInfo(string name, ImmutableArray<long> dimensions, GgmlType type, ulong offset)
    {
        Name = name;
        Dimensions = dimensions;
        Type = type;
        Offset = offset;
        ElementCount = 1;
        foreach (var dimension in dimensions)
        {
            ElementCount = checked(ElementCount * dimension);
        }
    }

    public string Name { get; }

    /// <summary>
    /// ggml order: <c>ne[0]</c> first, the innermost (contiguous) dimension. A weight that maps n_embd inputs to
    /// n_ff outputs is <c>[n_embd, n_ff]</c>.
    /// </summary>
    public ImmutableArray<long> Dimensions { get; }

    public GgmlType Type { get; }

    /// <summary>Offset of the first byte from the start of the data section (a multiple of the alignment).</summary>
    public ulong Offset { get; }

    public long ElementCount { get; }

    /// <summary>Bytes of data, without the alignment padding that follows.</summary>
    public long ByteSize => checked(ElementCount / Type.GetBlockSize() * Type.GetTypeSize());

    public override string ToString() => $"{Name} {Type} [{string.Join(", ", Dimensions)}] @{Offset}";
}

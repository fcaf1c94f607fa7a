namespace ServeGate.Models.Gguf;

/// <summary>
/// The type tag of a GGUF metadata value, stored as an int32 in the file (<c>enum gguf_type</c> in
/// llama.cpp's <c>ggml/include/gguf.h</c>; the numbers are the on-disk values).
/// </summary>
public enum GgufValueType
{
    UInt8 = 0,
    Int8 = 1,
    UInt16 = 2,
    Int16 = 3,
    UInt32 = 4,
    Int32 = 5,
    Float32 = 6,
    /// <summary>One byte, 0 or 1.</summary>
    Bool = 7,
    /// <summary>A uint64 byte length followed by UTF-8 bytes, no terminator.</summary>
    String = 8,
    /// <summary>An element type, a uint64 count, then the elements. Arrays of arrays are rejected by llama.cpp, so here too.</summary>
    Array = 9,
    UInt64 = 10,
    Int64 = 11,
    Float64 = 12,
}

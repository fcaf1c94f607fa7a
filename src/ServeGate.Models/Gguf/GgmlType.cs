namespace ServeGate.Models.Gguf;

/// <summary>
/// A tensor's element type (<c>enum ggml_type</c> in llama.cpp's <c>ggml/include/ggml.h</c>, pinned
/// version 3.22.1 / v0.5.0); the numbers are the on-disk values. Gaps are types ggml removed.
/// </summary>
/// <remarks>Names keep ggml's spelling (Q4_K, IQ2_XXS): it is what users and llama.cpp's logs use.</remarks>
public enum GgmlType
{
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    IQ2_XXS = 16,
    IQ2_XS = 17,
    IQ3_XXS = 18,
    IQ1_S = 19,
    IQ4_NL = 20,
    IQ3_S = 21,
    IQ2_S = 22,
    IQ4_XS = 23,
    I8 = 24,
    I16 = 25,
    I32 = 26,
    I64 = 27,
    F64 = 28,
    IQ1_M = 29,
    BF16 = 30,
    TQ1_0 = 34,
    TQ2_0 = 35,
    MXFP4 = 39,
    NVFP4 = 40,
    Q1_0 = 41,
    Q2_0 = 42,
}

/// <summary>Block layout of each <see cref="GgmlType"/>, needed to size tensor data.</summary>
public static class GgmlTypeExtensions
{
    /// <summary>
    /// Elements per block and bytes per block, printed by <c>ggml_blck_size</c>/<c>ggml_type_size</c> from the
    /// pinned <c>libggml-base.so</c> rather than transcribed from the headers, so they cannot drift from it.
    /// </summary>
    private static readonly Dictionary<GgmlType, (int BlockSize, int TypeSize)> Layouts = new()
    {
        [GgmlType.F32] = (1, 4),
        [GgmlType.F16] = (1, 2),
        [GgmlType.Q4_0] = (32, 18),
        [GgmlType.Q4_1] = (32, 20),
        [GgmlType.Q5_0] = (32, 22),
        [GgmlType.Q5_1] = (32, 24),
        [GgmlType.Q8_0] = (32, 34),
        [GgmlType.Q8_1] = (32, 36),
        [GgmlType.Q2_K] = (256, 84),
        [GgmlType.Q3_K] = (256, 110),
        [GgmlType.Q4_K] = (256, 144),
        [GgmlType.Q5_K] = (256, 176),
        [GgmlType.Q6_K] = (256, 210),
        [GgmlType.Q8_K] = (256, 292),
        [GgmlType.IQ2_XXS] = (256, 66),
        [GgmlType.IQ2_XS] = (256, 74),
        [GgmlType.IQ3_XXS] = (256, 98),
        [GgmlType.IQ1_S] = (256, 50),
        [GgmlType.IQ4_NL] = (32, 18),
        [GgmlType.IQ3_S] = (256, 110),
        [GgmlType.IQ2_S] = (256, 82),
        [GgmlType.IQ4_XS] = (256, 136),
        [GgmlType.I8] = (1, 1),
        [GgmlType.I16] = (1, 2),
        [GgmlType.I32] = (1, 4),
        [GgmlType.I64] = (1, 8),
        [GgmlType.F64] = (1, 8),
        [GgmlType.IQ1_M] = (256, 56),
        [GgmlType.BF16] = (1, 2),
        [GgmlType.TQ1_0] = (256, 54),
        [GgmlType.TQ2_0] = (256, 66),
        [GgmlType.MXFP4] = (32, 17),
        [GgmlType.NVFP4] = (64, 36),
        [GgmlType.Q1_0] = (128, 18),
        [GgmlType.Q2_0] = (64, 18),
    };

    /// <summary>Whether ggml knows this type (a file may carry a number this version does not).</summary>
    public static bool IsKnown(this GgmlType type) => Layouts.ContainsKey(type);

    /// <summary>Number of elements stored together in one block (1 for plain floats and ints).</summary>
    public static int GetBlockSize(this GgmlType type) => GetLayout(type).BlockSize;

    /// <summary>Bytes taken by one block.</summary>
    public static int GetTypeSize(this GgmlType type) => GetLayout(type).TypeSize;

    private static (int BlockSize, int TypeSize) GetLayout(GgmlType type) =>
        Layouts.TryGetValue(type, out var layout)
            ? layout
            : throw new NotSupportedException($"ggml type {(int)type} is not known to this version of ServeGate.");
}

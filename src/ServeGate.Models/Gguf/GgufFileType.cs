namespace ServeGate.Models.Gguf;

/// <summary>
/// What a model file's weights are stored as: llama.cpp's <c>enum llama_ftype</c> (<c>include/llama.h</c>), same
/// numbers, so a binding can pass it straight to <c>llama_model_quantize</c>. Written to <c>general.file_type</c>.
/// </summary>
/// <remarks>
/// Names keep llama.cpp's quantization spelling (Q4_K_M). Only the types ServeGate generates or asks llama.cpp to
/// quantize to are listed. "Mostly": 1-D tensors (norms) stay F32 in every type, as llama.cpp's quantizer keeps them.
/// </remarks>
public enum GgufFileType
{
    /// <summary><c>LLAMA_FTYPE_ALL_F32</c>.</summary>
    F32 = 0,

    /// <summary><c>LLAMA_FTYPE_MOSTLY_F16</c>.</summary>
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q8_0 = 7,
    Q5_0 = 8,
    Q5_1 = 9,
    Q2_K = 10,
    Q3_K_S = 11,
    Q3_K_M = 12,
    Q3_K_L = 13,
    Q4_K_S = 14,
    Q4_K_M = 15,
    Q5_K_S = 16,
    Q5_K_M = 17,
    Q6_K = 18,

    /// <summary><c>LLAMA_FTYPE_MOSTLY_BF16</c>: produced by quantization from F16, since .NET has no BF16 type to generate with.</summary>
    BF16 = 32,
}

public static class GgufFileTypeExtensions
{
    /// <summary>Whether the generator writes this type itself; every other type is produced by a quantizer.</summary>
    public static bool IsGeneratedDirectly(this GgufFileType fileType) => fileType is GgufFileType.F32 or GgufFileType.F16;

    /// <summary>The conventional file-name spelling: <c>f16</c>, <c>q8_0</c>, <c>q4_k_m</c>.</summary>
    public static string ToFileNamePart(this GgufFileType fileType) =>
        Enum.IsDefined(fileType)
            ? fileType.ToString().ToLowerInvariant()
            : throw new ArgumentOutOfRangeException(nameof(fileType), fileType, "Unknown GGUF file type.");
}

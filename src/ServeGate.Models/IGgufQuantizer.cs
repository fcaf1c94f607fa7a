using ServeGate.Models.Gguf;

namespace ServeGate.Models;

/// <summary>
/// Turns an F16 or F32 GGUF into a quantized one. ServeGate.Models writes GGUF itself but does not quantize:
/// the llama.cpp binding implements this with <c>llama_model_quantize</c>, so the quantization code and its
/// output are llama.cpp's own.
/// </summary>
public interface IGgufQuantizer
{
    /// <summary>Quantizes <paramref name="inputPath"/> into a new file at <paramref name="outputPath"/>.</summary>
    /// <param name="inputPath">A complete F16 or F32 GGUF.</param>
    /// <param name="outputPath">Where to write; the caller picks a temporary name and renames it when done.</param>
    /// <param name="target">The <c>llama_ftype</c> to produce; never <see cref="GgufFileType.F32"/> or <see cref="GgufFileType.F16"/>.</param>
    /// <param name="cancellationToken">May be observed only before starting: <c>llama_model_quantize</c> cannot be interrupted.</param>
    Task QuantizeAsync(string inputPath, string outputPath, GgufFileType target, CancellationToken cancellationToken);
}

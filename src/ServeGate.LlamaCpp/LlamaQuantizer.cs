using ServeGate.LlamaCpp.Native;

namespace ServeGate.LlamaCpp;

/// <summary>Quantizes a GGUF file with llama.cpp's own <c>llama_model_quantize</c>.</summary>
public static class LlamaQuantizer
{
    /// <summary>Writes <paramref name="outputPath"/>, a copy of <paramref name="inputPath"/> quantized to <paramref name="fileType"/>.</summary>
    public static void Quantize(string inputPath, string outputPath, LlamaFileType fileType, int threads = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(inputPath);
        ArgumentException.ThrowIfNullOrEmpty(outputPath);
        if (LlamaBackend.Info is null)
        {
            throw new InvalidOperationException("LlamaBackend.Initialize must be called before quantizing.");
        }

        var p = NativeMethods.llama_model_quantize_default_params();
        p.FType = (int)fileType;
        p.NThread = threads > 0 ? threads : Environment.ProcessorCount;
        var status = NativeMethods.llama_model_quantize(inputPath, outputPath, in p);
        if (status != 0)
        {
            throw new LlamaException($"llama_model_quantize failed ({status}) quantizing '{inputPath}' to {fileType}.");
        }
    }
}

using Microsoft.Extensions.Options;
using ServeGate.LlamaCpp;
using ServeGate.LlamaCpp.Native;
using ServeGate.Models;
using ServeGate.Models.Gguf;

namespace ServeGate.Worker.Models;

/// <summary>Quantizes generated GGUF files with llama.cpp's own <c>llama_model_quantize</c>.</summary>
public sealed class LlamaGgufQuantizer(int threads = 0) : IGgufQuantizer
{
    public Task QuantizeAsync(string inputPath, string outputPath, GgufFileType target, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();

        // llama_model_quantize cannot be interrupted; run it off the caller's thread.
        return Task.Run(() => LlamaQuantizer.Quantize(inputPath, outputPath, (LlamaFileType)(int)target, threads), CancellationToken.None);
    }
}

/// <summary>
/// The embedded default: a base model and its instruct twin (same weights, plus a ChatML template), both the Tiny
/// llama-architecture shape with a real tokenizer and random weights, quantized Q4_K_M. Generated on first run into
/// the cache (a few seconds), then reused.
/// </summary>
public sealed class DemoModelSource(IOptions<LlamaBackendOptions> backend) : IDemoModelSource
{
    public const string BaseId = "servegate-demo-base";
    public const string InstructId = "servegate-demo-instruct";
    public const GgufFileType FileType = GgufFileType.Q4_K_M;

    public async Task<IReadOnlyList<ModelEntry>> EnsureAsync(IProgress<string> progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(progress);
        LlamaBackend.Initialize(backend.Value);
        var quantizer = new LlamaGgufQuantizer();
        var entries = new List<ModelEntry>();
        foreach (var (id, variant) in new[] { (BaseId, ModelVariant.Base), (InstructId, ModelVariant.Instruct) })
        {
            var spec = LlamaModelSpec.Tiny with { Variant = variant };
            var path = await EnsureAsync(spec, FileType, quantizer, progress, cancellationToken).ConfigureAwait(false);
            entries.Add(new ModelEntry { Id = id, Path = path, Kind = variant == ModelVariant.Instruct ? ModelKind.Instruct : ModelKind.Base });
        }

        return entries;
    }

    /// <summary>Generates (or finds in the cache) one model, reporting progress in tenths.</summary>
    public static async Task<string> EnsureAsync(LlamaModelSpec spec, GgufFileType fileType, IGgufQuantizer quantizer, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var name = ModelCache.GetFileName(spec, fileType, LlamaModelGenerator.DefaultSeed);
        var lastTenth = -1;
        var percent = new Progress<double>(p =>
        {
            var tenth = (int)(p * 10);
            if (tenth != lastTenth)
            {
                lastTenth = tenth;
                progress?.Report($"generating {name}: {tenth * 10}%");
            }
        });
        return await ModelCache.EnsureAsync(spec, fileType, LlamaModelGenerator.DefaultSeed, ServeGateCachePaths.ModelDirectory, quantizer, percent, cancellationToken)
            .ConfigureAwait(false);
    }
}

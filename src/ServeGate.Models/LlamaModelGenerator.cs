using System.Buffers;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using ServeGate.Models.Gguf;

namespace ServeGate.Models;

/// <summary>
/// Writes llama-architecture GGUF models with a real tokenizer and random weights, so ServeGate can run llama.cpp
/// without downloading a model.
/// </summary>
/// <remarks>
/// What llama.cpp requires was read from its source (pinned 3.22.1): hyperparameter keys and their exact types from
/// <c>llama_model_base::load_hparams</c> and <c>src/models/llama.cpp</c> (types must match: <c>GKV::get_kv</c>
/// rejects a uint64 where it expects uint32), tensor names and shapes from <c>llama_model_llama::load_arch_tensors</c>,
/// tokenizer keys from <c>llama_vocab::impl::load</c>. The tokenizer is copied from a vocab-only GGUF key by key
/// and byte for byte. Output is a pure function of (spec, seed, <see cref="Version"/>).
/// </remarks>
public static class LlamaModelGenerator
{
    /// <summary>
    /// Changes whenever the bytes generated for a given spec and seed change; part of the cache fingerprint, so a
    /// cached model from an older generator is regenerated instead of reused.
    /// </summary>
    public const uint Version = 1;

    /// <summary>The seed used when none is given.</summary>
    public const ulong DefaultSeed = 42;

    /// <summary>
    /// The ChatML template (the one Qwen and SmolLM2 instruct models use), without a default system prompt.
    /// llama.cpp's <c>llm_chat_detect_template</c> recognises it as <c>chatml</c> by its <c>&lt;|im_start|&gt;</c>.
    /// </summary>
    public const string ChatMlTemplate =
        """{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}""";

    /// <summary>Generation buffer: large enough that per-write overhead vanishes, small enough to stay in cache.</summary>
    private const int ChunkBytes = 1 << 20;

    /// <summary>
    /// Writes an F16 or F32 model (per <see cref="LlamaModelSpec.WeightType"/>) to <paramref name="output"/>,
    /// tensor by tensor through one pooled 1 MB buffer. Progress is the fraction of tensor bytes written, 0 to 1.
    /// </summary>
    public static async Task WriteAsync(
        LlamaModelSpec spec,
        ulong seed,
        Stream output,
        IProgress<double>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(output);
        spec.EnsureValid();

        var tokenizer = ReadTokenizer(spec);
        var vocabSize = tokenizer[GgufKeys.TokenizerTokens].Count;
        var metadata = CreateMetadata(spec, seed, tokenizer, vocabSize);

        await using var writer = new GgufWriter(output, metadata, leaveOpen: true);
        foreach (var tensor in PlanTensors(spec, vocabSize))
        {
            writer.AddTensor(tensor.Name, tensor.Type, tensor.Dimensions);
        }

        await writer.WriteHeaderAsync(cancellationToken).ConfigureAwait(false);

        var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            var total = Math.Max(1, writer.DataSize);
            long done = 0;
            var lastReported = -1.0;
            foreach (var tensor in writer.Tensors)
            {
                var random = tensor.Dimensions.Length == 1 ? null : new RandomWeights(seed, tensor.Name);
                for (long offset = 0; offset < tensor.ByteSize; offset += ChunkBytes)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var chunk = buffer.AsMemory(0, (int)Math.Min(ChunkBytes, tensor.ByteSize - offset));
                    if (random is null)
                    {
                        FillOnes(chunk.Span);
                    }
                    else
                    {
                        random.Fill(chunk.Span, tensor.Type);
                    }

                    await writer.WriteTensorDataAsync(chunk, cancellationToken).ConfigureAwait(false);
                    done += chunk.Length;
                    var fraction = (double)done / total;
                    if (progress is not null && fraction - lastReported >= 0.01)
                    {
                        progress.Report(fraction);
                        lastReported = fraction;
                    }
                }
            }

            await writer.CompleteAsync(cancellationToken).ConfigureAwait(false);
            progress?.Report(1.0);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Writes a model file of any <paramref name="fileType"/>. F32 and F16 are written directly; any other type is
    /// written as <see cref="LlamaModelSpec.WeightType"/> to <c>outputPath + ".source.tmp"</c>, handed to
    /// <paramref name="quantizer"/>, then deleted. On failure or cancellation nothing is left at either path.
    /// Progress goes from 0 to 1; when a quantizer runs, generation is reported as the first 80%.
    /// </summary>
    public static async Task WriteFileAsync(
        LlamaModelSpec spec,
        GgufFileType fileType,
        ulong seed,
        string outputPath,
        IGgufQuantizer? quantizer = null,
        IProgress<double>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentException.ThrowIfNullOrEmpty(outputPath);
        var source = GetSourceSpec(spec, fileType);
        if (!fileType.IsGeneratedDirectly() && quantizer is null)
        {
            throw new InvalidOperationException(
                $"A {fileType} model needs an {nameof(IGgufQuantizer)} (llama.cpp's llama_model_quantize); only F32 and F16 are generated directly.");
        }

        var generatedPath = fileType.IsGeneratedDirectly() ? outputPath : outputPath + ".source.tmp";
        try
        {
            var generationProgress = progress is null || fileType.IsGeneratedDirectly()
                ? progress
                : new ScaledProgress(progress, 0.8);
            await using (var stream = new FileStream(generatedPath, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0))
            {
                await WriteAsync(source, seed, stream, generationProgress, cancellationToken).ConfigureAwait(false);
            }

            if (!fileType.IsGeneratedDirectly())
            {
                cancellationToken.ThrowIfCancellationRequested();
                await quantizer!.QuantizeAsync(generatedPath, outputPath, fileType, cancellationToken).ConfigureAwait(false);
                if (!File.Exists(outputPath))
                {
                    throw new InvalidOperationException($"The quantizer reported success but wrote no file at '{outputPath}'.");
                }

                progress?.Report(1.0);
            }
        }
        catch
        {
            File.Delete(outputPath);
            throw;
        }
        finally
        {
            if (generatedPath != outputPath)
            {
                File.Delete(generatedPath);
            }
        }
    }

    /// <summary>
    /// A short hash of everything that determines the generated bytes: generator version, effective spec, seed.
    /// Stored as <c>servegate.fingerprint</c>, which quantization copies, so a cached file can be checked against
    /// what it should contain.
    /// </summary>
    public static string ComputeFingerprint(LlamaModelSpec spec, GgufFileType fileType, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return ComputeFingerprint(GetSourceSpec(spec, fileType), seed);
    }

    /// <summary>The spec actually generated for <paramref name="fileType"/>: F32/F16 override the weight type.</summary>
    internal static LlamaModelSpec GetSourceSpec(LlamaModelSpec spec, GgufFileType fileType) => fileType switch
    {
        GgufFileType.F32 => spec with { WeightType = GgmlType.F32 },
        GgufFileType.F16 => spec with { WeightType = GgmlType.F16 },
        _ when Enum.IsDefined(fileType) => spec,
        _ => throw new ArgumentOutOfRangeException(nameof(fileType), fileType, "Unknown GGUF file type."),
    };

    /// <summary>
    /// The tensors llama.cpp's llama architecture loads, in ggml dimension order (<c>ne[0]</c>, the input width,
    /// first): <c>create_tensor(..., {n_embd, n_ff})</c> is a matrix taking n_embd inputs to n_ff outputs.
    /// </summary>
    internal static IReadOnlyList<TensorPlan> PlanTensors(LlamaModelSpec spec, int vocabSize)
    {
        long embd = spec.EmbeddingLength;
        long ff = spec.FeedForwardLength;
        long kv = (long)spec.HeadDimension * spec.HeadCountKv;
        long q = (long)spec.HeadDimension * spec.HeadCount;
        var w = spec.WeightType;
        var tensors = new List<TensorPlan> { new("token_embd.weight", w, [embd, vocabSize]) };
        for (var i = 0; i < spec.BlockCount; i++)
        {
            tensors.Add(new($"blk.{i}.attn_norm.weight", GgmlType.F32, [embd]));
            tensors.Add(new($"blk.{i}.attn_q.weight", w, [embd, q]));
            tensors.Add(new($"blk.{i}.attn_k.weight", w, [embd, kv]));
            tensors.Add(new($"blk.{i}.attn_v.weight", w, [embd, kv]));
            tensors.Add(new($"blk.{i}.attn_output.weight", w, [q, embd]));
            tensors.Add(new($"blk.{i}.ffn_norm.weight", GgmlType.F32, [embd]));
            tensors.Add(new($"blk.{i}.ffn_gate.weight", w, [embd, ff]));
            tensors.Add(new($"blk.{i}.ffn_up.weight", w, [embd, ff]));
            tensors.Add(new($"blk.{i}.ffn_down.weight", w, [ff, embd]));
        }

        tensors.Add(new("output_norm.weight", GgmlType.F32, [embd]));
        if (!spec.TieEmbeddings)
        {
            tensors.Add(new("output.weight", w, [embd, vocabSize]));
        }

        return tensors;
    }

    /// <summary>Reads the vocab file and keeps its tokenizer keys, minus any chat template (the variant decides that).</summary>
    internal static GgufMetadata ReadTokenizer(LlamaModelSpec spec)
    {
        var path = spec.ResolveVocabPath();
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                $"Vocab file '{path}' for model spec '{spec.Name}' is missing. Run eng/fetch-llama.sh to fetch the pinned llama.cpp vocab files"
                + $" (or set {ServeGateCachePaths.CacheEnvironmentVariable} to the cache that has them).",
                path);
        }

        using var vocab = GgufReader.Open(path);
        var tokenizer = new GgufMetadata();
        foreach (var (key, value) in vocab.Metadata)
        {
            if (key.StartsWith(GgufKeys.TokenizerPrefix, StringComparison.Ordinal)
                && !key.StartsWith(GgufKeys.ChatTemplate, StringComparison.Ordinal))
            {
                tokenizer.Add(key, value);
            }
        }

        if (!tokenizer.TryGetValue(GgufKeys.TokenizerTokens, out var tokens)
            || tokens.ElementType != GgufValueType.String || !tokens.IsArray || tokens.Count == 0)
        {
            throw new InvalidDataException($"'{path}' has no '{GgufKeys.TokenizerTokens}' string array; it is not a tokenizer.");
        }

        if (!tokenizer.ContainsKey(GgufKeys.TokenizerModel))
        {
            throw new InvalidDataException($"'{path}' has no '{GgufKeys.TokenizerModel}'; llama.cpp requires it.");
        }

        return tokenizer;
    }

    private static GgufMetadata CreateMetadata(LlamaModelSpec spec, ulong seed, GgufMetadata tokenizer, int vocabSize)
    {
        var variant = spec.Variant == ModelVariant.Instruct ? "instruct" : "base";
        var metadata = new GgufMetadata
        {
            { GgufKeys.Architecture, GgufValue.FromString("llama") },
            { GgufKeys.Type, GgufValue.FromString("model") },
            { GgufKeys.Name, GgufValue.FromString($"ServeGate demo {variant} ({spec.Name}, random weights)") },
            {
                GgufKeys.Description,
                GgufValue.FromString(
                    $"Random weights (seed {seed.ToString(CultureInfo.InvariantCulture)}, uniform, standard deviation {RandomWeights.StandardDeviation.ToString(CultureInfo.InvariantCulture)})"
                    + $" in the shape of {spec.Name}, with the tokenizer of {Path.GetFileName(spec.VocabFile)}. Generated by ServeGate for tests and benchmarks:"
                    + " its compute cost is that of a real model of this shape, but the text it produces is meaningless.")
            },
            { GgufKeys.FileType, GgufValue.FromUInt32((uint)(spec.WeightType == GgmlType.F32 ? GgufFileType.F32 : GgufFileType.F16)) },
            { GgufKeys.LlamaVocabSize, GgufValue.FromUInt32((uint)vocabSize) },
            { GgufKeys.LlamaContextLength, GgufValue.FromUInt32((uint)spec.ContextLength) },
            { GgufKeys.LlamaEmbeddingLength, GgufValue.FromUInt32((uint)spec.EmbeddingLength) },
            { GgufKeys.LlamaBlockCount, GgufValue.FromUInt32((uint)spec.BlockCount) },
            { GgufKeys.LlamaFeedForwardLength, GgufValue.FromUInt32((uint)spec.FeedForwardLength) },
            { GgufKeys.LlamaHeadCount, GgufValue.FromUInt32((uint)spec.HeadCount) },
            { GgufKeys.LlamaHeadCountKv, GgufValue.FromUInt32((uint)spec.HeadCountKv) },
            { GgufKeys.LlamaRmsNormEpsilon, GgufValue.FromFloat32(spec.RmsNormEpsilon) },
            { GgufKeys.LlamaRopeFreqBase, GgufValue.FromFloat32(spec.RopeFreqBase) },
            { GgufKeys.LlamaRopeDimensionCount, GgufValue.FromUInt32((uint)spec.HeadDimension) },
            { GgufKeys.ServeGateShape, GgufValue.FromString(spec.Name) },
            { GgufKeys.ServeGateSeed, GgufValue.FromUInt64(seed) },
            { GgufKeys.ServeGateGeneratorVersion, GgufValue.FromUInt32(Version) },
            { GgufKeys.ServeGateFingerprint, GgufValue.FromString(ComputeFingerprint(spec, seed)) },
        };

        foreach (var (key, value) in tokenizer)
        {
            metadata.Add(key, value);
        }

        if (spec.Variant == ModelVariant.Instruct)
        {
            metadata.Add(GgufKeys.ChatTemplate, GgufValue.FromString(ChatMlTemplate));
        }

        return metadata;
    }

    private static string ComputeFingerprint(LlamaModelSpec spec, ulong seed)
    {
        var canonical = string.Join(
            ';',
            $"v{Version}",
            spec.Name,
            spec.VocabFile,
            spec.EmbeddingLength,
            spec.BlockCount,
            spec.FeedForwardLength,
            spec.HeadCount,
            spec.HeadCountKv,
            spec.ContextLength,
            spec.RopeFreqBase.ToString("R", CultureInfo.InvariantCulture),
            spec.RmsNormEpsilon.ToString("R", CultureInfo.InvariantCulture),
            spec.TieEmbeddings,
            spec.WeightType,
            spec.Variant,
            seed.ToString(CultureInfo.InvariantCulture));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))[..16];
    }

    private static void FillOnes(Span<byte> destination)
    {
        // Norm weights of 1.0 leave RMS-normalised activations at unit scale: logits stay finite at any depth.
        MemoryMarshal.Cast<byte, float>(destination).Fill(1.0f);
    }

    internal sealed record TensorPlan(string Name, GgmlType Type, long[] Dimensions);

    /// <summary>Maps a sub-task's 0..1 onto 0..<c>share</c> of the caller's progress.</summary>
    private sealed class ScaledProgress(IProgress<double> inner, double share) : IProgress<double>
    {
        public void Report(double value) => inner.Report(value * share);
    }
}

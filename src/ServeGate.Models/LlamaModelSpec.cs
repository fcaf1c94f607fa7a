using System.Globalization;
using System.Text.RegularExpressions;
using ServeGate.Models.Gguf;

namespace ServeGate.Models;

/// <summary>Whether a generated model is presented as a base (completion) or an instruct (chat) model.</summary>
public enum ModelVariant
{
    /// <summary>No chat template: clients complete text.</summary>
    Base,

    /// <summary>A ChatML <c>tokenizer.chat_template</c>, so chat requests are formatted as for a post-trained model.</summary>
    Instruct,
}

/// <summary>
/// The shape of a llama-architecture model ServeGate generates with random weights: enough for llama.cpp to load
/// it and spend exactly the compute a trained model of that shape would.
/// </summary>
/// <remarks>
/// Property names follow llama.cpp's hyperparameters (n_embd, n_layer, n_ff, n_head, n_head_kv). The presets take
/// the published shapes of small real models, so throughput measured on them is the throughput of those models.
/// </remarks>
public sealed partial record LlamaModelSpec
{
    /// <summary>
    /// A few-second demo: 256 wide, 4 layers, the 32k llama SentencePiece vocab, untied output (so both embedding
    /// layouts llama.cpp supports get exercised). About 20M parameters, 39 MB as F16.
    /// </summary>
    public static LlamaModelSpec Tiny { get; } = new()
    {
        Name = "tiny",
        VocabFile = "ggml-vocab-llama-spm.gguf",
        EmbeddingLength = 256,
        BlockCount = 4,
        FeedForwardLength = 768,
        HeadCount = 8,
        HeadCountKv = 4,
        ContextLength = 2048,
        RopeFreqBase = 10_000f,
        RmsNormEpsilon = 1e-5f,
        TieEmbeddings = false,
    };

    /// <summary>HuggingFaceTB/SmolLM2-135M's shape (its config.json), with the 49152-token StarCoder vocab it derives from.</summary>
    public static LlamaModelSpec SmolLM2_135M { get; } = new()
    {
        Name = "smollm2-135m",
        VocabFile = "ggml-vocab-starcoder.gguf",
        EmbeddingLength = 576,
        BlockCount = 30,
        FeedForwardLength = 1536,
        HeadCount = 9,
        HeadCountKv = 3,
        ContextLength = 8192,
        RopeFreqBase = 100_000f,
        RmsNormEpsilon = 1e-5f,
        TieEmbeddings = true,
    };

    /// <summary>
    /// Qwen/Qwen2.5-0.5B's shape and vocab, as a llama-architecture model (Qwen2's q/k/v biases are left out:
    /// llama.cpp's llama graph treats them as optional and they are a negligible share of the compute).
    /// </summary>
    public static LlamaModelSpec Qwen25_05B { get; } = new()
    {
        Name = "qwen2.5-0.5b",
        VocabFile = "ggml-vocab-qwen2.gguf",
        EmbeddingLength = 896,
        BlockCount = 24,
        FeedForwardLength = 4864,
        HeadCount = 14,
        HeadCountKv = 2,
        ContextLength = 32768,
        RopeFreqBase = 1_000_000f,
        RmsNormEpsilon = 1e-6f,
        TieEmbeddings = true,
    };

    /// <summary>
    /// Karpathy's llama2.c stories15M shape (288 wide, 6 layers, 6 heads without grouping, SwiGLU 768, 256-token
    /// context, classifier tied to the embeddings) with the 32k llama SentencePiece vocab it was trained with. About
    /// 15M parameters, 16 MB as Q8_0: small enough to stay in cache, so per-token overheads outside the model (HTTP,
    /// SSE, the gateway) show best on it (issue 4's gateway-overhead benchmark, docs/benchmarks.md).
    /// </summary>
    public static LlamaModelSpec Stories15M { get; } = new()
    {
        Name = "stories15m",
        VocabFile = "ggml-vocab-llama-spm.gguf",
        EmbeddingLength = 288,
        BlockCount = 6,
        FeedForwardLength = 768,
        HeadCount = 6,
        HeadCountKv = 6,
        ContextLength = 256,
        RopeFreqBase = 10_000f,
        RmsNormEpsilon = 1e-5f,
        TieEmbeddings = true,
    };

    /// <summary>Every preset, for listings and command lines.</summary>
    public static IReadOnlyList<LlamaModelSpec> Presets { get; } = [Tiny, SmolLM2_135M, Qwen25_05B, Stories15M];

    /// <summary>Short lowercase name used in file names (letters, digits, '.', '-', '_').</summary>
    public required string Name { get; init; }

    /// <summary>
    /// The tokenizer: a <c>ggml-vocab-*.gguf</c> file name, looked up in <see cref="ServeGateCachePaths.VocabDirectory"/>,
    /// or a full path to any GGUF whose <c>tokenizer.*</c> keys should be copied.
    /// </summary>
    public required string VocabFile { get; init; }

    /// <summary>n_embd: width of the residual stream.</summary>
    public required int EmbeddingLength { get; init; }

    /// <summary>n_layer: number of transformer blocks.</summary>
    public required int BlockCount { get; init; }

    /// <summary>n_ff: hidden width of each SwiGLU feed-forward block.</summary>
    public required int FeedForwardLength { get; init; }

    /// <summary>n_head: query heads.</summary>
    public required int HeadCount { get; init; }

    /// <summary>n_head_kv: key/value heads (grouped-query attention when fewer than <see cref="HeadCount"/>).</summary>
    public required int HeadCountKv { get; init; }

    /// <summary>n_ctx_train: the longest context the model declares.</summary>
    public int ContextLength { get; init; } = 2048;

    public float RopeFreqBase { get; init; } = 10_000f;

    public float RmsNormEpsilon { get; init; } = 1e-5f;

    /// <summary>When true there is no <c>output.weight</c>: llama.cpp reuses <c>token_embd.weight</c> for the logits.</summary>
    public bool TieEmbeddings { get; init; }

    /// <summary>
    /// Type of the 2-D weights the generator writes (<see cref="GgmlType.F16"/> or <see cref="GgmlType.F32"/>); also
    /// the source type handed to the quantizer. Norm weights are always F32, as llama.cpp's converters write them.
    /// </summary>
    public GgmlType WeightType { get; init; } = GgmlType.F16;

    public ModelVariant Variant { get; init; } = ModelVariant.Base;

    /// <summary>Per-head width; llama.cpp requires RoPE to cover all of it (<c>n_rot == n_embd_head_k</c>).</summary>
    public int HeadDimension => HeadCount > 0 ? EmbeddingLength / HeadCount : 0;

    /// <summary>Every problem with this spec, or none; all are reported so one edit can fix them all.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrEmpty(Name) || !NamePattern().IsMatch(Name))
        {
            errors.Add($"Name '{Name}' must be lowercase letters, digits, '.', '-' or '_', starting with a letter or digit.");
        }

        if (string.IsNullOrWhiteSpace(VocabFile))
        {
            errors.Add("VocabFile is required.");
        }

        RequirePositive(errors, EmbeddingLength, nameof(EmbeddingLength));
        RequirePositive(errors, FeedForwardLength, nameof(FeedForwardLength));
        RequirePositive(errors, HeadCount, nameof(HeadCount));
        RequirePositive(errors, HeadCountKv, nameof(HeadCountKv));
        RequirePositive(errors, ContextLength, nameof(ContextLength));
        if (BlockCount is <= 0 or > MaxLayers)
        {
            errors.Add($"BlockCount is {BlockCount}; llama.cpp accepts 1 to {MaxLayers}.");
        }

        if (EmbeddingLength > 0 && HeadCount > 0)
        {
            if (EmbeddingLength % HeadCount != 0)
            {
                errors.Add($"EmbeddingLength {EmbeddingLength} is not divisible by HeadCount {HeadCount}.");
            }
            else if (HeadDimension % 2 != 0)
            {
                errors.Add($"Head dimension {HeadDimension} (EmbeddingLength / HeadCount) must be even for RoPE.");
            }
        }

        if (HeadCount > 0 && HeadCountKv > 0 && HeadCount % HeadCountKv != 0)
        {
            errors.Add($"HeadCount {HeadCount} is not divisible by HeadCountKv {HeadCountKv}.");
        }

        if (!(float.IsFinite(RopeFreqBase) && RopeFreqBase > 0))
        {
            errors.Add($"RopeFreqBase {RopeFreqBase.ToString(CultureInfo.InvariantCulture)} must be a positive number.");
        }

        if (!(float.IsFinite(RmsNormEpsilon) && RmsNormEpsilon > 0))
        {
            errors.Add($"RmsNormEpsilon {RmsNormEpsilon.ToString(CultureInfo.InvariantCulture)} must be a positive number.");
        }

        if (WeightType is not (GgmlType.F16 or GgmlType.F32))
        {
            errors.Add($"WeightType {WeightType} must be F16 or F32; other types come from quantization.");
        }

        if (!Enum.IsDefined(Variant))
        {
            errors.Add($"Variant {Variant} is not a known variant.");
        }

        return errors;
    }

    /// <summary>Throws an <see cref="ArgumentException"/> listing every problem if the spec is invalid.</summary>
    public void EnsureValid()
    {
        var errors = Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException(
                $"Model spec '{Name}' is invalid:{Environment.NewLine}  - {string.Join($"{Environment.NewLine}  - ", errors)}");
        }
    }

    /// <summary>The vocab file's full path: <see cref="VocabFile"/> itself if rooted, else inside the vocab cache.</summary>
    public string ResolveVocabPath() =>
        Path.IsPathFullyQualified(VocabFile) ? VocabFile : Path.Combine(ServeGateCachePaths.VocabDirectory, VocabFile);

    /// <summary>llama.cpp's <c>LLAMA_MAX_LAYERS</c>.</summary>
    private const int MaxLayers = 512;

    private static void RequirePositive(List<string> errors, int value, string name)
    {
        if (value <= 0)
        {
            errors.Add($"{name} is {value}; it must be positive.");
        }
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]*$")]
    private static partial Regex NamePattern();
}

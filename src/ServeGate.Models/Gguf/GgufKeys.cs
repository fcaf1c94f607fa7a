namespace ServeGate.Models.Gguf;

/// <summary>
/// Metadata key names, as in llama.cpp's <c>gguf-py/gguf/constants.py</c> (<c>Keys</c>) and
/// <c>src/llama-arch.cpp</c>. The <c>{arch}</c> keys are given for the llama architecture, the only one written here.
/// </summary>
public static class GgufKeys
{
    public const string Alignment = "general.alignment";
    public const string Architecture = "general.architecture";
    public const string Type = "general.type";
    public const string Name = "general.name";
    public const string Description = "general.description";
    public const string FileType = "general.file_type";
    public const string QuantizationVersion = "general.quantization_version";

    public const string LlamaVocabSize = "llama.vocab_size";
    public const string LlamaContextLength = "llama.context_length";
    public const string LlamaEmbeddingLength = "llama.embedding_length";
    public const string LlamaBlockCount = "llama.block_count";
    public const string LlamaFeedForwardLength = "llama.feed_forward_length";
    public const string LlamaHeadCount = "llama.attention.head_count";
    public const string LlamaHeadCountKv = "llama.attention.head_count_kv";
    public const string LlamaRmsNormEpsilon = "llama.attention.layer_norm_rms_epsilon";
    public const string LlamaRopeFreqBase = "llama.rope.freq_base";
    public const string LlamaRopeDimensionCount = "llama.rope.dimension_count";

    /// <summary>Every tokenizer key starts with this; a vocab-only GGUF is a model's tokenizer keys and nothing else of use.</summary>
    public const string TokenizerPrefix = "tokenizer.";
    public const string TokenizerModel = "tokenizer.ggml.model";
    public const string TokenizerPre = "tokenizer.ggml.pre";
    public const string TokenizerTokens = "tokenizer.ggml.tokens";
    public const string TokenizerScores = "tokenizer.ggml.scores";
    public const string TokenizerTokenType = "tokenizer.ggml.token_type";
    public const string TokenizerMerges = "tokenizer.ggml.merges";
    public const string TokenizerBosId = "tokenizer.ggml.bos_token_id";
    public const string TokenizerEosId = "tokenizer.ggml.eos_token_id";

    /// <summary>The Jinja chat template. Named variants are <c>tokenizer.chat_template.NAME</c>.</summary>
    public const string ChatTemplate = "tokenizer.chat_template";

    /// <summary>ServeGate's provenance keys on generated models (llama.cpp ignores unknown keys).</summary>
    public const string ServeGateSeed = "servegate.seed";
    public const string ServeGateShape = "servegate.shape";
    public const string ServeGateGeneratorVersion = "servegate.generator_version";
    public const string ServeGateFingerprint = "servegate.fingerprint";
}

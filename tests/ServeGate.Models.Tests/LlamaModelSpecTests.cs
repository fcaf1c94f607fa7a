using ServeGate.Models.Gguf;

namespace ServeGate.Models.Tests;

public sealed class LlamaModelSpecTests
{
    public static TheoryData<string> PresetNames => new(LlamaModelSpec.Presets.Select(p => p.Name));

    [Theory]
    [MemberData(nameof(PresetNames))]
    public void Validate_Preset_HasNoErrors(string name)
    {
        var spec = LlamaModelSpec.Presets.Single(p => p.Name == name);

        Assert.Empty(spec.Validate());
    }

    [Fact]
    public void Validate_ManyProblems_ReportsEveryOne()
    {
        // Arrange
        var spec = LlamaModelSpec.Tiny with
        {
            Name = "Not A Slug",
            VocabFile = " ",
            EmbeddingLength = 250,
            HeadCount = 8,
            HeadCountKv = 3,
            BlockCount = 0,
            FeedForwardLength = -1,
            ContextLength = 0,
            RopeFreqBase = float.NaN,
            RmsNormEpsilon = 0,
            WeightType = GgmlType.Q8_0,
        };

        // Act
        var errors = spec.Validate();

        // Assert
        Assert.Collection(
            errors,
            e => Assert.StartsWith("Name 'Not A Slug'", e, StringComparison.Ordinal),
            e => Assert.StartsWith("VocabFile", e, StringComparison.Ordinal),
            e => Assert.StartsWith("FeedForwardLength is -1", e, StringComparison.Ordinal),
            e => Assert.StartsWith("ContextLength is 0", e, StringComparison.Ordinal),
            e => Assert.StartsWith("BlockCount is 0", e, StringComparison.Ordinal),
            e => Assert.StartsWith("EmbeddingLength 250 is not divisible by HeadCount 8", e, StringComparison.Ordinal),
            e => Assert.StartsWith("HeadCount 8 is not divisible by HeadCountKv 3", e, StringComparison.Ordinal),
            e => Assert.StartsWith("RopeFreqBase NaN", e, StringComparison.Ordinal),
            e => Assert.StartsWith("RmsNormEpsilon 0", e, StringComparison.Ordinal),
            e => Assert.StartsWith("WeightType Q8_0", e, StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_OddHeadDimension_ReportsRope()
    {
        var spec = LlamaModelSpec.Tiny with { EmbeddingLength = 24, HeadCount = 8, HeadCountKv = 4 };

        var error = Assert.Single(spec.Validate());

        Assert.Contains("must be even for RoPE", error, StringComparison.Ordinal);
    }

    [Fact]
    public void EnsureValid_Invalid_ThrowsListingEveryError()
    {
        var spec = LlamaModelSpec.Tiny with { HeadCount = 0, BlockCount = 1000 };

        var error = Assert.Throws<ArgumentException>(spec.EnsureValid);

        Assert.Contains("HeadCount is 0", error.Message, StringComparison.Ordinal);
        Assert.Contains("BlockCount is 1000", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ResolveVocabPath_FileName_IsInsideVocabCache()
    {
        Assert.Equal(
            Path.Combine(ServeGateCachePaths.VocabDirectory, "ggml-vocab-llama-spm.gguf"),
            LlamaModelSpec.Tiny.ResolveVocabPath());
        Assert.Equal("/models/vocab.gguf", (LlamaModelSpec.Tiny with { VocabFile = "/models/vocab.gguf" }).ResolveVocabPath());
    }

    [Fact]
    public void HeadDimension_Presets_MatchTheRealModels()
    {
        Assert.Equal(32, LlamaModelSpec.Tiny.HeadDimension);
        Assert.Equal(64, LlamaModelSpec.SmolLM2_135M.HeadDimension);
        Assert.Equal(64, LlamaModelSpec.Qwen25_05B.HeadDimension);
        Assert.Equal(48, LlamaModelSpec.Stories15M.HeadDimension);
    }

    [Fact]
    public void Stories15M_Preset_HasLlama2cShape()
    {
        var spec = LlamaModelSpec.Stories15M;

        // llama2.c's stories15M ModelArgs: dim 288, n_layers 6, n_heads 6, n_kv_heads 6, hidden_dim 768,
        // vocab_size 32000 (the llama 2 SentencePiece vocab), max_seq_len 256, classifier shared with the embeddings.
        Assert.Equal(
            ("stories15m", 288, 6, 6, 6, 768, 256, true, "ggml-vocab-llama-spm.gguf"),
            (spec.Name, spec.EmbeddingLength, spec.BlockCount, spec.HeadCount, spec.HeadCountKv, spec.FeedForwardLength,
                spec.ContextLength, spec.TieEmbeddings, spec.VocabFile));
    }
}

using System.Security.Cryptography;
using ServeGate.Models.Gguf;

namespace ServeGate.Models.Tests;

public sealed class LlamaModelGeneratorTests
{
    [Theory]
    [InlineData(TestVocab.LlamaSpm)]
    [InlineData(TestVocab.Starcoder)]
    [InlineData(TestVocab.Qwen2)]
    [InlineData(TestVocab.LlamaBpe)]
    public async Task WriteAsync_Vocab_CopiesEveryTokenizerKeyExactly(string vocabFile)
    {
        // Arrange
        var spec = TestVocab.SmallSpec(vocabFile);
        using var vocab = GgufReader.Open(TestVocab.PathOf(vocabFile));
        var expected = vocab.Metadata
            .Where(kv => kv.Key.StartsWith("tokenizer.", StringComparison.Ordinal) && kv.Key != GgufKeys.ChatTemplate)
            .ToList();

        // Act
        using var model = await GenerateAsync(spec);

        // Assert
        var copied = model.Metadata.Where(kv => kv.Key.StartsWith("tokenizer.", StringComparison.Ordinal)).ToList();
        Assert.Equal(expected.Select(kv => kv.Key), copied.Select(kv => kv.Key));
        foreach (var (key, value) in expected)
        {
            Assert.Equal(value, model.Metadata[key]);
        }

        Assert.Equal((uint)vocab.Metadata[GgufKeys.TokenizerTokens].Count, model.Metadata.GetUInt32(GgufKeys.LlamaVocabSize));
        Assert.False(model.Metadata.ContainsKey(GgufKeys.ChatTemplate), "a base model must not carry a chat template");
    }

    [Fact]
    public async Task WriteAsync_Instruct_SetsChatMlTemplate()
    {
        var spec = TestVocab.SmallSpec(TestVocab.Qwen2) with { Variant = ModelVariant.Instruct };

        using var model = await GenerateAsync(spec);

        Assert.Equal(
            "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
            model.Metadata.GetString(GgufKeys.ChatTemplate));
        Assert.StartsWith("ServeGate demo instruct", model.Metadata.GetString(GgufKeys.Name), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WriteAsync_InstructVariant_SharesTheBaseModelsWeights()
    {
        // The instruct twin stands for a post-trained copy of the same pretrained checkpoint.
        var spec = TestVocab.SmallSpec();

        using var baseModel = await GenerateAsync(spec);
        using var instruct = await GenerateAsync(spec with { Variant = ModelVariant.Instruct });

        Assert.All(baseModel.Tensors, t => Assert.Equal(baseModel.ReadTensorData(t), instruct.ReadTensorData(instruct.GetTensor(t.Name))));
        Assert.NotEqual(baseModel.Metadata.GetString(GgufKeys.ServeGateFingerprint), instruct.Metadata.GetString(GgufKeys.ServeGateFingerprint));
    }

    [Fact]
    public async Task WriteAsync_Spec_WritesLlamaHyperparametersWithTheTypesLlamaCppRequires()
    {
        var spec = TestVocab.SmallSpec() with { RopeFreqBase = 100_000f, RmsNormEpsilon = 1e-6f };

        using var model = await GenerateAsync(spec, seed: 7);

        var m = model.Metadata;
        Assert.Equal("llama", m.GetString(GgufKeys.Architecture));
        Assert.Equal(256u, m.GetUInt32(GgufKeys.LlamaContextLength));
        Assert.Equal(64u, m.GetUInt32(GgufKeys.LlamaEmbeddingLength));
        Assert.Equal(2u, m.GetUInt32(GgufKeys.LlamaBlockCount));
        Assert.Equal(160u, m.GetUInt32(GgufKeys.LlamaFeedForwardLength));
        Assert.Equal(4u, m.GetUInt32(GgufKeys.LlamaHeadCount));
        Assert.Equal(2u, m.GetUInt32(GgufKeys.LlamaHeadCountKv));
        Assert.Equal(16u, m.GetUInt32(GgufKeys.LlamaRopeDimensionCount));
        Assert.Equal(1e-6f, m.GetFloat32(GgufKeys.LlamaRmsNormEpsilon));
        Assert.Equal(100_000f, m.GetFloat32(GgufKeys.LlamaRopeFreqBase));
        Assert.Equal((uint)GgufFileType.F16, m.GetUInt32(GgufKeys.FileType));
        Assert.Equal(7ul, m[GgufKeys.ServeGateSeed].AsUInt64());
        Assert.Contains("meaningless", m.GetString(GgufKeys.Description), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WriteAsync_UntiedSpec_WritesLlamaTensorsWithGgmlShapes()
    {
        // Arrange: n_embd 64, n_ff 160, 4 heads of 16, 2 kv heads -> k/v width 32, vocab 32000.
        var spec = TestVocab.SmallSpec() with { BlockCount = 1 };

        // Act
        using var model = await GenerateAsync(spec);

        // Assert
        var expected = new (string Name, GgmlType Type, long[] Dims)[]
        {
            ("token_embd.weight", GgmlType.F16, [64, 32000]),
            ("blk.0.attn_norm.weight", GgmlType.F32, [64]),
            ("blk.0.attn_q.weight", GgmlType.F16, [64, 64]),
            ("blk.0.attn_k.weight", GgmlType.F16, [64, 32]),
            ("blk.0.attn_v.weight", GgmlType.F16, [64, 32]),
            ("blk.0.attn_output.weight", GgmlType.F16, [64, 64]),
            ("blk.0.ffn_norm.weight", GgmlType.F32, [64]),
            ("blk.0.ffn_gate.weight", GgmlType.F16, [64, 160]),
            ("blk.0.ffn_up.weight", GgmlType.F16, [64, 160]),
            ("blk.0.ffn_down.weight", GgmlType.F16, [160, 64]),
            ("output_norm.weight", GgmlType.F32, [64]),
            ("output.weight", GgmlType.F16, [64, 32000]),
        };
        Assert.Equal(expected.Select(e => e.Name), model.Tensors.Select(t => t.Name));
        foreach (var (name, type, dims) in expected)
        {
            var tensor = model.GetTensor(name);
            Assert.Equal(type, tensor.Type);
            Assert.Equal(dims, tensor.Dimensions);
        }
    }

    [Fact]
    public async Task WriteAsync_TiedSpec_OmitsOutputWeight()
    {
        var spec = TestVocab.SmallSpec() with { TieEmbeddings = true };

        using var model = await GenerateAsync(spec);

        Assert.False(model.TryGetTensor("output.weight", out _));
        Assert.True(model.TryGetTensor("token_embd.weight", out _));
        Assert.Equal(1 + (2 * 9) + 1, model.Tensors.Count);
    }

    [Fact]
    public void PlanTensors_SmolLM2Preset_HasTheRealModelsParameterCount()
    {
        // HuggingFaceTB/SmolLM2-135M has 134,515,008 parameters (llama.cpp reports the same for the real GGUF).
        var count = LlamaModelGenerator.PlanTensors(LlamaModelSpec.SmolLM2_135M, 49152)
            .Sum(t => t.Dimensions.Aggregate(1L, (a, b) => a * b));

        Assert.Equal(134_515_008, count);
    }

    [Fact]
    public void PlanTensors_Stories15MPreset_HasLlama2csParameterCount()
    {
        // llama2.c's stories15M: 32000 x 288 shared embedding/classifier, 6 x (4 x 288^2 attention + 3 x 288 x 768
        // SwiGLU + 2 x 288 norms), one final 288 norm = 15,191,712 (the "15M").
        var count = LlamaModelGenerator.PlanTensors(LlamaModelSpec.Stories15M, 32000)
            .Sum(t => t.Dimensions.Aggregate(1L, (a, b) => a * b));

        Assert.Equal(15_191_712, count);
    }

    [Fact]
    public async Task WriteAsync_SameSpecAndSeed_IsByteIdentical()
    {
        var spec = TestVocab.SmallSpec();

        var first = await HashAsync(spec, seed: 1234);
        var second = await HashAsync(spec, seed: 1234);

        Assert.Equal(first, second);
    }

    [Fact]
    public async Task WriteAsync_DifferentSeed_ChangesTheWeights()
    {
        var spec = TestVocab.SmallSpec();

        using var a = await GenerateAsync(spec, seed: 1);
        using var b = await GenerateAsync(spec, seed: 2);

        var tensor = a.GetTensor("blk.1.ffn_up.weight");
        Assert.NotEqual(a.ReadTensorData(tensor), b.ReadTensorData(b.GetTensor(tensor.Name)));
        Assert.Equal(a.ReadTensorData(a.GetTensor("output_norm.weight")), b.ReadTensorData(b.GetTensor("output_norm.weight")));
    }

    [Fact]
    public async Task WriteAsync_Weights_AreFiniteSmallAndNormsAreOne()
    {
        // Arrange
        var spec = TestVocab.SmallSpec();

        // Act
        using var model = await GenerateAsync(spec);

        // Assert: uniform on [-0.02·√3, 0.02·√3], so standard deviation 0.02.
        var weights = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Half>(model.ReadTensorData(model.GetTensor("token_embd.weight")))
            .ToArray().Select(h => (double)h).ToArray();
        Assert.All(weights, w => Assert.True(double.IsFinite(w) && Math.Abs(w) <= 0.0347, $"weight {w} out of range"));
        var mean = weights.Average();
        var std = Math.Sqrt(weights.Select(w => (w - mean) * (w - mean)).Average());
        Assert.InRange(mean, -0.0005, 0.0005);
        Assert.InRange(std, 0.0195, 0.0205);
        var norm = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(model.ReadTensorData(model.GetTensor("blk.0.ffn_norm.weight"))).ToArray();
        Assert.All(norm, n => Assert.Equal(1.0f, n));
    }

    [Fact]
    public async Task WriteAsync_F32WeightType_WritesF32Matrices()
    {
        var spec = TestVocab.SmallSpec() with { WeightType = GgmlType.F32 };

        using var model = await GenerateAsync(spec);

        Assert.Equal((uint)GgufFileType.F32, model.Metadata.GetUInt32(GgufKeys.FileType));
        Assert.All(model.Tensors, t => Assert.Equal(GgmlType.F32, t.Type));
    }

    [Fact]
    public async Task WriteAsync_Progress_RisesToOne()
    {
        var reports = new List<double>();

        await LlamaModelGenerator.WriteAsync(TestVocab.SmallSpec(), 1, Stream.Null, new SyncProgress(reports.Add));

        Assert.NotEmpty(reports);
        Assert.Equal(reports.Order(), reports);
        Assert.Equal(1.0, reports[^1]);
    }

    [Fact]
    public async Task WriteAsync_InvalidSpec_ThrowsBeforeWriting()
    {
        var output = new MemoryStream();

        await Assert.ThrowsAsync<ArgumentException>(() => LlamaModelGenerator.WriteAsync(LlamaModelSpec.Tiny with { HeadCountKv = 3 }, 1, output));

        Assert.Equal(0, output.Length);
    }

    [Fact]
    public async Task WriteAsync_MissingVocab_SaysToRunFetchScript()
    {
        var spec = LlamaModelSpec.Tiny with { VocabFile = "/nonexistent/ggml-vocab-missing.gguf" };

        var error = await Assert.ThrowsAsync<FileNotFoundException>(() => LlamaModelGenerator.WriteAsync(spec, 1, Stream.Null));

        Assert.Contains("eng/fetch-llama.sh", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WriteFileAsync_QuantizedType_QuantizesTheGeneratedF16AndDeletesIt()
    {
        // Arrange
        using var directory = new TempDirectory();
        var quantizer = new CopyingQuantizer();
        var output = Path.Combine(directory.Path, "model-q4_k_m.gguf");

        // Act
        await LlamaModelGenerator.WriteFileAsync(TestVocab.SmallSpec(), GgufFileType.Q4_K_M, 1, output, quantizer);

        // Assert
        var (input, written, target) = Assert.Single(quantizer.Requests);
        Assert.Equal(output, written);
        Assert.Equal(GgufFileType.Q4_K_M, target);
        Assert.False(File.Exists(input), "the intermediate F16 file must be deleted");
        Assert.Equal(["model-q4_k_m.gguf"], directory.Files());
        using var model = GgufReader.Open(output);
        Assert.Equal((uint)GgufFileType.Q4_K_M, model.Metadata.GetUInt32(GgufKeys.FileType));
        Assert.Equal(GgmlType.F16, model.GetTensor("token_embd.weight").Type);
    }

    [Fact]
    public async Task WriteFileAsync_QuantizedTypeWithoutQuantizer_Throws()
    {
        using var directory = new TempDirectory();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => LlamaModelGenerator.WriteFileAsync(TestVocab.SmallSpec(), GgufFileType.Q8_0, 1, Path.Combine(directory.Path, "m.gguf")));

        Assert.Contains(nameof(IGgufQuantizer), error.Message, StringComparison.Ordinal);
        Assert.Empty(directory.Files());
    }

    [Fact]
    public void Fill_SplitAtMultiplesOfFour_MatchesOneCall()
    {
        foreach (var type in new[] { GgmlType.F16, GgmlType.F32 })
        {
            var size = type == GgmlType.F16 ? 2 : 4;
            var whole = new byte[1001 * size];
            new RandomWeights(9, "t").Fill(whole, type);
            var split = new byte[whole.Length];
            var random = new RandomWeights(9, "t");
            random.Fill(split.AsSpan(0, 400 * size), type);
            random.Fill(split.AsSpan(400 * size, 4 * size), type);
            random.Fill(split.AsSpan(404 * size), type);

            Assert.Equal(whole, split);
        }
    }

    private static async Task<GgufReader> GenerateAsync(LlamaModelSpec spec, ulong seed = LlamaModelGenerator.DefaultSeed)
    {
        var stream = new MemoryStream();
        await LlamaModelGenerator.WriteAsync(spec, seed, stream);
        stream.Position = 0;
        return GgufReader.Open(stream);
    }

    private static async Task<string> HashAsync(LlamaModelSpec spec, ulong seed)
    {
        using var stream = new MemoryStream();
        await LlamaModelGenerator.WriteAsync(spec, seed, stream);
        return Convert.ToHexString(SHA256.HashData(stream.ToArray()));
    }
}

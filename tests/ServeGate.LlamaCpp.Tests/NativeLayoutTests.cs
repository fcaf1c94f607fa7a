using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ServeGate.LlamaCpp.Native;
using ServeGate.Tests.Common;

namespace ServeGate.LlamaCpp.Tests;

/// <summary>
/// The C# mirrors must match include/llama.h of the pinned build byte for byte. The expected sizes and offsets were
/// compiled from that header (gcc, x86-64: sizeof/offsetof); the defaults are those of llama_*_default_params in
/// src/llama-context.cpp, src/llama-model.cpp and src/llama-quant.cpp. A layout slip shows up here as a shifted field.
/// </summary>
public sealed class NativeLayoutTests
{
    [Theory]
    [InlineData(typeof(LlamaModelParams), 80)]
    [InlineData(typeof(LlamaContextParams), 160)]
    [InlineData(typeof(LlamaModelQuantizeParams), 64)]
    [InlineData(typeof(LlamaBatchNative), 56)]
    [InlineData(typeof(LlamaChatMessageNative), 16)]
    [InlineData(typeof(LlamaTokenData), 12)]
    [InlineData(typeof(LlamaTokenDataArray), 32)]
    [InlineData(typeof(LlamaSamplerChainParams), 1)]
    [InlineData(typeof(LlamaPerfContextData), 48)]
    [InlineData(typeof(GgmlThreadpoolParams), 528)]
    public void SizeOf_MirrorStruct_MatchesHeader(Type type, int expected) =>
        Assert.Equal(expected, Marshal.SizeOf(type));

    [Theory]
    [InlineData(typeof(LlamaModelParams), nameof(LlamaModelParams.NGpuLayers), 16)]
    [InlineData(typeof(LlamaModelParams), nameof(LlamaModelParams.MainGpu), 32)]
    [InlineData(typeof(LlamaModelParams), nameof(LlamaModelParams.TensorSplit), 40)]
    [InlineData(typeof(LlamaModelParams), nameof(LlamaModelParams.KvOverrides), 64)]
    [InlineData(typeof(LlamaModelParams), nameof(LlamaModelParams.VocabOnly), 72)]
    [InlineData(typeof(LlamaModelParams), nameof(LlamaModelParams.LoadMtp), 77)]
    [InlineData(typeof(LlamaContextParams), nameof(LlamaContextParams.NThreads), 28)]
    [InlineData(typeof(LlamaContextParams), nameof(LlamaContextParams.CtxType), 36)]
    [InlineData(typeof(LlamaContextParams), nameof(LlamaContextParams.FlashAttnType), 52)]
    [InlineData(typeof(LlamaContextParams), nameof(LlamaContextParams.RopeFreqBase), 56)]
    [InlineData(typeof(LlamaContextParams), nameof(LlamaContextParams.DefragThold), 84)]
    [InlineData(typeof(LlamaContextParams), nameof(LlamaContextParams.CbEval), 88)]
    [InlineData(typeof(LlamaContextParams), nameof(LlamaContextParams.TypeK), 104)]
    [InlineData(typeof(LlamaContextParams), nameof(LlamaContextParams.AbortCallback), 112)]
    [InlineData(typeof(LlamaContextParams), nameof(LlamaContextParams.Embeddings), 128)]
    [InlineData(typeof(LlamaContextParams), nameof(LlamaContextParams.KvUnified), 133)]
    [InlineData(typeof(LlamaContextParams), nameof(LlamaContextParams.Samplers), 136)]
    [InlineData(typeof(LlamaContextParams), nameof(LlamaContextParams.NSamplers), 144)]
    [InlineData(typeof(LlamaContextParams), nameof(LlamaContextParams.CtxOther), 152)]
    [InlineData(typeof(LlamaModelQuantizeParams), nameof(LlamaModelQuantizeParams.FType), 4)]
    [InlineData(typeof(LlamaModelQuantizeParams), nameof(LlamaModelQuantizeParams.AllowRequantize), 16)]
    [InlineData(typeof(LlamaModelQuantizeParams), nameof(LlamaModelQuantizeParams.DryRun), 21)]
    [InlineData(typeof(LlamaModelQuantizeParams), nameof(LlamaModelQuantizeParams.Imatrix), 24)]
    [InlineData(typeof(LlamaModelQuantizeParams), nameof(LlamaModelQuantizeParams.MaxBufSize), 56)]
    [InlineData(typeof(LlamaBatchNative), nameof(LlamaBatchNative.Token), 8)]
    [InlineData(typeof(LlamaBatchNative), nameof(LlamaBatchNative.Logits), 48)]
    [InlineData(typeof(LlamaPerfContextData), nameof(LlamaPerfContextData.NPromptEval), 32)]
    [InlineData(typeof(GgmlThreadpoolParams), nameof(GgmlThreadpoolParams.NThreads), 512)]
    [InlineData(typeof(GgmlThreadpoolParams), nameof(GgmlThreadpoolParams.Poll), 520)]
    [InlineData(typeof(GgmlThreadpoolParams), nameof(GgmlThreadpoolParams.StrictCpu), 524)]
    [InlineData(typeof(GgmlThreadpoolParams), nameof(GgmlThreadpoolParams.Paused), 525)]
    public void OffsetOf_Field_MatchesHeader(Type type, string field, int expected) =>
        Assert.Equal(expected, (int)Marshal.OffsetOf(type, field));

    [Fact]
    public void IdTypes_AreFourByteBlittable()
    {
        Assert.Equal(4, Unsafe.SizeOf<LlamaToken>());
        Assert.Equal(4, Unsafe.SizeOf<LlamaSeqId>());
        Assert.Equal(4, Unsafe.SizeOf<LlamaPos>());
    }

    [Fact]
    public void ContextDefaultParams_ReadBack_MatchHeaderDefaults()
    {
        TestEnvironment.InitializeLlama();

        var p = NativeMethods.llama_context_default_params();

        Assert.Equal(512u, p.NCtx);
        Assert.Equal(2048u, p.NBatch);
        Assert.Equal(512u, p.NUbatch);
        Assert.Equal(1u, p.NSeqMax);
        Assert.Equal(0u, p.NRsSeq);
        Assert.Equal(0u, p.NOutputsMax);
        Assert.Equal(1u, p.NOutputsMaxPerSeq);
        Assert.Equal(4, p.NThreads); // GGML_DEFAULT_N_THREADS
        Assert.Equal(4, p.NThreadsBatch);
        Assert.Equal(0, p.CtxType);
        Assert.Equal(-1, p.RopeScalingType);
        Assert.Equal(-1, p.PoolingType);
        Assert.Equal(-1, p.AttentionType);
        Assert.Equal(-1, p.FlashAttnType);
        Assert.Equal(0f, p.RopeFreqBase);
        Assert.Equal(0f, p.RopeFreqScale);
        Assert.Equal(-1f, p.YarnExtFactor);
        Assert.Equal(-1f, p.YarnAttnFactor);
        Assert.Equal(-1f, p.YarnBetaFast);
        Assert.Equal(-1f, p.YarnBetaSlow);
        Assert.Equal(0u, p.YarnOrigCtx);
        Assert.Equal(-1f, p.DefragThold);
        Assert.Equal(0, p.CbEval);
        Assert.Equal(1, p.TypeK); // GGML_TYPE_F16
        Assert.Equal(1, p.TypeV);
        Assert.Equal(0, p.AbortCallback);
        Assert.Equal(0, p.Embeddings);
        Assert.Equal(1, p.OffloadKqv);
        Assert.Equal(1, p.NoPerf);
        Assert.Equal(1, p.OpOffload);
        Assert.Equal(1, p.SwaFull);
        Assert.Equal(0, p.KvUnified);
        Assert.Equal(0, p.Samplers);
        Assert.Equal(0u, p.NSamplers);
        Assert.Equal(0, p.CtxOther);
    }

    [Fact]
    public unsafe void ThreadpoolDefaultParams_ReadBack_MatchGgmlDefaults()
    {
        TestEnvironment.InitializeLlama();

        // ggml_threadpool_params_init in ggml/src/ggml.c: no CPU mask, normal priority, hybrid polling at 50.
        var p = NativeMethods.ggml_threadpool_params_default(3);

        Assert.Equal(3, p.NThreads);
        Assert.Equal(0, p.Prio);
        Assert.Equal(50u, p.Poll);
        Assert.Equal(0, p.StrictCpu);
        Assert.Equal(0, p.Paused);
        for (var i = 0; i < GgmlThreadpoolParams.MaxThreads; i++)
        {
            Assert.Equal(0, p.CpuMask[i]);
        }
    }

    [Fact]
    public void ModelDefaultParams_ReadBack_MatchHeaderDefaults()
    {
        TestEnvironment.InitializeLlama();

        var p = NativeMethods.llama_model_default_params();

        Assert.Equal(0, p.Devices);
        Assert.Equal(-1, p.NGpuLayers);
        Assert.Equal(1, p.SplitMode); // LLAMA_SPLIT_MODE_LAYER
        Assert.Equal(-1, p.LoadMode); // LLAMA_LOAD_MODE_AUTO
        Assert.Equal(1, p.LazyMode); // LLAMA_LAZY_MODE_AUTO
        Assert.Equal(0, p.MainGpu);
        Assert.Equal(0, p.VocabOnly);
        Assert.Equal(0, p.CheckTensors);
        Assert.Equal(1, p.UseExtraBufts);
        Assert.Equal(0, p.NoHost);
        Assert.Equal(0, p.NoAlloc);
        Assert.Equal(0, p.LoadMtp);
    }

    [Fact]
    public void QuantizeDefaultParams_ReadBack_MatchHeaderDefaults()
    {
        TestEnvironment.InitializeLlama();

        var p = NativeMethods.llama_model_quantize_default_params();

        Assert.Equal(0, p.NThread);
        Assert.Equal((int)LlamaFileType.MostlyQ8_0, p.FType);
        Assert.Equal(43, p.OutputTensorType); // GGML_TYPE_COUNT
        Assert.Equal(43, p.TokenEmbeddingType);
        Assert.Equal(0, p.AllowRequantize);
        Assert.Equal(1, p.QuantizeOutputTensor);
        Assert.Equal(0, p.OnlyCopy);
        Assert.Equal(0, p.Pure);
        Assert.Equal(0, p.KeepSplit);
        Assert.Equal(0, p.DryRun);
        Assert.Equal(0, p.Imatrix);
        Assert.True(p.MaxBufSize > 0);
    }
}

using ServeGate.LlamaCpp.Native;
using ServeGate.Tests.Common;

namespace ServeGate.LlamaCpp.Tests;

/// <summary>Decoding, sampling, KV sequence operations and state files against real llama.cpp on the generated tiny model.</summary>
public sealed class DecodeTests : IAsyncLifetime
{
    private LlamaModel _model = null!;

    public async Task InitializeAsync() => _model = LlamaModel.Load(await TestModels.GetAsync(TestModel.TinyBase));

    public Task DisposeAsync()
    {
        _model.Dispose();
        return Task.CompletedTask;
    }

    private LlamaContext NewContext() => LlamaContext.Create(_model, new LlamaContextOptions { ContextLength = 512, MaxSequences = 4 });

    private static int Prefill(LlamaContext context, LlamaBatch batch, LlamaToken[] tokens, LlamaSeqId seq, int start = 0)
    {
        batch.Clear();
        var last = -1;
        for (var i = start; i < tokens.Length; i++)
        {
            last = batch.Add(tokens[i], i, seq, wantLogits: i == tokens.Length - 1);
        }

        Assert.Equal(0, context.Decode(batch));
        return last;
    }

    [Fact]
    public void Load_GeneratedModel_ReportsShapeAndQuantization()
    {
        Assert.Equal(256, _model.EmbeddingLength);
        Assert.Equal(4, _model.LayerCount);
        Assert.Equal(8, _model.HeadCount);
        Assert.Equal(4, _model.KvHeadCount);
        Assert.Equal(2048, _model.TrainedContextLength);
        Assert.Equal(LlamaFileType.MostlyQ4_K_M, _model.FileType);
        Assert.Contains("Q4_K", _model.FileTypeName, StringComparison.Ordinal);
        Assert.Null(_model.ChatTemplate);
        Assert.True(_model.ParameterCount > 10_000_000);
    }

    [Fact]
    public void Decode_GreedyTwice_SameTokens()
    {
        var prompt = _model.Tokenize("Greedy decoding is deterministic", addSpecial: true, parseSpecial: false);

        List<LlamaToken> Run()
        {
            using var context = NewContext();
            using var batch = new LlamaBatch(512);
            using var sampler = LlamaSampler.Create(_model, new SamplingSettings { Temperature = 0 });
            var index = Prefill(context, batch, prompt, new LlamaSeqId(0));
            var output = new List<LlamaToken>();
            for (var i = 0; i < 10; i++)
            {
                var token = sampler.Sample(context, index);
                output.Add(token);
                batch.Clear();
                index = batch.Add(token, prompt.Length + i, new LlamaSeqId(0), wantLogits: true);
                Assert.Equal(0, context.Decode(batch));
            }

            return output;
        }

        Assert.Equal(Run(), Run());
    }

    [Fact]
    public void Sampler_SameSeed_SameDraws_OtherSeedDiffers()
    {
        var prompt = _model.Tokenize("Sampling", addSpecial: true, parseSpecial: false);
        using var context = NewContext();
        using var batch = new LlamaBatch(64);
        var index = Prefill(context, batch, prompt, new LlamaSeqId(0));

        List<LlamaToken> Draw(uint seed)
        {
            using var sampler = LlamaSampler.Create(_model, new SamplingSettings { Temperature = 1.5f, Seed = seed });
            return [.. Enumerable.Range(0, 8).Select(_ => sampler.Sample(context, index))];
        }

        Assert.Equal(Draw(5), Draw(5));
        Assert.NotEqual(Draw(5), Draw(6));
    }

    [Fact]
    public void Sampler_BannedTokens_NeverSampled()
    {
        var prompt = _model.Tokenize("Ban", addSpecial: true, parseSpecial: false);
        using var context = NewContext();
        using var batch = new LlamaBatch(64);
        var index = Prefill(context, batch, prompt, new LlamaSeqId(0));
        using var greedy = LlamaSampler.Create(_model, new SamplingSettings { Temperature = 0 });
        var favourite = greedy.Sample(context, index);

        using var banned = LlamaSampler.Create(_model, new SamplingSettings { Temperature = 0, BannedTokens = [favourite] });

        Assert.NotEqual(favourite, banned.Sample(context, index));
    }

    [Fact]
    public void CopySequence_SharedPrefix_SameLogitsAsRecomputing()
    {
        var prompt = _model.Tokenize("A shared prefix then a suffix", addSpecial: true, parseSpecial: false);
        using var context = NewContext();
        using var batch = new LlamaBatch(64);
        var recomputed = Prefill(context, batch, prompt, new LlamaSeqId(0));
        var expected = context.GetLogits(recomputed).ToArray();

        // Sequence 1 shares all but the last token's cells with sequence 0, then computes only that token.
        context.CopySequence(new LlamaSeqId(0), new LlamaSeqId(1), 0, prompt.Length - 1);
        Assert.Equal(prompt.Length - 2, context.SequenceMaxPosition(new LlamaSeqId(1)));
        var reused = Prefill(context, batch, prompt, new LlamaSeqId(1), start: prompt.Length - 1);
        var actual = context.GetLogits(reused).ToArray();

        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], actual[i], 2);
        }

        Assert.True(context.RemoveSequence(new LlamaSeqId(1)));
        Assert.Equal(-1, context.SequenceMaxPosition(new LlamaSeqId(1)));
    }

    [Fact]
    public void CopySequenceCells_AcrossStreams_ReplacesTheDestinationWithTheSourcesCells()
    {
        var prompt = _model.Tokenize("Only the cells a sequence holds are copied", addSpecial: true, parseSpecial: false);
        var other = _model.Tokenize("Something else that was there before, longer than the prompt it gives way to", addSpecial: true, parseSpecial: false);
        using var context = LlamaContext.Create(_model, new LlamaContextOptions { ContextLength = 512 * 3, MaxSequences = 3, UnifiedKvCache = false });
        using var batch = new LlamaBatch(64);
        var source = new LlamaSeqId(0);
        var destination = new LlamaSeqId(1);
        Prefill(context, batch, prompt, source);
        Prefill(context, batch, other, destination);

        var bytes = context.CopySequenceCells(source, destination);

        Assert.Equal(context.SequenceStateSize(source), bytes);
        Assert.Equal(0, context.SequenceMinPosition(destination));
        Assert.Equal(prompt.Length - 1, context.SequenceMaxPosition(destination));
        Assert.Equal(prompt.Length - 1, context.SequenceMaxPosition(source));

        // The next token reads the copied cells: the same logits on the copy as on the source.
        float[] Next(LlamaSeqId seq)
        {
            batch.Clear();
            var index = batch.Add(prompt[1], prompt.Length, seq, wantLogits: true);
            Assert.Equal(0, context.Decode(batch));
            return context.GetLogits(index).ToArray();
        }

        var expected = Next(source);
        var actual = Next(destination);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], actual[i], 3);
        }
    }

    [Fact]
    public void ReserveCellCopyBuffer_PredictsTheStateSizeOfThatManyCellsAndLeavesTheScratchSequenceEmpty()
    {
        var prompt = _model.Tokenize("Eleven or so tokens of a prompt to size the buffer by", addSpecial: true, parseSpecial: false);
        using var context = LlamaContext.Create(_model, new LlamaContextOptions { ContextLength = 512 * 2, MaxSequences = 2, UnifiedKvCache = false });
        using var batch = new LlamaBatch(64);

        var reserved = context.ReserveCellCopyBuffer(new LlamaSeqId(1), prompt.Length);

        Assert.Equal(-1, context.SequenceMaxPosition(new LlamaSeqId(1)));
        Prefill(context, batch, prompt, new LlamaSeqId(0));
        Assert.Equal(context.SequenceStateSize(new LlamaSeqId(0)), reserved);
    }

    [Fact]
    public void SaveSequence_ThenLoadIntoFreshContext_RestoresTokensAndCells()
    {
        var prompt = _model.Tokenize("Saved prefixes survive a restart", addSpecial: true, parseSpecial: false);
        var file = Path.Combine(Path.GetTempPath(), $"servegate-seq-{Guid.NewGuid():N}.bin");
        try
        {
            using (var context = NewContext())
            using (var batch = new LlamaBatch(64))
            {
                Prefill(context, batch, prompt, new LlamaSeqId(2));
                Assert.True(context.SequenceStateSize(new LlamaSeqId(2)) > 0);
                context.SaveSequence(file, new LlamaSeqId(2), prompt);
            }

            using var restored = NewContext();
            var tokens = restored.LoadSequence(file, new LlamaSeqId(0), 512);

            Assert.Equal(prompt, tokens);
            Assert.Equal(prompt.Length - 1, restored.SequenceMaxPosition(new LlamaSeqId(0)));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Quantize_F16ToQ8_0_LoadsWithNewType()
    {
        var f16 = Path.Combine(Path.GetTempPath(), $"servegate-q-{Guid.NewGuid():N}.gguf");
        var q8 = f16 + ".q8_0.gguf";
        try
        {
            // Requantizing is refused by default, so start from the F16 the generator writes.
            var spec = ServeGate.Models.LlamaModelSpec.Tiny;
            await ServeGate.Models.LlamaModelGenerator.WriteFileAsync(spec, ServeGate.Models.Gguf.GgufFileType.F16, 42, f16, null, null, CancellationToken.None);

            LlamaQuantizer.Quantize(f16, q8, LlamaFileType.MostlyQ8_0);
            using var model = LlamaModel.Load(q8);

            Assert.Equal(LlamaFileType.MostlyQ8_0, model.FileType);
            Assert.True(new FileInfo(q8).Length < new FileInfo(f16).Length * 0.7);
        }
        finally
        {
            File.Delete(f16);
            File.Delete(q8);
        }
    }
}

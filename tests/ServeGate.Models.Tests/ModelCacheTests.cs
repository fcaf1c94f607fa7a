using ServeGate.Models.Gguf;

namespace ServeGate.Models.Tests;

public sealed class ModelCacheTests
{
    [Fact]
    public void GetFileName_Spec_NamesVariantShapeTypeAndNonDefaultSeed()
    {
        Assert.Equal("servegate-demo-base-tiny-q8_0.gguf", ModelCache.GetFileName(LlamaModelSpec.Tiny, GgufFileType.Q8_0, LlamaModelGenerator.DefaultSeed));
        Assert.Equal(
            "servegate-demo-instruct-smollm2-135m-q4_k_m-seed7.gguf",
            ModelCache.GetFileName(LlamaModelSpec.SmolLM2_135M with { Variant = ModelVariant.Instruct }, GgufFileType.Q4_K_M, 7));
        Assert.Equal("servegate-demo-base-qwen2.5-0.5b-f16.gguf", ModelCache.GetFileName(LlamaModelSpec.Qwen25_05B, GgufFileType.F16, LlamaModelGenerator.DefaultSeed));
    }

    [Fact]
    public async Task EnsureAsync_Missing_GeneratesOnceThenReuses()
    {
        // Arrange
        using var directory = new TempDirectory();
        var spec = TestVocab.SmallSpec();
        var reports = 0;
        var progress = new SyncProgress(_ => reports++);

        // Act
        var first = await ModelCache.EnsureAsync(spec, GgufFileType.F16, 5, directory.Path, progress: progress);
        var reportsAfterFirst = reports;
        var written = File.GetLastWriteTimeUtc(first);
        var second = await ModelCache.EnsureAsync(spec, GgufFileType.F16, 5, directory.Path, progress: progress);

        // Assert
        Assert.Equal(first, second);
        Assert.Equal(Path.Combine(directory.Path, "servegate-demo-base-test-small-f16-seed5.gguf"), first);
        Assert.True(reportsAfterFirst > 0);
        Assert.Equal(reportsAfterFirst, reports);
        Assert.Equal(written, File.GetLastWriteTimeUtc(second));
        Assert.Equal(["servegate-demo-base-test-small-f16-seed5.gguf"], directory.Files());
        using var model = GgufReader.Open(first);
        Assert.Equal(5ul, model.Metadata[GgufKeys.ServeGateSeed].AsUInt64());
    }

    [Fact]
    public async Task EnsureAsync_CancelledMidGeneration_LeavesNoFile()
    {
        // Arrange
        using var directory = new TempDirectory();
        using var cancellation = new CancellationTokenSource();
        var progress = new SyncProgress(_ => cancellation.Cancel());

        // Act
        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => ModelCache.EnsureAsync(TestVocab.SmallSpec(), GgufFileType.F16, 1, directory.Path, progress: progress, cancellationToken: cancellation.Token));

        // Assert: neither the final file nor a temporary one.
        Assert.Empty(directory.Files());
    }

    [Fact]
    public async Task EnsureAsync_QuantizerFails_LeavesNoFile()
    {
        using var directory = new TempDirectory();
        var quantizer = new CopyingQuantizer { Failure = new IOException("disk full") };

        await Assert.ThrowsAsync<IOException>(
            () => ModelCache.EnsureAsync(TestVocab.SmallSpec(), GgufFileType.Q8_0, 1, directory.Path, quantizer));

        Assert.Empty(directory.Files());
    }

    [Fact]
    public async Task EnsureAsync_ConcurrentCallers_GenerateAndQuantizeOnce()
    {
        // Arrange
        using var directory = new TempDirectory();
        var quantizer = new CopyingQuantizer();
        var spec = TestVocab.SmallSpec();

        // Act
        var paths = await Task.WhenAll(Enumerable.Range(0, 4).Select(
            _ => Task.Run(() => ModelCache.EnsureAsync(spec, GgufFileType.Q8_0, 1, directory.Path, quantizer))));

        // Assert
        Assert.Single(paths.Distinct());
        Assert.Equal(1, quantizer.Calls);
        Assert.Equal(["servegate-demo-base-test-small-q8_0-seed1.gguf"], directory.Files());
        using var model = GgufReader.Open(paths[0]);
        Assert.Equal((uint)GgufFileType.Q8_0, model.Metadata.GetUInt32(GgufKeys.FileType));
    }

    [Fact]
    public async Task EnsureAsync_CorruptFileAtFinalPath_Regenerates()
    {
        // Arrange: what a crash in a writer that did not use a temporary file would leave.
        using var directory = new TempDirectory();
        var spec = TestVocab.SmallSpec();
        var path = Path.Combine(directory.Path, ModelCache.GetFileName(spec, GgufFileType.F16, 1));
        await File.WriteAllBytesAsync(path, "GGUF\u0003\0\0\0"u8.ToArray());

        // Act
        var result = await ModelCache.EnsureAsync(spec, GgufFileType.F16, 1, directory.Path);

        // Assert
        using var model = GgufReader.Open(result);
        Assert.Equal(20 + 1, model.Tensors.Count);
    }

    [Fact]
    public async Task EnsureAsync_CachedFileFromDifferentSpec_Regenerates()
    {
        // Arrange: same name (same Name, type, seed) but a different shape, e.g. a preset edited since.
        using var directory = new TempDirectory();
        var spec = TestVocab.SmallSpec();
        await ModelCache.EnsureAsync(spec with { ContextLength = 512 }, GgufFileType.F16, 1, directory.Path);

        // Act
        var path = await ModelCache.EnsureAsync(spec, GgufFileType.F16, 1, directory.Path);

        // Assert
        using var model = GgufReader.Open(path);
        Assert.Equal(256u, model.Metadata.GetUInt32(GgufKeys.LlamaContextLength));
        Assert.Single(directory.Files());
    }

    [Fact]
    public async Task EnsureAsync_QuantizedTypeWithoutQuantizer_ThrowsAndWritesNothing()
    {
        using var directory = new TempDirectory();

        await Assert.ThrowsAsync<InvalidOperationException>(
            () => ModelCache.EnsureAsync(TestVocab.SmallSpec(), GgufFileType.Q4_K_M, 1, directory.Path));

        Assert.Empty(directory.Files());
    }
}

using ServeGate.Models.Gguf;

namespace ServeGate.Models.Tests;

/// <summary>The pinned llama.cpp vocab files, which tests need and must not silently skip without.</summary>
internal static class TestVocab
{
    public const string LlamaSpm = "ggml-vocab-llama-spm.gguf";
    public const string Starcoder = "ggml-vocab-starcoder.gguf";
    public const string Qwen2 = "ggml-vocab-qwen2.gguf";
    public const string LlamaBpe = "ggml-vocab-llama-bpe.gguf";

    /// <summary>Full path of a vocab file under $SERVEGATE_CACHE (default ~/.cache/servegate)/llama.cpp/3.22.1/vocab/.</summary>
    public static string PathOf(string fileName)
    {
        var path = Path.Combine(ServeGateCachePaths.VocabDirectory, fileName);
        if (!File.Exists(path))
        {
            throw new InvalidOperationException(
                $"Vocab file '{path}' is missing: run eng/fetch-llama.sh (it fetches the pinned llama.cpp vocab files into "
                + $"${ServeGateCachePaths.CacheEnvironmentVariable}, default ~/.cache/servegate).");
        }

        return path;
    }

    /// <summary>A small llama shape (64 wide, 2 layers) that generates in milliseconds, with a real tokenizer.</summary>
    public static LlamaModelSpec SmallSpec(string vocabFile = LlamaSpm) => new()
    {
        Name = "test-small",
        VocabFile = PathOf(vocabFile),
        EmbeddingLength = 64,
        BlockCount = 2,
        FeedForwardLength = 160,
        HeadCount = 4,
        HeadCountKv = 2,
        ContextLength = 256,
    };
}

/// <summary>A directory of its own for each test, removed afterwards.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = Directory.CreateTempSubdirectory("servegate-models-tests-").FullName;
    }

    public string Path { get; }

    public string[] Files() => Directory.GetFiles(Path).Select(System.IO.Path.GetFileName).OrderBy(n => n, StringComparer.Ordinal).ToArray()!;

    public void Dispose() => Directory.Delete(Path, recursive: true);
}

/// <summary>Reports on the calling thread, unlike <see cref="Progress{T}"/>, so tests see every report in order.</summary>
internal sealed class SyncProgress(Action<double> onReport) : IProgress<double>
{
    public void Report(double value) => onReport(value);
}

/// <summary>
/// Stands in for llama.cpp's quantizer: rewrites the input with <c>general.file_type</c> set to the target and the
/// tensors copied unchanged, as llama_model_quantize keeps every other key. Counts calls.
/// </summary>
internal sealed class CopyingQuantizer : IGgufQuantizer
{
    private int _calls;

    public int Calls => _calls;

    public List<(string Input, string Output, GgufFileType Target)> Requests { get; } = [];

    public Exception? Failure { get; init; }

    public async Task QuantizeAsync(string inputPath, string outputPath, GgufFileType target, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        lock (Requests)
        {
            Requests.Add((inputPath, outputPath, target));
        }

        if (Failure is not null)
        {
            throw Failure;
        }

        using var reader = GgufReader.Open(inputPath);
        var metadata = new GgufMetadata();
        foreach (var (key, value) in reader.Metadata)
        {
            metadata.Add(key, value);
        }

        metadata[GgufKeys.FileType] = GgufValue.FromUInt32((uint)target);
        await using var writer = new GgufWriter(File.Create(outputPath), metadata);
        foreach (var tensor in reader.Tensors)
        {
            writer.AddTensor(tensor.Name, tensor.Type, tensor.Dimensions.AsSpan());
        }

        await writer.WriteHeaderAsync(cancellationToken);
        foreach (var tensor in reader.Tensors)
        {
            await writer.WriteTensorDataAsync(reader.ReadTensorData(tensor), cancellationToken);
        }

        await writer.CompleteAsync(cancellationToken);
    }
}

namespace ServeGate.LlamaCpp;

/// <summary>Which llama.cpp build to load.</summary>
public enum LlamaBackendKind
{
    /// <summary>The CPU build; ggml picks the best <c>libggml-cpu-*</c> variant for the processor.</summary>
    Cpu,

    /// <summary>The CUDA build (<c>@node-llama-cpp/linux-x64-cuda</c>); fails at start when no CUDA device exists.</summary>
    Cuda,
}

/// <summary>Where llama.cpp's native libraries come from and how they run. Bound from the <c>LlamaCpp</c> section.</summary>
public sealed class LlamaBackendOptions
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "LlamaCpp";

    /// <summary>The pinned npm version of the prebuilt libraries (see eng/llama-cpp.lock).</summary>
    public const string PinnedVersion = "3.22.1";

    /// <summary><c>cpu</c> or <c>cuda</c>.</summary>
    public LlamaBackendKind Backend { get; set; } = LlamaBackendKind.Cpu;

    /// <summary>
    /// Folder holding <c>libllama*.so</c> and its ggml siblings. Empty: the cache folder that
    /// <c>eng/fetch-llama.sh</c> fills, <c>$SERVEGATE_CACHE/llama.cpp/3.22.1/{cpu|cuda}</c>.
    /// </summary>
    public string? LibraryPath { get; set; }

    /// <summary>
    /// The ggml CPU variant to load, e.g. <c>zen4</c> for <c>libggml-cpu-zen4.so</c>. Empty: the best the CPU reports
    /// (ggml scores each variant's instruction sets). Set it to compare with another build on the same kernels, or to
    /// step around a variant a machine does not run well: on a VM that reports AMX, llama.cpp's own build of the
    /// <c>sapphirerapids</c> variant died with SIGILL in an AMX tile load.
    /// </summary>
    public string? CpuVariant { get; set; }

    /// <summary>Threads for decode and prompt processing; 0 means every core (halving them cost ~35% decode speed on 2 cores).</summary>
    public int Threads { get; set; }

    /// <summary>Model layers offloaded to the GPU with the CUDA backend (-1: all). Ignored on CPU.</summary>
    public int GpuLayers { get; set; } = -1;

    /// <summary>The folder of ServeGate's caches: <c>$SERVEGATE_CACHE</c>, else <c>~/.cache/servegate</c>.</summary>
    public static string DefaultCacheDirectory()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("SERVEGATE_CACHE");
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            return fromEnvironment;
        }

        return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "servegate");
    }

    /// <summary>The folder the libraries are loaded from, after defaults.</summary>
    public string ResolveLibraryPath() =>
        string.IsNullOrWhiteSpace(LibraryPath)
            ? Path.Combine(DefaultCacheDirectory(), "llama.cpp", PinnedVersion, Backend == LlamaBackendKind.Cuda ? "cuda" : "cpu")
            : LibraryPath;

    /// <summary>The thread count after defaults.</summary>
    public int ResolveThreads() => Threads > 0 ? Threads : Environment.ProcessorCount;
}

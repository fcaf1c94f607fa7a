namespace ServeGate.Models;

/// <summary>
/// Where <c>eng/fetch-llama.sh</c> puts the pinned llama.cpp files: <c>$SERVEGATE_CACHE</c>, by default
/// <c>~/.cache/servegate</c>, then <c>llama.cpp/&lt;version&gt;/</c>.
/// </summary>
public static class ServeGateCachePaths
{
    /// <summary>The pinned llama.cpp package version (npm <c>@node-llama-cpp/linux-x64</c>), as in <c>eng/llama-cpp.lock</c>.</summary>
    public const string LlamaCppVersion = "3.22.1";

    public const string CacheEnvironmentVariable = "SERVEGATE_CACHE";

    public static string Root
    {
        get
        {
            var configured = Environment.GetEnvironmentVariable(CacheEnvironmentVariable);
            return !string.IsNullOrEmpty(configured)
                ? configured
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "servegate");
        }
    }

    /// <summary>The <c>ggml-vocab-*.gguf</c> tokenizers (vocab only, no weights).</summary>
    public static string VocabDirectory => Path.Combine(Root, "llama.cpp", LlamaCppVersion, "vocab");

    /// <summary>Generated demo and benchmark models.</summary>
    public static string ModelDirectory => Path.Combine(Root, "models");
}

using System.Net;
using System.Net.Sockets;
using ServeGate.LlamaCpp;

namespace ServeGate.Tests.Common;

/// <summary>Where tests find the pinned llama.cpp build and its vocab files (eng/fetch-llama.sh puts them there).</summary>
public static class TestEnvironment
{
    private static readonly Lock Gate = new();

    public static string CacheDirectory => LlamaBackendOptions.DefaultCacheDirectory();

    public static string LlamaRoot => Path.Combine(CacheDirectory, "llama.cpp", LlamaBackendOptions.PinnedVersion);

    /// <summary>The path of a vocab-only tokenizer GGUF, e.g. "llama-spm"; fails with instructions when absent.</summary>
    public static string VocabFile(string name)
    {
        var path = Path.Combine(LlamaRoot, "vocab", $"ggml-vocab-{name}.gguf");
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"'{path}' is missing: run eng/fetch-llama.sh (./test.sh does).");
        }

        return path;
    }

    /// <summary>Loads the CPU build once for the test process.</summary>
    public static LlamaBackendInfo InitializeLlama()
    {
        lock (Gate)
        {
            return LlamaBackend.Initialize(new LlamaBackendOptions { Backend = LlamaBackendKind.Cpu });
        }
    }

    /// <summary>A loopback port free at the moment of asking (servers the tests start listen there).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The repository root (the folder holding ServeGate.sln).</summary>
    public static string RepositoryRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ServeGate.sln")))
            {
                dir = dir.Parent;
            }

            return dir?.FullName ?? throw new InvalidOperationException("ServeGate.sln not found above " + AppContext.BaseDirectory);
        }
    }
}

using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ServeGate.LlamaCpp.Native;

namespace ServeGate.LlamaCpp;

/// <summary>A compute device ggml found after loading the backends.</summary>
public sealed record LlamaDevice(string Name, string Description, GgmlDeviceType Type, ulong MemoryTotalBytes);

/// <summary>What <see cref="LlamaBackend.Initialize"/> loaded: shown at startup and on <c>/ready</c>.</summary>
public sealed record LlamaBackendInfo(
    LlamaBackendKind Backend,
    string LibraryPath,
    string? CpuVariant,
    IReadOnlyList<LlamaDevice> Devices,
    string SystemInfo,
    int Threads);

/// <summary>
/// Loads llama.cpp once per process: resolves the library names of <see cref="NativeMethods"/> to the files of the
/// pinned build, loads every ggml backend from that folder (nothing computes until one is loaded), and routes
/// llama.cpp's log into <see cref="ILogger"/>.
/// </summary>
public static class LlamaBackend
{
    private static readonly Lock Gate = new();
    private static LlamaBackendInfo? s_info;
    private static string? s_libraryPath;
    private static ILogger s_logger = NullLogger.Instance;

    /// <summary>The loaded backend, or null before <see cref="Initialize"/>.</summary>
    public static LlamaBackendInfo? Info => s_info;

    /// <summary>
    /// Loads the native libraries described by <paramref name="options"/>. Idempotent for the same folder; a second call
    /// naming another folder fails, since a process can hold only one llama.cpp.
    /// </summary>
    public static LlamaBackendInfo Initialize(LlamaBackendOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var path = Path.GetFullPath(options.ResolveLibraryPath());
        lock (Gate)
        {
            if (s_info is not null)
            {
                if (!string.Equals(s_libraryPath, path, StringComparison.Ordinal))
                {
                    throw new LlamaException(
                        $"llama.cpp is already loaded from '{s_libraryPath}'; one process cannot also load '{path}'.");
                }

                return s_info;
            }

            s_logger = logger ?? NullLogger.Instance;
            s_info = Load(options, path);
            s_libraryPath = path;
            return s_info;
        }
    }

    private static LlamaBackendInfo Load(LlamaBackendOptions options, string path)
    {
        var llama = FindLibrary(path, "libllama", options.Backend);
        var ggml = FindLibrary(path, "libggml", options.Backend);
        var ggmlBase = Path.Combine(path, "libggml-base.so");
        var handles = new Dictionary<string, nint>(StringComparer.Ordinal)
        {
            // Loading by full path: RUNPATH $ORIGIN lets each library find its siblings in the same folder.
            [NativeMethods.GgmlBase] = LoadOrThrow(ggmlBase),
            [NativeMethods.Ggml] = LoadOrThrow(ggml),
            [NativeMethods.Llama] = LoadOrThrow(llama),
        };
        NativeLibrary.SetDllImportResolver(
            typeof(NativeMethods).Assembly,
            (name, _, _) => handles.TryGetValue(name, out var handle) ? handle : 0);

        unsafe
        {
            NativeMethods.llama_log_set(&OnNativeLog, 0);
        }

        if (string.IsNullOrWhiteSpace(options.CpuVariant))
        {
            NativeMethods.ggml_backend_load_all_from_path(path);
        }
        else
        {
            LoadCpuVariant(path, options.CpuVariant);
            var cuda = Path.Combine(path, "libggml-cuda.so");
            if (options.Backend == LlamaBackendKind.Cuda && File.Exists(cuda))
            {
                NativeMethods.ggml_backend_load(cuda);
            }
        }

        NativeMethods.llama_backend_init();

        var devices = EnumerateDevices();
        if (options.Backend == LlamaBackendKind.Cuda && !devices.Any(d => d.Type == GgmlDeviceType.Gpu))
        {
            throw new LlamaException(
                $"Backend 'cuda' was requested but no CUDA device was found (devices: {string.Join(", ", devices.Select(d => d.Name))}). "
                + $"{ExplainMissingCuda(path)} "
                + "Set LlamaCpp:Backend=cpu (./run.sh --backend cpu) to run on the CPU.");
        }

        string systemInfo;
        unsafe
        {
            systemInfo = Utf8(NativeMethods.llama_print_system_info());
        }

        var info = new LlamaBackendInfo(options.Backend, path, FindLoadedCpuVariant(), devices, systemInfo, options.ResolveThreads());
        LlamaLog.BackendLoaded(s_logger, info.Backend, info.CpuVariant ?? "unknown", info.LibraryPath, info.Threads,
            string.Join(", ", devices.Select(d => $"{d.Name} ({d.Type})")));
        return info;
    }

    /// <summary>Loads one <c>libggml-cpu-*</c> variant instead of ggml's pick (<see cref="LlamaBackendOptions.CpuVariant"/>).</summary>
    private static void LoadCpuVariant(string folder, string variant)
    {
        const string Prefix = "libggml-cpu-";
        var file = Path.Combine(folder, $"{Prefix}{variant}.so");
        if (!File.Exists(file))
        {
            var known = Directory.EnumerateFiles(folder, Prefix + "*.so").Select(f => Path.GetFileName(f)[Prefix.Length..^3]).Order(StringComparer.Ordinal);
            throw new LlamaException($"LlamaCpp:CpuVariant '{variant}' is not in '{folder}'; it has: {string.Join(", ", known)}.");
        }

        // ggml refuses a variant whose instruction sets the CPU does not report (its score is 0).
        if (NativeMethods.ggml_backend_load(file) == 0)
        {
            throw new LlamaException($"LlamaCpp:CpuVariant '{variant}' does not run on this CPU: it needs instructions the CPU does not report.");
        }
    }

    /// <summary>Why ggml skipped the CUDA backend: loading it ourselves surfaces the loader's own error.</summary>
    private static string ExplainMissingCuda(string folder)
    {
        var cuda = Path.Combine(folder, "libggml-cuda.so");
        if (!File.Exists(cuda))
        {
            return $"'{folder}' has no libggml-cuda.so: it is not the CUDA build (eng/fetch-llama.sh --cuda fetches it).";
        }

        try
        {
            NativeLibrary.Free(NativeLibrary.Load(cuda));
            return "The CUDA backend loads, but the NVIDIA driver reports no device.";
        }
        catch (DllNotFoundException ex)
        {
            // .NET's message ends with the dynamic loader's own words (e.g. "libcudart.so.13: cannot open shared object file").
            var loader = ex.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[^1];
            return $"The CUDA backend cannot load ({loader}): it needs an NVIDIA GPU, its driver (libcuda.so.1) and the CUDA 13 runtime (libcudart, libcublas).";
        }
    }

    private static string FindLibrary(string folder, string stem, LlamaBackendKind backend)
    {
        if (!Directory.Exists(folder))
        {
            var hint = backend == LlamaBackendKind.Cuda ? "eng/fetch-llama.sh --cuda" : "eng/fetch-llama.sh (./run.sh does it)";
            throw new LlamaException($"llama.cpp libraries not found: '{folder}' does not exist. Run {hint}, or set LlamaCpp:LibraryPath.");
        }

        // The pinned packages name them libllama.v0.5.0.so (CPU) and libllama.cuda.v0.5.0.so (CUDA).
        var match = Directory.EnumerateFiles(folder, stem + ".*so")
            .Where(f => !Path.GetFileName(f).Contains("-", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .FirstOrDefault();
        return match ?? throw new LlamaException($"No {stem}*.so in '{folder}': the folder is not a llama.cpp build. Run eng/fetch-llama.sh.");
    }

    private static nint LoadOrThrow(string file)
    {
        try
        {
            return NativeLibrary.Load(file);
        }
        catch (DllNotFoundException ex)
        {
            throw new LlamaException($"Could not load '{file}': {ex.Message}", ex);
        }
    }

    private static unsafe List<LlamaDevice> EnumerateDevices()
    {
        var devices = new List<LlamaDevice>();
        var count = NativeMethods.ggml_backend_dev_count();
        for (nuint i = 0; i < count; i++)
        {
            var device = NativeMethods.ggml_backend_dev_get(i);
            NativeMethods.ggml_backend_dev_memory(device, out _, out var total);
            devices.Add(new LlamaDevice(
                Utf8(NativeMethods.ggml_backend_dev_name(device)),
                Utf8(NativeMethods.ggml_backend_dev_description(device)),
                NativeMethods.ggml_backend_dev_type(device),
                total));
        }

        return devices;
    }

    /// <summary>Which libggml-cpu-* variant ggml chose (e.g. zen4), read from the process's mapped files.</summary>
    private static string? FindLoadedCpuVariant()
    {
        const string Marker = "libggml-cpu-";
        try
        {
            foreach (var line in File.ReadLines("/proc/self/maps"))
            {
                var at = line.IndexOf(Marker, StringComparison.Ordinal);
                if (at >= 0)
                {
                    var name = line[(at + Marker.Length)..];
                    return name.EndsWith(".so", StringComparison.Ordinal) ? name[..^3] : name;
                }
            }
        }
        catch (IOException)
        {
            // Not Linux, or /proc is not mounted: the variant is only informative.
        }

        return null;
    }

    internal static unsafe string Utf8(byte* text) =>
        text is null ? string.Empty : Marshal.PtrToStringUTF8((nint)text) ?? string.Empty;

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static unsafe void OnNativeLog(GgmlLogLevel level, byte* text, nint userData)
    {
        try
        {
            var message = Utf8(text).TrimEnd('\n');
            if (message.Length == 0)
            {
                return;
            }

            var logLevel = level switch
            {
                GgmlLogLevel.Error => LogLevel.Warning,
                GgmlLogLevel.Warn => LogLevel.Information,
                _ => LogLevel.Debug,
            };
            LlamaLog.Native(s_logger, logLevel, message);
        }
        catch (Exception)
        {
            // Never let an exception cross into native code.
        }
    }
}

internal static partial class LlamaLog
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Information,
        Message = "llama.cpp backend {Backend} loaded (CPU variant {CpuVariant}) from {LibraryPath}, {Threads} threads, devices: {Devices}")]
    public static partial void BackendLoaded(ILogger logger, LlamaBackendKind backend, string cpuVariant, string libraryPath, int threads, string devices);

    [LoggerMessage(EventId = 1001, Message = "llama.cpp: {Message}")]
    public static partial void Native(ILogger logger, LogLevel level, string message);
}

using Microsoft.Win32.SafeHandles;
using ServeGate.LlamaCpp.Native;

namespace ServeGate.LlamaCpp;

/// <summary>
/// A persistent pool of ggml CPU compute threads, attached to one <see cref="LlamaContext"/>
/// (<c>llama_attach_threadpool</c>), as llama-bench and llama-server attach theirs. Without it ggml creates and joins
/// its worker threads on every graph compute, that is on every <c>llama_decode</c>: on a small model decoding a
/// token every few milliseconds, that start-up is a measurable share of each step.
/// </summary>
/// <remarks>
/// <c>ggml_threadpool_new</c> and <c>_free</c> live in whichever CPU backend variant was loaded, so they are looked up
/// through the CPU backend registry (<c>ggml_backend_reg_get_proc_address</c>), as llama.cpp's common code does.
/// </remarks>
internal static unsafe class LlamaThreadpool
{
    private static readonly Lazy<(nint New, nint Free)> s_functions = new(Resolve);

    /// <summary>A new pool of <paramref name="threads"/> threads polling for work at level <paramref name="poll"/> (0–100).</summary>
    public static SafeGgmlThreadpoolHandle Create(int threads, uint poll)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(threads, GgmlThreadpoolParams.MaxThreads);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(poll, 100u);
        var (create, _) = s_functions.Value;
        var parameters = NativeMethods.ggml_threadpool_params_default(threads);
        parameters.Poll = poll;
        var pool = ((delegate* unmanaged<GgmlThreadpoolParams*, nint>)create)(&parameters);
        if (pool == 0)
        {
            throw new LlamaException($"ggml could not create a thread pool of {threads} threads.");
        }

        var handle = new SafeGgmlThreadpoolHandle();
        handle.Initialize(pool);
        return handle;
    }

    internal static void Free(nint pool) => ((delegate* unmanaged<nint, void>)s_functions.Value.Free)(pool);

    private static (nint New, nint Free) Resolve()
    {
        var device = NativeMethods.ggml_backend_dev_by_type(GgmlDeviceType.Cpu);
        if (device == 0)
        {
            throw new LlamaException("No CPU backend is loaded: initialize LlamaBackend first.");
        }

        var registry = NativeMethods.ggml_backend_dev_backend_reg(device);
        var create = (nint)NativeMethods.ggml_backend_reg_get_proc_address(registry, "ggml_threadpool_new");
        var free = (nint)NativeMethods.ggml_backend_reg_get_proc_address(registry, "ggml_threadpool_free");
        return create != 0 && free != 0
            ? (create, free)
            : throw new LlamaException("The CPU backend does not export ggml_threadpool_new/ggml_threadpool_free.");
    }
}

/// <summary>Owns a <c>ggml_threadpool*</c>; freed with the CPU backend's <c>ggml_threadpool_free</c>.</summary>
internal sealed class SafeGgmlThreadpoolHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public SafeGgmlThreadpoolHandle()
        : base(ownsHandle: true)
    {
    }

    internal void Initialize(nint pool) => SetHandle(pool);

    protected override bool ReleaseHandle()
    {
        LlamaThreadpool.Free(handle);
        return true;
    }
}

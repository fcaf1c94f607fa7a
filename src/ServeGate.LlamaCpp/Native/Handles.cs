using Microsoft.Win32.SafeHandles;

namespace ServeGate.LlamaCpp.Native;

/// <summary>Owns a <c>llama_model*</c>; freed with <c>llama_model_free</c>.</summary>
internal sealed class SafeLlamaModelHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public SafeLlamaModelHandle()
        : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle()
    {
        NativeMethods.llama_model_free(handle);
        return true;
    }
}

/// <summary>Owns a <c>llama_context*</c>; freed with <c>llama_free</c>.</summary>
internal sealed class SafeLlamaContextHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public SafeLlamaContextHandle()
        : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle()
    {
        NativeMethods.llama_free(handle);
        return true;
    }
}

/// <summary>Owns a <c>llama_sampler*</c> (a chain owns the samplers added to it); freed with <c>llama_sampler_free</c>.</summary>
internal sealed class SafeLlamaSamplerHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public SafeLlamaSamplerHandle()
        : base(ownsHandle: true)
    {
    }

    /// <summary>Takes ownership of a sampler a native constructor returned as a bare pointer (not NULL).</summary>
    public static SafeLlamaSamplerHandle Own(nint sampler)
    {
        var handle = new SafeLlamaSamplerHandle();
        System.Runtime.InteropServices.Marshal.InitHandle(handle, sampler);
        return handle;
    }

    protected override bool ReleaseHandle()
    {
        NativeMethods.llama_sampler_free(handle);
        return true;
    }
}

using System.Runtime.InteropServices;

namespace ServeGate.LlamaCpp.Native;

/// <summary>A token id in a model's vocabulary (<c>llama_token</c>). Blittable: passes to llama.cpp as an int32.</summary>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct LlamaToken(int Value)
{
    /// <summary><c>LLAMA_TOKEN_NULL</c>.</summary>
    public static LlamaToken Null => new(-1);

    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>A sequence id in a context's KV cache (<c>llama_seq_id</c>).</summary>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct LlamaSeqId(int Value)
{
    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>A position within a sequence (<c>llama_pos</c>).</summary>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct LlamaPos(int Value)
{
    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

using System.Runtime.InteropServices;
using System.Text;
using ServeGate.Core.Numerics;
using ServeGate.Models.Gguf;

namespace ServeGate.Models;

/// <summary>
/// Deterministic random weights: xoshiro256** streams, one per tensor, mapped through a 65536-entry table.
/// </summary>
/// <remarks>
/// Each 64-bit draw gives four 16-bit indices into a table of uniform values on [-a, a] with a = 0.02·√3 (standard
/// deviation 0.02, the usual transformer init). Using a table keeps generation at memory speed (no float-to-half
/// conversion per weight: SmolLM2-135M's 270 MB of F16 is a few hundred million lookups), and its entries are
/// computed with exact IEEE arithmetic, so the same seed gives the same bytes on every machine. Each tensor's
/// stream is seeded from the model seed and the tensor's name, so a tensor's values do not depend on which other
/// tensors the model has (tied and untied models share their embeddings).
/// </remarks>
internal sealed class RandomWeights
{
    /// <summary>Standard deviation of every generated matrix.</summary>
    public const float StandardDeviation = 0.02f;

    private const float HalfWidth = StandardDeviation * 1.7320508f; // a = σ·√3 for a uniform distribution.

    private static readonly ushort[] HalfTable = BuildHalfTable();
    private static readonly float[] FloatTable = BuildFloatTable();

    private readonly Xoshiro256StarStar _random;

    public RandomWeights(ulong seed, string tensorName) => _random = new Xoshiro256StarStar(seed ^ Fnv1a(tensorName));

    /// <summary>
    /// Fills <paramref name="destination"/> with the next weights of <paramref name="type"/> (F16 or F32). Calls
    /// continue the stream; every call but a tensor's last must cover a multiple of 4 weights, so the bytes do not
    /// depend on how a tensor is split into chunks.
    /// </summary>
    public void Fill(Span<byte> destination, GgmlType type)
    {
        if (type == GgmlType.F16)
        {
            var halves = MemoryMarshal.Cast<byte, ushort>(destination);
            var i = 0;
            for (; i + 4 <= halves.Length; i += 4)
            {
                var r = _random.NextUInt64();
                halves[i] = HalfTable[(int)(r & 0xFFFF)];
                halves[i + 1] = HalfTable[(int)((r >> 16) & 0xFFFF)];
                halves[i + 2] = HalfTable[(int)((r >> 32) & 0xFFFF)];
                halves[i + 3] = HalfTable[(int)(r >> 48)];
            }

            if (i < halves.Length)
            {
                var r = _random.NextUInt64();
                for (; i < halves.Length; i++, r >>= 16)
                {
                    halves[i] = HalfTable[(int)(r & 0xFFFF)];
                }
            }
        }
        else if (type == GgmlType.F32)
        {
            var floats = MemoryMarshal.Cast<byte, float>(destination);
            var i = 0;
            for (; i + 4 <= floats.Length; i += 4)
            {
                var r = _random.NextUInt64();
                floats[i] = FloatTable[(int)(r & 0xFFFF)];
                floats[i + 1] = FloatTable[(int)((r >> 16) & 0xFFFF)];
                floats[i + 2] = FloatTable[(int)((r >> 32) & 0xFFFF)];
                floats[i + 3] = FloatTable[(int)(r >> 48)];
            }

            if (i < floats.Length)
            {
                var r = _random.NextUInt64();
                for (; i < floats.Length; i++, r >>= 16)
                {
                    floats[i] = FloatTable[(int)(r & 0xFFFF)];
                }
            }
        }
        else
        {
            throw new ArgumentOutOfRangeException(nameof(type), type, "Random weights are generated as F16 or F32.");
        }
    }

    private static ulong Fnv1a(string text)
    {
        var hash = 0xCBF29CE484222325;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            hash = (hash ^ b) * 0x100000001B3;
        }

        return hash;
    }

    private static float[] BuildFloatTable()
    {
        var table = new float[65536];
        for (var i = 0; i < table.Length; i++)
        {
            // (2i - 65535) / 65536 spans (-1, 1) symmetrically; every step is exact in float except the final product.
            table[i] = (2 * i - 65535) / 65536f * HalfWidth;
        }

        return table;
    }

    private static ushort[] BuildHalfTable()
    {
        var floats = BuildFloatTable();
        var table = new ushort[floats.Length];
        for (var i = 0; i < table.Length; i++)
        {
            table[i] = BitConverter.HalfToUInt16Bits((Half)floats[i]);
        }

        return table;
    }
}

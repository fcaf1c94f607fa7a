using System.Text;

namespace ServeGate.Worker.Inference;

/// <summary>
/// Turns token pieces (bytes) into text without ever splitting a multi-byte UTF-8 character: a character whose bytes
/// span several tokens is released only once complete. Invalid byte sequences become U+FFFD.
/// </summary>
internal sealed class Utf8TextAssembler
{
    private readonly Decoder _decoder = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false).GetDecoder();
    private char[] _chars = new char[64];

    /// <summary>Adds bytes and returns the text they complete (possibly empty).</summary>
    public string Append(ReadOnlySpan<byte> bytes)
    {
        var needed = _decoder.GetCharCount(bytes, flush: false);
        if (needed > _chars.Length)
        {
            _chars = new char[Math.Max(needed, _chars.Length * 2)];
        }

        var n = _decoder.GetChars(bytes, _chars, flush: false);
        return n == 0 ? string.Empty : new string(_chars, 0, n);
    }

    /// <summary>Releases whatever is pending at the end of generation (an incomplete character becomes U+FFFD).</summary>
    public string Flush()
    {
        var n = _decoder.GetChars(ReadOnlySpan<byte>.Empty, _chars, flush: true);
        return n == 0 ? string.Empty : new string(_chars, 0, n);
    }
}

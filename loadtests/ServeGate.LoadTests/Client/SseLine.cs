namespace ServeGate.LoadTests.Client;

/// <summary>What one line of a server-sent event stream holds, for the OpenAI streaming format.</summary>
internal enum SseLineKind
{
    /// <summary>Blank lines, comments (<c>:</c>), <c>event:</c>/<c>id:</c>/<c>retry:</c> fields: nothing to read.</summary>
    Other,

    /// <summary><c>data: {json}</c>.</summary>
    Data,

    /// <summary><c>data: [DONE]</c>, the end of an OpenAI stream.</summary>
    Done,
}

internal static class SseLine
{
    /// <summary>Classifies <paramref name="line"/>; for <see cref="SseLineKind.Data"/>, <paramref name="data"/> is the payload.</summary>
    public static SseLineKind Parse(string line, out string data)
    {
        data = "";
        if (!line.StartsWith("data:", StringComparison.Ordinal))
        {
            return SseLineKind.Other;
        }

        // The SSE spec strips exactly one space after the colon; servers also pad, so trim both ends.
        var payload = line.AsSpan(5).Trim();
        if (payload.IsEmpty)
        {
            return SseLineKind.Other;
        }

        if (payload.SequenceEqual("[DONE]"))
        {
            return SseLineKind.Done;
        }

        data = payload.ToString();
        return SseLineKind.Data;
    }
}

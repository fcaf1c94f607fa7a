namespace ServeGate.Worker.Tools;

/// <summary>
/// One step of a streamed answer with tools (<see cref="ToolCallStreamParser"/>): answer text, the opening of call
/// <see cref="CallIndex"/> (its id and name, empty arguments), or a fragment of that call's arguments.
/// </summary>
internal readonly record struct ToolStreamDelta(string? Content, int CallIndex, string? CallId, string? Name, string? Arguments)
{
    public static ToolStreamDelta Text(string text) => new(text, -1, null, null, null);

    public static ToolStreamDelta Open(int index, string id, string name) => new(null, index, id, name, string.Empty);

    public static ToolStreamDelta Fragment(int index, string arguments) => new(null, index, null, null, arguments);
}

namespace ServeGate.Core.OpenAi;

/// <summary>A text part of an output message (<c>{"type": "output_text", "text", "annotations": []}</c>).</summary>
public sealed class ResponseOutputText
{
    public string Type { get; init; } = "output_text";

    public required string Text { get; init; }

    public IReadOnlyList<string> Annotations { get; init; } = [];
}

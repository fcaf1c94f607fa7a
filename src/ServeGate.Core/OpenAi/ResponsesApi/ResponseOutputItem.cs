using System.Text.Json.Serialization;

namespace ServeGate.Core.OpenAi;

/// <summary>
/// One item of a response's <c>output</c>: an assistant <c>message</c> (role and content parts) or a
/// <c>function_call</c> (call id, name, arguments as JSON text). Fields of the other kind are left out.
/// </summary>
public sealed class ResponseOutputItem
{
    /// <summary><c>message</c> or <c>function_call</c>.</summary>
    public required string Type { get; init; }

    public required string Id { get; init; }

    /// <summary><c>in_progress</c>, <c>completed</c> or <c>incomplete</c>.</summary>
    public required string Status { get; init; }

    public string? Role { get; init; }

    public IReadOnlyList<ResponseOutputText>? Content { get; init; }

    public string? CallId { get; init; }

    public string? Name { get; init; }

    public string? Arguments { get; init; }

    /// <summary>A message's text, all parts together (what SDKs call <c>output_text</c>).</summary>
    [JsonIgnore]
    public string Text => Content is null ? string.Empty : string.Concat(Content.Select(c => c.Text));
}

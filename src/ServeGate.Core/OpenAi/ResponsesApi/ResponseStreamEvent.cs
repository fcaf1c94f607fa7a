using System.Text.Json.Serialization;

namespace ServeGate.Core.OpenAi;

/// <summary>
/// One event of a streamed response (<c>event: TYPE</c> / <c>data: {...}</c>): lifecycle events carry the
/// <see cref="Response"/>, item events the <see cref="Item"/>, delta events the <see cref="Delta"/>. Only the fields
/// of its type are written.
/// </summary>
public sealed record ResponseStreamEvent
{
    /// <summary>E.g. <c>response.created</c>, <c>response.output_text.delta</c>, <c>response.completed</c>.</summary>
    public required string Type { get; init; }

    public required int SequenceNumber { get; init; }

    public ResponseObject? Response { get; init; }

    public int? OutputIndex { get; init; }

    public ResponseOutputItem? Item { get; init; }

    public string? ItemId { get; init; }

    public int? ContentIndex { get; init; }

    public ResponseOutputText? Part { get; init; }

    public string? Delta { get; init; }

    /// <summary><c>response.output_text.done</c>: the part's whole text.</summary>
    public string? Text { get; init; }

    /// <summary><c>response.function_call_arguments.done</c>: the call's whole arguments.</summary>
    public string? Arguments { get; init; }

    public string? Name { get; init; }

    /// <summary><c>response.output_text.delta</c>: OpenAI sends an (empty unless asked) list.</summary>
    public IReadOnlyList<string>? Logprobs { get; init; }

    /// <summary><c>error</c> events: what failed.</summary>
    public string? Code { get; init; }

    public string? Message { get; init; }

    public string? Param { get; init; }

    [JsonIgnore]
    public bool IsTerminal => Type is "response.completed" or "response.incomplete" or "response.failed" or "error";
}

using System.Text.Json;
using System.Text.Json.Serialization;

namespace ServeGate.Core.OpenAi;

/// <summary>
/// A response of <c>POST /v1/responses</c> (OpenAI's Responses API), also the <c>response</c> of its lifecycle stream
/// events. ServeGate is stateless: <c>store</c> is always false and nothing can be retrieved by id later.
/// </summary>
public sealed record ResponseObject
{
    public required string Id { get; init; }

    public string Object { get; init; } = "response";

    public long CreatedAt { get; init; }

    /// <summary><c>in_progress</c>, <c>completed</c>, <c>incomplete</c> or <c>failed</c>.</summary>
    public required string Status { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public ResponseError? Error { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public ResponseIncompleteDetails? IncompleteDetails { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? Instructions { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public int? MaxOutputTokens { get; init; }

    public required string Model { get; init; }

    public IReadOnlyList<ResponseOutputItem> Output { get; init; } = [];

    public bool ParallelToolCalls { get; init; } = true;

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? PreviousResponseId { get; init; }

    public bool Store { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public float? Temperature { get; init; }

    /// <summary>The request's <c>text</c> configuration as sent (default <c>{"format": {"type": "text"}}</c>).</summary>
    public JsonElement Text { get; init; }

    /// <summary>The request's <c>tool_choice</c> as sent (default <c>"auto"</c>).</summary>
    public JsonElement ToolChoice { get; init; }

    /// <summary>The request's <c>tools</c> as sent (default empty).</summary>
    public JsonElement Tools { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public float? TopP { get; init; }

    public string Truncation { get; init; } = "disabled";

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public ResponsesUsage? Usage { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? User { get; init; }

    /// <summary>The request's <c>metadata</c> as sent (default empty): echoed, as OpenAI does.</summary>
    public JsonElement Metadata { get; init; }
}

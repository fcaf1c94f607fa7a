using System.Text.Json;
using System.Text.Json.Nodes;

namespace ServeGate.Worker.Api.Responses;

/// <summary>
/// A <c>POST /v1/responses</c> request translated into the chat completions request that runs it, with what the
/// response object echoes back and how to name a chat field's error in the Responses API's terms.
/// </summary>
internal sealed class ResponsesRequest
{
    public required JsonObject Chat { get; init; }

    public required bool Stream { get; init; }

    public string? Instructions { get; init; }

    public int? MaxOutputTokens { get; init; }

    public float? Temperature { get; init; }

    public float? TopP { get; init; }

    public bool ParallelToolCalls { get; init; } = true;

    public string? User { get; init; }

    public required JsonElement Text { get; init; }

    public required JsonElement ToolChoice { get; init; }

    public required JsonElement Tools { get; init; }

    public required JsonElement Metadata { get; init; }

    /// <summary>The <c>input</c> path each chat message came from (<c>messages[i]</c> -> <c>input[j]</c>, or <c>instructions</c>).</summary>
    public required IReadOnlyList<string> MessagePaths { get; init; }

    /// <summary>The Responses API's name of a chat request field named in an error (<c>messages[2].content</c> -> <c>input[1].content</c>).</summary>
    public string? TranslateParam(string? chatParam)
    {
        if (chatParam is null)
        {
            return null;
        }

        if (chatParam.StartsWith("messages[", StringComparison.Ordinal)
            && chatParam.IndexOf(']', StringComparison.Ordinal) is var close and > 9
            && int.TryParse(chatParam.AsSpan(9, close - 9), out var index)
            && index < MessagePaths.Count)
        {
            return MessagePaths[index] + chatParam[(close + 1)..];
        }

        return chatParam switch
        {
            "messages" => "input",
            "max_tokens" or "max_completion_tokens" => "max_output_tokens",
            _ when chatParam.StartsWith("response_format.json_schema.", StringComparison.Ordinal) => "text.format." + chatParam["response_format.json_schema.".Length..],
            _ when chatParam.StartsWith("response_format", StringComparison.Ordinal) => "text.format" + chatParam["response_format".Length..],
            _ when chatParam.StartsWith("tool_choice.function.", StringComparison.Ordinal) => "tool_choice." + chatParam["tool_choice.function.".Length..],
            _ when chatParam.StartsWith("tools[", StringComparison.Ordinal) => chatParam.Replace("].function.", "].", StringComparison.Ordinal),
            _ => chatParam,
        };
    }
}

using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ServeGate.Core.OpenAi;
using ServeGate.LlamaCpp;
using ServeGate.Worker.StructuredOutput;

namespace ServeGate.Worker.Tools;

/// <summary>A function call parsed out of generated text: the function's name and its arguments as compact JSON text.</summary>
internal sealed record ParsedToolCall(string Id, string Name, string Arguments);

/// <summary>Generated text split into the answer's text (null when there is none) and the calls it makes.</summary>
internal sealed record ToolOutput(string? Content, IReadOnlyList<ParsedToolCall> Calls);

/// <summary>
/// How tools meet a chat template that cannot render them (llama.cpp's <c>llama_chat_apply_template</c> knows fixed
/// templates only): ServeGate writes the Hermes/Qwen convention into the turns itself. The tool signatures go into the
/// system message inside <c>&lt;tools&gt;</c>; the model calls with <c>&lt;tool_call&gt;{"name":...,"arguments":{...}}&lt;/tool_call&gt;</c>;
/// results come back as <c>&lt;tool_response&gt;</c> user turns (ChatML) or <c>ipython</c> turns (Llama 3). Other
/// templates are refused (docs/architecture.md, "Tool calls").
/// </summary>
internal static class ToolPromptFormat
{
    public const string CallOpen = "<tool_call>\n";

    public const string CallClose = "\n</tool_call>";

    /// <summary>A call block's opening tag as a model writes it (the grammar adds the newline: <see cref="CallOpen"/>).</summary>
    internal const string CallStart = "<tool_call>";

    /// <summary>A call block's closing tag.</summary>
    internal const string CallEnd = "</tool_call>";

    /// <summary>The template families ServeGate renders tools for, recognized by their special tokens.</summary>
    private enum Family
    {
        Unknown,
        ChatMl,
        Llama3,
    }

    /// <summary>
    /// The turns with tools described, assistant calls written out and tool results placed, or a 400 when the
    /// model's template is not one ServeGate renders tools for. Unchanged when the request has no tools.
    /// </summary>
    public static ApiError? Render(LlamaModel model, IReadOnlyList<ChatMessageBody> messages, List<ChatTurn> turns, ToolCallPlan? plan, out List<ChatTurn> rendered)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(messages);
        ArgumentNullException.ThrowIfNull(turns);
        rendered = turns;
        var usesTools = messages.Any(m => m.Role == "tool" || m.ToolCalls.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null));
        if (plan is null && !usesTools)
        {
            return null;
        }

        var template = model.ChatTemplate ?? string.Empty;
        var family = template.Contains("<|im_start|>", StringComparison.Ordinal) ? Family.ChatMl
            : template.Contains("<|start_header_id|>", StringComparison.Ordinal) ? Family.Llama3
            : Family.Unknown;
        if (family == Family.Unknown)
        {
            return ApiError.InvalidRequest(
                "This model's chat template is not one ServeGate renders tools for (ChatML or Llama 3).",
                plan is null ? "messages" : "tools", "unsupported_parameter");
        }

        var result = new List<ChatTurn>(turns.Count + 1);
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            var turn = turns[i];
            if (message.Role == "tool")
            {
                if (string.IsNullOrEmpty(message.ToolCallId))
                {
                    return ApiError.InvalidRequest($"messages[{i}].tool_call_id is required for a tool message.", $"messages[{i}].tool_call_id", "missing_required_parameter");
                }

                if (family == Family.Llama3)
                {
                    result.Add(new ChatTurn("ipython", turn.Content));
                    continue;
                }

                // Consecutive results share one user turn, as Qwen's template writes them.
                var response = $"<tool_response>\n{turn.Content}\n</tool_response>";
                if (i > 0 && messages[i - 1].Role == "tool")
                {
                    result[^1] = new ChatTurn("user", result[^1].Content + "\n" + response);
                }
                else
                {
                    result.Add(new ChatTurn("user", response));
                }

                continue;
            }

            if (message.ToolCalls.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null))
            {
                if (message.Role != "assistant")
                {
                    return ApiError.InvalidRequest($"messages[{i}].tool_calls is only allowed on assistant messages.", $"messages[{i}].tool_calls");
                }

                var error = WriteCalls(message.ToolCalls, $"messages[{i}].tool_calls", out var calls);
                if (error is not null)
                {
                    return error;
                }

                var content = turn.Content.Trim();
                result.Add(new ChatTurn("assistant", content.Length == 0 ? calls : content + "\n" + calls));
                continue;
            }

            result.Add(turn);
        }

        if (plan is not null)
        {
            var tools = Describe(plan);
            if (result.Count > 0 && result[0].Role == "system")
            {
                result[0] = new ChatTurn("system", result[0].Content + "\n\n" + tools);
            }
            else
            {
                result.Insert(0, new ChatTurn("system", tools));
            }
        }

        rendered = result;
        return null;
    }

    /// <summary>The system message's tool block: the signatures and the call format.</summary>
    private static string Describe(ToolCallPlan plan)
    {
        var text = new StringBuilder();
        text.Append("# Tools\n\nYou may call one or more functions to assist with the user query.\n\n");
        text.Append("You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n");
        foreach (var function in plan.Functions)
        {
            text.Append("{\"type\":\"function\",\"function\":{\"name\":\"").Append(function.Name).Append('"');
            if (function.Description is not null)
            {
                text.Append(",\"description\":").Append(JsonSchemaGrammar.CompactString(function.Description));
            }

            text.Append(",\"parameters\":").Append(function.Parameters).Append("}}\n");
        }

        text.Append("</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n");
        text.Append("<tool_call>\n{\"name\":<function-name>,\"arguments\":<args-json-object>}\n</tool_call>");
        return text.ToString();
    }

    /// <summary>An assistant message's <c>tool_calls</c> as the <c>&lt;tool_call&gt;</c> blocks the model would have written.</summary>
    private static ApiError? WriteCalls(JsonElement calls, string param, out string text)
    {
        text = string.Empty;
        if (calls.ValueKind != JsonValueKind.Array)
        {
            return ApiError.InvalidRequest($"{param} must be an array of tool calls.", param);
        }

        var blocks = new List<string>();
        var index = 0;
        foreach (var call in calls.EnumerateArray())
        {
            var callParam = $"{param}[{index++}]";
            if (call.ValueKind != JsonValueKind.Object
                || !call.TryGetProperty("function", out var function) || function.ValueKind != JsonValueKind.Object
                || !function.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String)
            {
                return ApiError.InvalidRequest($"{callParam} must be {{\"id\", \"type\": \"function\", \"function\": {{\"name\", \"arguments\"}}}}.", callParam);
            }

            if (call.TryGetProperty("type", out var type) && type.GetString() != "function")
            {
                return ApiError.InvalidRequest($"{callParam}.type must be 'function'.", $"{callParam}.type");
            }

            var arguments = "{}";
            if (function.TryGetProperty("arguments", out var args))
            {
                if (args.ValueKind != JsonValueKind.String)
                {
                    return ApiError.InvalidRequest($"{callParam}.function.arguments must be a string (JSON text).", $"{callParam}.function.arguments");
                }

                // Arguments as the model writes them: the JSON object itself; text that is not JSON stays a string.
                arguments = TryCompact(args.GetString()!) ?? JsonSchemaGrammar.CompactString(args.GetString()!);
            }

            blocks.Add($"{CallOpen}{{\"name\":{JsonSchemaGrammar.CompactString(name.GetString()!)},\"arguments\":{arguments}}}{CallClose}");
        }

        text = string.Join("\n", blocks);
        return null;
    }

    private static string? TryCompact(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return JsonSchemaGrammar.Compact(document.RootElement);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// Splits generated text into content and calls: every <c>&lt;tool_call&gt;</c> block must hold
    /// <c>{"name": one of the tools, "arguments": an object}</c>, else the whole text is content (no calls). Without
    /// parallel calls only the first call is kept. The Responses API parses through here too.
    /// </summary>
    public static ToolOutput Parse(string text, IReadOnlyList<ToolFunction> functions, bool parallel)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(functions);
        var first = text.IndexOf(CallStart, StringComparison.Ordinal);
        if (first < 0)
        {
            return new ToolOutput(text, []);
        }

        var calls = new List<ParsedToolCall>();
        var position = first;
        while (position >= 0)
        {
            var end = text.IndexOf(CallEnd, position, StringComparison.Ordinal);
            if (end < 0)
            {
                return new ToolOutput(text, []);
            }

            var body = text[(position + CallStart.Length)..end].Trim();
            var call = ParseCall(body, functions);
            if (call is null)
            {
                return new ToolOutput(text, []);
            }

            calls.Add(call);
            position = text.IndexOf(CallStart, end, StringComparison.Ordinal);
            if (position < 0 && text[(end + CallEnd.Length)..].Trim().Length > 0)
            {
                // Text after the last call: not a call message.
                return new ToolOutput(text, []);
            }
        }

        var content = text[..first].Trim();
        return new ToolOutput(content.Length == 0 ? null : content, parallel ? calls : calls.Take(1).ToList());
    }

    /// <summary>
    /// The calls of a generation cut off by the token limit: a block left unfinished at the end (or the start of its
    /// tag) is dropped, and the rest is parsed as <see cref="Parse"/> does, so only finished calls are returned.
    /// </summary>
    public static ToolOutput ParseCutOff(string text, IReadOnlyList<ToolFunction> functions, bool parallel)
    {
        ArgumentNullException.ThrowIfNull(text);
        var last = text.LastIndexOf(CallStart, StringComparison.Ordinal);
        if (last < 0)
        {
            return new ToolOutput(text, []);
        }

        var kept = text.IndexOf(CallEnd, last, StringComparison.Ordinal) < 0 ? text[..last] : WithoutOpeningTag(text);
        var output = Parse(kept, functions, parallel);
        return output.Calls.Count > 0 || !string.IsNullOrWhiteSpace(output.Content) ? output : new ToolOutput(null, []);
    }

    /// <summary>The text without a <c>&lt;tool_call&gt;</c> tag begun at its end.</summary>
    private static string WithoutOpeningTag(string text) => text[..^OpeningTagPrefixLength(text)];

    /// <summary>The length of the longest end of <paramref name="text"/> that may be the start of <c>&lt;tool_call&gt;</c>.</summary>
    internal static int OpeningTagPrefixLength(string text)
    {
        for (var length = Math.Min(text.Length, CallStart.Length - 1); length > 0; length--)
        {
            if (text.AsSpan(text.Length - length).SequenceEqual(CallStart.AsSpan(0, length)))
            {
                return length;
            }
        }

        return 0;
    }

    /// <summary>One block's JSON body as a call naming one of the tools, or null.</summary>
    internal static ParsedToolCall? ParseCall(string body, IReadOnlyList<ToolFunction> functions)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String
                || functions.All(f => f.Name != name.GetString()))
            {
                return null;
            }

            var arguments = root.TryGetProperty("arguments", out var args) ? args : default;
            var argumentsText = arguments.ValueKind switch
            {
                JsonValueKind.Object => arguments.GetRawText(),
                JsonValueKind.String when TryCompact(arguments.GetString()!) is { } inner && inner.StartsWith('{') => inner,
                JsonValueKind.Undefined => "{}",
                _ => null,
            };
            return argumentsText is null ? null : new ParsedToolCall(NewCallId(), name.GetString()!, argumentsText);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    internal static string NewCallId() => "call_" + RandomNumberGenerator.GetString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 24);
}

using System.Text;
using System.Text.Json;
using ServeGate.Core.OpenAi;
using ServeGate.Worker.StructuredOutput;

namespace ServeGate.Worker.Tools;

/// <summary>What <c>tool_choice</c> lets the model do.</summary>
internal enum ToolChoiceMode
{
    /// <summary>Answer in text only; the tools are still described in the prompt.</summary>
    None,

    /// <summary>Answer or call; a call is parsed out of the text.</summary>
    Auto,

    /// <summary>Call one of the tools (grammar-constrained).</summary>
    Required,

    /// <summary>Call the named tool exactly once (grammar-constrained).</summary>
    Named,
}

/// <summary>One function the request offers: its name and its parameters' JSON Schema (compact JSON text).</summary>
internal sealed record ToolFunction(string Name, string? Description, string Parameters, JsonElement ParametersSchema);

/// <summary>
/// A chat request's tools: what the prompt describes, what the model may do, and, for <c>required</c> or a named
/// function, the grammar that makes every output a parseable call whose arguments validate against the schema.
/// </summary>
internal sealed record ToolCallPlan(IReadOnlyList<ToolFunction> Functions, ToolChoiceMode Mode, string? ForcedName, bool Parallel, string? Grammar)
{
    /// <summary>How many calls one constrained answer may hold when parallel calls are allowed.</summary>
    public const int MaxParallelCalls = 8;

    /// <summary>Whether the output is parsed for calls (tools given and tool_choice not none).</summary>
    public bool ParsesCalls => Functions.Count > 0 && Mode != ToolChoiceMode.None;

    /// <summary>Reads <c>tools</c>, <c>tool_choice</c> and <c>parallel_tool_calls</c>; null plan when no tools are given.</summary>
    public static ApiError? Read(CompletionRequestBody body, out ToolCallPlan? plan)
    {
        ArgumentNullException.ThrowIfNull(body);
        plan = null;
        var error = ReadFunctions(body.Tools, out var functions);
        if (error is not null)
        {
            return error;
        }

        error = ReadChoice(body.ToolChoice, functions, out var mode, out var forced);
        if (error is not null)
        {
            return error;
        }

        if (functions.Count == 0)
        {
            if (body.ParallelToolCalls is not null)
            {
                return ApiError.InvalidRequest("parallel_tool_calls is only allowed when tools are specified.", "parallel_tool_calls");
            }

            return null;
        }

        var parallel = body.ParallelToolCalls ?? true;
        string? grammar = null;
        if (mode is ToolChoiceMode.Required or ToolChoiceMode.Named)
        {
            error = BuildGrammar(functions, forced, parallel, out grammar);
            if (error is not null)
            {
                return error;
            }
        }
        else
        {
            // Auto and none still need every schema to be one ServeGate understands (a call is validated when parsed).
            for (var i = 0; i < functions.Count; i++)
            {
                if (JsonSchemaGrammar.TryConvertRules(functions[i].ParametersSchema, $"tools[{i}].function.parameters", $"t{i}", out _, out var schemaError) is null)
                {
                    return ApiError.InvalidRequest(schemaError!.Message, schemaError.Path, "unsupported_schema");
                }
            }
        }

        plan = new ToolCallPlan(functions, mode, forced, parallel, grammar);
        return null;
    }

    private static ApiError? ReadFunctions(JsonElement tools, out List<ToolFunction> functions)
    {
        functions = [];
        if (tools.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
        {
            return null;
        }

        if (tools.ValueKind != JsonValueKind.Array)
        {
            return ApiError.InvalidRequest("tools must be an array of function tools.", "tools");
        }

        var index = 0;
        foreach (var tool in tools.EnumerateArray())
        {
            var param = $"tools[{index++}]";
            if (tool.ValueKind != JsonValueKind.Object || !tool.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            {
                return ApiError.InvalidRequest($"{param} must be an object with a type.", $"{param}.type");
            }

            if (type.GetString() != "function")
            {
                return ApiError.InvalidRequest($"{param}.type must be 'function', not '{type.GetString()}'.", $"{param}.type");
            }

            if (!tool.TryGetProperty("function", out var function) || function.ValueKind != JsonValueKind.Object)
            {
                return ApiError.InvalidRequest($"{param}.function must be an object with a name.", $"{param}.function", "missing_required_parameter");
            }

            foreach (var property in function.EnumerateObject())
            {
                if (property.Name is not ("name" or "description" or "parameters" or "strict"))
                {
                    return ApiError.InvalidRequest($"Unknown parameter: '{param}.function.{property.Name}'.", $"{param}.function.{property.Name}", "unknown_parameter");
                }
            }

            if (!function.TryGetProperty("name", out var name) || !OutputConstraints.IsName(name))
            {
                return ApiError.InvalidRequest($"{param}.function.name must be 1 to 64 letters, digits, underscores or dashes.", $"{param}.function.name");
            }

            if (functions.Any(f => f.Name == name.GetString()))
            {
                return ApiError.InvalidRequest($"{param}.function.name: '{name.GetString()}' is given twice.", $"{param}.function.name");
            }

            string? description = null;
            if (function.TryGetProperty("description", out var text))
            {
                if (text.ValueKind != JsonValueKind.String)
                {
                    return ApiError.InvalidRequest($"{param}.function.description must be a string.", $"{param}.function.description");
                }

                description = text.GetString();
            }

            if (function.TryGetProperty("strict", out var strict) && strict.ValueKind is not (JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null))
            {
                return ApiError.InvalidRequest($"{param}.function.strict must be a boolean.", $"{param}.function.strict");
            }

            // OpenAI: parameters omitted means a function without parameters.
            var parameters = function.TryGetProperty("parameters", out var schema) ? schema : EmptyParameters;
            if (parameters.ValueKind != JsonValueKind.Object)
            {
                return ApiError.InvalidRequest($"{param}.function.parameters must be a JSON Schema object.", $"{param}.function.parameters");
            }

            functions.Add(new ToolFunction(name.GetString()!, description, parameters.GetRawText(), parameters.Clone()));
        }

        return functions.Count > 128 ? ApiError.InvalidRequest("At most 128 tools may be given.", "tools") : null;
    }

    private static readonly JsonElement EmptyParameters = JsonDocument.Parse("""{"type":"object","properties":{}}""").RootElement.Clone();

    private static ApiError? ReadChoice(JsonElement choice, List<ToolFunction> functions, out ToolChoiceMode mode, out string? forced)
    {
        forced = null;
        mode = functions.Count > 0 ? ToolChoiceMode.Auto : ToolChoiceMode.None;
        switch (choice.ValueKind)
        {
            case JsonValueKind.Undefined or JsonValueKind.Null:
                return null;
            case JsonValueKind.String:
                switch (choice.GetString())
                {
                    case "none":
                        mode = ToolChoiceMode.None;
                        return null;
                    case "auto":
                        mode = ToolChoiceMode.Auto;
                        break;
                    case "required":
                        mode = ToolChoiceMode.Required;
                        break;
                    default:
                        return ApiError.InvalidRequest($"tool_choice must be none, auto, required or a function, not '{choice.GetString()}'.", "tool_choice");
                }

                break;
            case JsonValueKind.Object:
                if (!choice.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() != "function"
                    || !choice.TryGetProperty("function", out var function) || function.ValueKind != JsonValueKind.Object
                    || !function.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String)
                {
                    return ApiError.InvalidRequest("tool_choice as an object must be {\"type\": \"function\", \"function\": {\"name\": ...}}.", "tool_choice");
                }

                var named = name.GetString();
                forced = named;
                if (functions.Count > 0 && functions.All(f => f.Name != named))
                {
                    return ApiError.InvalidRequest($"tool_choice names the function '{named}', which is not among the tools.", "tool_choice");
                }

                mode = ToolChoiceMode.Named;
                break;
            default:
                return ApiError.InvalidRequest("tool_choice must be a string or an object.", "tool_choice");
        }

        return functions.Count == 0
            ? ApiError.InvalidRequest("tool_choice is only allowed when tools are specified.", "tool_choice")
            : null;
    }

    /// <summary>
    /// The grammar of one or more <c>&lt;tool_call&gt;</c> blocks (<see cref="ToolPromptFormat"/>), each naming one of
    /// the allowed functions with arguments from that function's schema.
    /// </summary>
    private static ApiError? BuildGrammar(List<ToolFunction> functions, string? forced, bool parallel, out string? grammar)
    {
        grammar = null;
        var rules = new StringBuilder();
        var alternatives = new List<string>();
        for (var i = 0; i < functions.Count; i++)
        {
            var function = functions[i];
            if (forced is not null && function.Name != forced)
            {
                continue;
            }

            var text = JsonSchemaGrammar.TryConvertRules(function.ParametersSchema, $"tools[{i}].function.parameters", $"t{i}", out var arguments, out var schemaError);
            if (text is null)
            {
                return ApiError.InvalidRequest(schemaError!.Message, schemaError.Path, "unsupported_schema");
            }

            rules.Append(text);
            var nameLiteral = JsonSchemaGrammar.Literal($"{{\"name\":\"{function.Name}\",");
            rules.Append($"call-{i} ::= {nameLiteral} ws {JsonSchemaGrammar.Literal("\"arguments\":")} ws {arguments} ws \"}}\"\n");
            alternatives.Add($"call-{i}");
        }

        var call = $"{JsonSchemaGrammar.Literal(ToolPromptFormat.CallOpen)} ({string.Join(" | ", alternatives)}) {JsonSchemaGrammar.Literal(ToolPromptFormat.CallClose)}";
        // A named function is called exactly once (OpenAI: "Forced Function: call exactly one specific function"); left
        // free to go on, a random-weight model ran into max_tokens in a second call and lost the first (docs/openai-compatibility.md).
        var root = parallel && forced is null ? $"call ({JsonSchemaGrammar.Literal("\n")} call){{0,{MaxParallelCalls - 1}}}" : "call";
        grammar = $"root ::= {root}\ncall ::= {call}\n{rules}{JsonSchemaGrammar.PrimitiveRules}";
        return null;
    }
}

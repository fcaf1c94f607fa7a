using System.Text.Json;
using System.Text.Json.Nodes;
using ServeGate.Core.OpenAi;

namespace ServeGate.Worker.Api.Responses;

/// <summary>
/// Turns a Responses API request into the chat completions request that runs it (the same validation, sampling,
/// structured output and tool calls), refusing every field ServeGate does not honour with a 400 that names it.
/// ServeGate is stateless, as llama.cpp's server and Ollama are: nothing is stored, so <c>store: true</c>,
/// <c>previous_response_id</c>, <c>conversation</c> and item references are refused.
/// </summary>
internal static class ResponsesRequestTranslator
{
    private static readonly JsonElement DefaultText = JsonSerializer.SerializeToElement(new JsonObject { ["format"] = new JsonObject { ["type"] = "text" } }, ResponsesJsonContext.Default.JsonObject);
    private static readonly JsonElement DefaultToolChoice = JsonSerializer.SerializeToElement(JsonValue.Create("auto"), ResponsesJsonContext.Default.JsonNode);
    private static readonly JsonElement EmptyArray = JsonSerializer.SerializeToElement(new JsonArray(), ResponsesJsonContext.Default.JsonArray);
    private static readonly JsonElement EmptyObject = JsonSerializer.SerializeToElement(new JsonObject(), ResponsesJsonContext.Default.JsonObject);

    public static ApiError? Translate(JsonObject body, out ResponsesRequest request)
    {
        ArgumentNullException.ThrowIfNull(body);
        request = null!;
        var chat = new JsonObject();
        var paths = new List<string>();
        var messages = new JsonArray();
        string? instructions = null;
        int? maxOutput = null;
        float? temperature = null;
        float? topP = null;
        var parallel = true;
        string? user = null;
        var stream = false;
        JsonElement text = DefaultText, toolChoice = DefaultToolChoice, tools = EmptyArray, metadata = EmptyObject;

        foreach (var (name, value) in body)
        {
            var error = name switch
            {
                "model" => Copy(chat, "model", value),
                "input" => null, // below, after instructions
                "instructions" => ReadString(value, name, out instructions),
                "max_output_tokens" => ReadInt(value, name, out maxOutput),
                "temperature" => ReadFloat(value, name, out temperature),
                "top_p" => ReadFloat(value, name, out topP),
                "stream" => ReadBool(value, name, out stream),
                "parallel_tool_calls" => ReadBool(value, name, out parallel),
                "user" => ReadString(value, name, out user),
                "tools" => TranslateTools(value, chat, out tools),
                "tool_choice" => TranslateToolChoice(value, chat, out toolChoice),
                "text" => TranslateText(value, chat, out text),
                "metadata" => ReadMetadata(value, out metadata),
                "store" => IsNullOr(value, JsonValueKind.False) ? null : Unsupported(name, "store: true is not supported: ServeGate keeps no responses. Leave store unset (or false) and send the whole conversation in input."),
                "previous_response_id" or "conversation" => value is null ? null : Unsupported(name, $"{name} needs stored responses, which ServeGate does not keep. Send the whole conversation in input instead."),
                "background" => IsNullOr(value, JsonValueKind.False) ? null : Unsupported(name, "background responses are not supported: send the request with stream or wait for it."),
                "include" => value is null || value is JsonArray { Count: 0 } ? null : Unsupported(name, "include is not supported: ServeGate returns no extra output data (logprobs, encrypted reasoning, tool outputs)."),
                "reasoning" => value is null || value is JsonObject { Count: 0 } ? null : Unsupported(name, "reasoning is not supported: ServeGate's models are not reasoning models."),
                "truncation" => value is null || IsString(value, "disabled") ? null : Unsupported(name, "truncation: \"auto\" is not supported: a conversation longer than the context is refused, never cut."),
                "service_tier" => value is null || IsString(value, "auto") || IsString(value, "default") ? null : Unsupported(name, "service_tier: only \"auto\" and \"default\" are served here."),
                "top_logprobs" => value is null || value is JsonValue v && v.TryGetValue<int>(out var n) && n == 0 ? null : Unsupported(name, "top_logprobs is not supported on /v1/responses; use /v1/chat/completions with logprobs."),
                "max_tool_calls" => value is null ? null : Unsupported(name, "max_tool_calls is not supported: use parallel_tool_calls: false for at most one call."),
                "prompt" => value is null ? null : Unsupported(name, "prompt templates are not supported: ServeGate stores none."),
                "stream_options" => TranslateStreamOptions(value),
                "safety_identifier" or "prompt_cache_key" => ReadString(value, name, out _), // identifiers: no effect on the output; prefixes are cached automatically
                _ => new ApiError(400, $"Unrecognized request argument supplied: {name}", "invalid_request_error", name, "unknown_parameter"),
            };
            if (error is not null)
            {
                return error;
            }
        }

        if (instructions is not null)
        {
            messages.Add(new JsonObject { ["role"] = "system", ["content"] = instructions });
            paths.Add("instructions");
        }

        var inputError = TranslateInput(body["input"], messages, paths);
        if (inputError is not null)
        {
            return inputError;
        }

        chat["messages"] = messages;
        if (maxOutput is not null)
        {
            chat["max_completion_tokens"] = maxOutput;
        }

        if (temperature is not null)
        {
            chat["temperature"] = temperature;
        }

        if (topP is not null)
        {
            chat["top_p"] = topP;
        }

        if (body.ContainsKey("parallel_tool_calls"))
        {
            chat["parallel_tool_calls"] = parallel;
        }

        if (stream)
        {
            chat["stream"] = true;
            chat["stream_options"] = new JsonObject { ["include_usage"] = true };
        }

        request = new ResponsesRequest
        {
            Chat = chat,
            Stream = stream,
            Instructions = instructions,
            MaxOutputTokens = maxOutput,
            Temperature = temperature,
            TopP = topP,
            ParallelToolCalls = parallel,
            User = user,
            Text = text,
            ToolChoice = toolChoice,
            Tools = tools,
            Metadata = metadata,
            MessagePaths = paths,
        };
        return null;
    }

    private static ApiError? TranslateInput(JsonNode? input, JsonArray messages, List<string> paths)
    {
        switch (input)
        {
            case null:
                return ApiError.InvalidRequest("You must provide input (a string or a list of items).", "input", "missing_required_parameter");
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                messages.Add(new JsonObject { ["role"] = "user", ["content"] = value.GetValue<string>() });
                paths.Add("input");
                return null;
            case JsonArray { Count: 0 }:
                return ApiError.InvalidRequest("input must not be an empty list.", "input");
            case JsonArray items:
                for (var i = 0; i < items.Count; i++)
                {
                    var error = TranslateItem(items[i], $"input[{i}]", messages, paths);
                    if (error is not null)
                    {
                        return error;
                    }
                }

                return null;
            default:
                return ApiError.InvalidRequest("input must be a string or a list of items.", "input");
        }
    }

    private static ApiError? TranslateItem(JsonNode? node, string path, JsonArray messages, List<string> paths)
    {
        if (node is not JsonObject item)
        {
            return ApiError.InvalidRequest($"{path} must be an object.", path);
        }

        var type = item["type"] is JsonValue t && t.GetValueKind() == JsonValueKind.String ? t.GetValue<string>() : item.ContainsKey("role") ? "message" : null;
        switch (type)
        {
            case "message":
                var role = item["role"] is JsonValue r && r.GetValueKind() == JsonValueKind.String ? r.GetValue<string>() : null;
                if (role is not ("user" or "system" or "developer" or "assistant"))
                {
                    return ApiError.InvalidRequest($"{path}.role must be one of user, system, developer, assistant.", path + ".role");
                }

                var contentError = TranslateContent(item["content"], path + ".content", out var content);
                if (contentError is not null)
                {
                    return contentError;
                }

                messages.Add(new JsonObject { ["role"] = role, ["content"] = content });
                paths.Add(path);
                return null;
            case "function_call":
                if (!TryString(item, "call_id", out var callId) || !TryString(item, "name", out var name) || !TryString(item, "arguments", out var arguments))
                {
                    return ApiError.InvalidRequest($"{path} (a function_call) needs call_id, name and arguments as strings.", path);
                }

                var call = new JsonObject { ["id"] = callId, ["type"] = "function", ["function"] = new JsonObject { ["name"] = name, ["arguments"] = arguments } };
                if (messages.Count > 0 && messages[^1] is JsonObject { } last && last["role"]?.GetValue<string>() == "assistant")
                {
                    // Calls that follow an assistant turn (its text, or other calls) belong to it, as in a chat message.
                    if (last["tool_calls"] is not JsonArray calls)
                    {
                        last["tool_calls"] = calls = [];
                    }

                    calls.Add(call);
                    return null;
                }

                messages.Add(new JsonObject { ["role"] = "assistant", ["content"] = null, ["tool_calls"] = new JsonArray(call) });
                paths.Add(path);
                return null;
            case "function_call_output":
                if (!TryString(item, "call_id", out var outputCallId))
                {
                    return ApiError.InvalidRequest($"{path}.call_id must be a string.", path + ".call_id");
                }

                var outputError = TranslateContent(item["output"], path + ".output", out var output);
                if (outputError is not null)
                {
                    return outputError;
                }

                messages.Add(new JsonObject { ["role"] = "tool", ["tool_call_id"] = outputCallId, ["content"] = output });
                paths.Add(path);
                return null;
            case "item_reference":
                // Clients that assume OpenAI's default (store: true), the Vercel AI SDK among them, refer to earlier answers by id.
                return Unsupported(path, "Item references need stored responses, which ServeGate does not keep: send the item itself "
                    + "(a client that assumes store: true sends references to its earlier answers: set store: false in the client, "
                    + "e.g. the AI SDK's providerOptions: { openai: { store: false } }).");
            default:
                return Unsupported(path + ".type", $"Input items of type '{type}' are not supported: only message, function_call and function_call_output.");
        }
    }

    /// <summary>A message's content or a tool's output: a string, or text parts (input_text, output_text) joined.</summary>
    private static ApiError? TranslateContent(JsonNode? content, string path, out string text)
    {
        text = string.Empty;
        switch (content)
        {
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                text = value.GetValue<string>();
                return null;
            case JsonArray parts:
                var joined = new System.Text.StringBuilder();
                for (var i = 0; i < parts.Count; i++)
                {
                    var part = parts[i] as JsonObject;
                    var type = part?["type"] is JsonValue t && t.GetValueKind() == JsonValueKind.String ? t.GetValue<string>() : null;
                    if (type is not ("input_text" or "output_text") || !TryString(part!, "text", out var partText))
                    {
                        return Unsupported($"{path}[{i}]", $"Content parts of type '{type}' are not supported by this model: only input_text and output_text.");
                    }

                    joined.Append(partText);
                }

                text = joined.ToString();
                return null;
            default:
                return ApiError.InvalidRequest($"{path} must be a string or a list of text parts.", path);
        }
    }

    private static ApiError? TranslateTools(JsonNode? value, JsonObject chat, out JsonElement echo)
    {
        echo = EmptyArray;
        if (value is null)
        {
            return null;
        }

        if (value is not JsonArray tools)
        {
            return ApiError.InvalidRequest("tools must be a list.", "tools");
        }

        var chatTools = new JsonArray();
        for (var i = 0; i < tools.Count; i++)
        {
            if (tools[i] is not JsonObject tool)
            {
                return ApiError.InvalidRequest($"tools[{i}] must be an object.", $"tools[{i}]");
            }

            var type = tool["type"] is JsonValue t && t.GetValueKind() == JsonValueKind.String ? t.GetValue<string>() : null;
            if (type != "function")
            {
                return Unsupported($"tools[{i}].type", $"Tools of type '{type}' are not supported: only function tools (ServeGate runs no built-in tools).");
            }

            var function = new JsonObject();
            foreach (var (key, field) in tool)
            {
                if (key is "name" or "description" or "parameters" or "strict")
                {
                    function[key] = field?.DeepClone();
                }
                else if (key != "type")
                {
                    return new ApiError(400, $"Unrecognized tool field: {key}", "invalid_request_error", $"tools[{i}].{key}", "unknown_parameter");
                }
            }

            chatTools.Add(new JsonObject { ["type"] = "function", ["function"] = function });
        }

        chat["tools"] = chatTools;
        echo = JsonSerializer.SerializeToElement(tools, ResponsesJsonContext.Default.JsonArray);
        return null;
    }

    private static ApiError? TranslateToolChoice(JsonNode? value, JsonObject chat, out JsonElement echo)
    {
        echo = DefaultToolChoice;
        switch (value)
        {
            case null:
                return null;
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                chat["tool_choice"] = v.GetValue<string>();
                break;
            case JsonObject o when o["type"] is JsonValue t && t.GetValueKind() == JsonValueKind.String && t.GetValue<string>() == "function":
                if (!TryString(o, "name", out var name))
                {
                    return ApiError.InvalidRequest("tool_choice.name must name a function.", "tool_choice.name");
                }

                chat["tool_choice"] = new JsonObject { ["type"] = "function", ["function"] = new JsonObject { ["name"] = name } };
                break;
            default:
                return Unsupported("tool_choice", "tool_choice must be \"none\", \"auto\", \"required\" or {\"type\": \"function\", \"name\": ...}: ServeGate runs no built-in tools.");
        }

        echo = JsonSerializer.SerializeToElement(value, ResponsesJsonContext.Default.JsonNode);
        return null;
    }

    private static ApiError? TranslateText(JsonNode? value, JsonObject chat, out JsonElement echo)
    {
        echo = DefaultText;
        if (value is null)
        {
            return null;
        }

        if (value is not JsonObject textConfig)
        {
            return ApiError.InvalidRequest("text must be an object.", "text");
        }

        foreach (var (key, field) in textConfig)
        {
            if (key == "verbosity")
            {
                if (field is not null && !IsString(field, "medium"))
                {
                    return Unsupported("text.verbosity", "text.verbosity other than \"medium\" is not supported.");
                }
            }
            else if (key != "format")
            {
                return new ApiError(400, $"Unrecognized request argument supplied: text.{key}", "invalid_request_error", "text." + key, "unknown_parameter");
            }
        }

        if (textConfig["format"] is JsonObject format)
        {
            var type = format["type"] is JsonValue t && t.GetValueKind() == JsonValueKind.String ? t.GetValue<string>() : null;
            switch (type)
            {
                case "text" or "json_object":
                    chat["response_format"] = new JsonObject { ["type"] = type };
                    break;
                case "json_schema":
                    var schema = new JsonObject();
                    foreach (var (key, field) in format)
                    {
                        if (key != "type")
                        {
                            schema[key] = field?.DeepClone();
                        }
                    }

                    chat["response_format"] = new JsonObject { ["type"] = "json_schema", ["json_schema"] = schema };
                    break;
                default:
                    return ApiError.InvalidRequest("text.format.type must be text, json_object or json_schema.", "text.format.type");
            }
        }
        else if (textConfig["format"] is not null)
        {
            return ApiError.InvalidRequest("text.format must be an object.", "text.format");
        }

        echo = JsonSerializer.SerializeToElement(textConfig, ResponsesJsonContext.Default.JsonObject);
        return null;
    }

    private static ApiError? TranslateStreamOptions(JsonNode? value)
    {
        if (value is null)
        {
            return null;
        }

        if (value is not JsonObject options)
        {
            return ApiError.InvalidRequest("stream_options must be an object.", "stream_options");
        }

        // include_obfuscation pads events against length side channels; ServeGate sends none, which the option allows.
        foreach (var (key, _) in options)
        {
            if (key != "include_obfuscation")
            {
                return new ApiError(400, $"Unrecognized request argument supplied: stream_options.{key}", "invalid_request_error", "stream_options." + key, "unknown_parameter");
            }
        }

        return null;
    }

    private static ApiError? ReadMetadata(JsonNode? value, out JsonElement echo)
    {
        echo = EmptyObject;
        if (value is null)
        {
            return null;
        }

        if (value is not JsonObject metadata || metadata.Count > 16 || metadata.Any(p => p.Value is not JsonValue v || v.GetValueKind() != JsonValueKind.String))
        {
            return ApiError.InvalidRequest("metadata must be an object of at most 16 string values.", "metadata");
        }

        echo = JsonSerializer.SerializeToElement(metadata, ResponsesJsonContext.Default.JsonObject);
        return null;
    }

    private static ApiError? Copy(JsonObject chat, string name, JsonNode? value)
    {
        chat[name] = value?.DeepClone();
        return null;
    }

    private static ApiError? ReadString(JsonNode? value, string name, out string? result)
    {
        result = null;
        if (value is null)
        {
            return null;
        }

        if (value is JsonValue v && v.GetValueKind() == JsonValueKind.String)
        {
            result = v.GetValue<string>();
            return null;
        }

        return ApiError.InvalidRequest($"{name} must be a string.", name);
    }

    private static ApiError? ReadInt(JsonNode? value, string name, out int? result)
    {
        result = null;
        if (value is null)
        {
            return null;
        }

        if (value is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<int>(out var i))
        {
            result = i;
            return null;
        }

        return ApiError.InvalidRequest($"{name} must be an integer.", name);
    }

    private static ApiError? ReadFloat(JsonNode? value, string name, out float? result)
    {
        result = null;
        if (value is null)
        {
            return null;
        }

        if (value is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<double>(out var d))
        {
            result = (float)d;
            return null;
        }

        return ApiError.InvalidRequest($"{name} must be a number.", name);
    }

    private static ApiError? ReadBool(JsonNode? value, string name, out bool result)
    {
        result = name == "parallel_tool_calls";
        if (value is null)
        {
            return null;
        }

        if (value is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False)
        {
            result = v.GetValue<bool>();
            return null;
        }

        return ApiError.InvalidRequest($"{name} must be a boolean.", name);
    }

    private static bool TryString(JsonObject item, string name, out string value)
    {
        value = item[name] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null!;
        return value is not null;
    }

    private static bool IsNullOr(JsonNode? value, JsonValueKind kind) => value is null || value.GetValueKind() == kind;

    private static bool IsString(JsonNode value, string expected) =>
        value is JsonValue v && v.GetValueKind() == JsonValueKind.String && v.GetValue<string>() == expected;

    private static ApiError Unsupported(string param, string message) => ApiError.InvalidRequest(message, param, "unsupported_parameter");
}

using System.Text.Json;
using ServeGate.Core.OpenAi;

namespace ServeGate.Worker.Api;

/// <summary>Which endpoints take a field.</summary>
[Flags]
internal enum Endpoints
{
    Completions = 1,
    Chat = 2,
    Both = Completions | Chat,
}

/// <summary>What ServeGate does with a request field.</summary>
internal enum FieldHandling
{
    /// <summary>Read and acted on.</summary>
    Honoured,

    /// <summary>Accepted only with a value that changes nothing (<see cref="RequestField.IsNoOp"/>); refused otherwise.</summary>
    NoOpOnly,

    /// <summary>Refused whenever it is set (to anything but null).</summary>
    Refused,
}

/// <summary>One row of the field table: a field's name, its endpoints, its handling and why.</summary>
internal sealed record RequestField(string Name, Endpoints Endpoints, FieldHandling Handling, string Why, Func<JsonElement, bool>? IsNoOp = null);

/// <summary>
/// Every request field of OpenAI's completions and chat completions APIs and ServeGate's extensions, with what
/// ServeGate does with it: one table, so that no field is ever accepted and silently ignored (docs/openai-compatibility.md).
/// </summary>
internal static class RequestFields
{
    public static readonly IReadOnlyList<RequestField> All =
    [
        new("model", Endpoints.Both, FieldHandling.Honoured, "selects the served model"),
        new("prompt", Endpoints.Completions, FieldHandling.Honoured, "string, strings, token ids or arrays of them (up to 16 prompts)"),
        new("messages", Endpoints.Chat, FieldHandling.Honoured, "text content parts; formatted with the model's chat template"),
        new("max_tokens", Endpoints.Both, FieldHandling.Honoured, "limit on generated tokens per choice"),
        new("max_completion_tokens", Endpoints.Chat, FieldHandling.Honoured, "as max_tokens"),
        new("temperature", Endpoints.Both, FieldHandling.Honoured, "0 to 2"),
        new("top_p", Endpoints.Both, FieldHandling.Honoured, "nucleus sampling"),
        new("seed", Endpoints.Both, FieldHandling.Honoured, "reproducible sampling; choice i of n uses a seed derived from it"),
        new("stop", Endpoints.Both, FieldHandling.Honoured, "up to 4 stop sequences"),
        new("stream", Endpoints.Both, FieldHandling.Honoured, "server-sent events"),
        new("stream_options", Endpoints.Both, FieldHandling.Honoured, "include_usage honoured; include_obfuscation accepted (no padding is sent)"),
        new("n", Endpoints.Both, FieldHandling.Honoured, "1 to 16 choices per prompt, sharing the prompt's KV cells"),
        new("presence_penalty", Endpoints.Both, FieldHandling.Honoured, "-2 to 2"),
        new("frequency_penalty", Endpoints.Both, FieldHandling.Honoured, "-2 to 2"),
        new("logprobs", Endpoints.Both, FieldHandling.Honoured, "completions: 0 to 5 alternatives; chat: boolean"),
        new("top_logprobs", Endpoints.Chat, FieldHandling.Honoured, "0 to 20 alternatives"),
        new("echo", Endpoints.Completions, FieldHandling.Honoured, "the prompt's text before the completion (not with logprobs: prompt logprobs are not computed)"),
        new("user", Endpoints.Both, FieldHandling.Honoured, "accepted; an end-user id that does not change the output"),
        new("safety_identifier", Endpoints.Chat, FieldHandling.Honoured, "accepted; an end-user id that does not change the output"),
        new("prompt_cache_key", Endpoints.Chat, FieldHandling.Honoured, "accepted; ServeGate caches every prompt's prefix by its tokens anyway"),
        new("metadata", Endpoints.Chat, FieldHandling.Honoured, "accepted; tags for stored completions, which do not change the output"),
        new("response_format", Endpoints.Both, FieldHandling.Honoured, "text, json_object or json_schema, enforced while sampling (completions: an extension)"),
        new("grammar", Endpoints.Both, FieldHandling.Honoured, "llama.cpp extension: a GBNF grammar enforced while sampling"),
        new("logit_bias", Endpoints.Both, FieldHandling.Honoured, "token id to -100..100 (-100 bans, +100 forces)"),
        new("tools", Endpoints.Chat, FieldHandling.Honoured, "function tools, rendered into the conversation; calls parsed or grammar-constrained"),
        new("tool_choice", Endpoints.Chat, FieldHandling.Honoured, "none, auto, required or a named function"),
        new("parallel_tool_calls", Endpoints.Chat, FieldHandling.Honoured, "false: at most one call"),
        new("functions", Endpoints.Chat, FieldHandling.Refused, "deprecated by OpenAI: use tools"),
        new("function_call", Endpoints.Chat, FieldHandling.Refused, "deprecated by OpenAI: use tool_choice"),
        new("top_k", Endpoints.Both, FieldHandling.Honoured, "llama.cpp extension"),
        new("min_p", Endpoints.Both, FieldHandling.Honoured, "llama.cpp extension"),
        new("ignore_eos", Endpoints.Both, FieldHandling.Honoured, "llama.cpp extension: never stop on end-of-generation"),
        new("best_of", Endpoints.Completions, FieldHandling.NoOpOnly, "only 1: server-side ranking of candidates is not implemented", IsInt(1)),
        new("suffix", Endpoints.Completions, FieldHandling.NoOpOnly, "only empty: insertion (fill-in-the-middle) is not implemented", v => v.ValueKind == JsonValueKind.String && v.GetString()!.Length == 0),
        new("store", Endpoints.Chat, FieldHandling.NoOpOnly, "only false: completions are not stored", v => v.ValueKind == JsonValueKind.False),
        new("service_tier", Endpoints.Chat, FieldHandling.NoOpOnly, "only auto or default: there is one tier", v => v.ValueKind == JsonValueKind.String && v.GetString() is "auto" or "default"),
        new("modalities", Endpoints.Chat, FieldHandling.NoOpOnly, "only [\"text\"]: the models produce text", v => v.ValueKind == JsonValueKind.Array && v.GetArrayLength() == 1 && v[0].ValueKind == JsonValueKind.String && v[0].GetString() == "text"),
        new("verbosity", Endpoints.Chat, FieldHandling.NoOpOnly, "only medium (the default): the models have no verbosity control", v => v.ValueKind == JsonValueKind.String && v.GetString() == "medium"),
        new("audio", Endpoints.Chat, FieldHandling.Refused, "audio output is not supported"),
        new("prediction", Endpoints.Chat, FieldHandling.Refused, "predicted outputs are not implemented"),
        new("reasoning_effort", Endpoints.Chat, FieldHandling.Refused, "the served models do not reason"),
        new("web_search_options", Endpoints.Chat, FieldHandling.Refused, "web search is not available"),
    ];

    private static readonly Dictionary<string, RequestField> s_byName = All.ToDictionary(f => f.Name, StringComparer.Ordinal);

    /// <summary>Nested fields of stream_options that do not change the output.</summary>
    private static readonly HashSet<string> s_streamOptionsNoOp = new(StringComparer.Ordinal) { "include_obfuscation" };

    /// <summary>The field of this table, if any.</summary>
    public static RequestField? Find(string name) => s_byName.GetValueOrDefault(name);

    /// <summary>
    /// The error for the first field this endpoint does not honour (in body order), or null. Typed fields of the other
    /// endpoint are caught by their presence; everything else arrives in <see cref="CompletionRequestBody.Extra"/>.
    /// </summary>
    public static ApiError? Check(CompletionRequestBody body, bool chat)
    {
        var endpoint = chat ? Endpoints.Chat : Endpoints.Completions;
        foreach (var (name, present) in TypedFields(body))
        {
            if (present && s_byName[name].Endpoints.HasFlag(endpoint) is false)
            {
                return Unrecognized(name, chat);
            }
        }

        if (body.Extra is { } extra)
        {
            foreach (var (name, value) in extra)
            {
                if (value.ValueKind == JsonValueKind.Null)
                {
                    continue; // OpenAI takes null for any optional field: not set
                }

                if (!s_byName.TryGetValue(name, out var field) || !field.Endpoints.HasFlag(endpoint))
                {
                    return Unrecognized(name, chat);
                }

                if (field.Handling == FieldHandling.Honoured)
                {
                    continue; // read elsewhere (accepted fields that change nothing: user, metadata, …)
                }

                if (field.Handling == FieldHandling.Refused || field.IsNoOp?.Invoke(value) != true)
                {
                    return ApiError.InvalidRequest($"{name} is not supported by ServeGate: {field.Why}.", name, "unsupported_parameter");
                }
            }
        }

        if (body.StreamOptions?.Extra is { } options)
        {
            foreach (var name in options.Keys)
            {
                if (!s_streamOptionsNoOp.Contains(name))
                {
                    return ApiError.InvalidRequest($"Unrecognized stream option: stream_options.{name}.", $"stream_options.{name}", "unsupported_parameter");
                }
            }
        }

        return null;
    }

    /// <summary>Refuses an embeddings field ServeGate does not know.</summary>
    public static ApiError? CheckEmbeddings(EmbeddingRequestBody body)
    {
        var name = body.Extra?.FirstOrDefault(e => e.Value.ValueKind != JsonValueKind.Null).Key;
        return name is null ? null : ApiError.InvalidRequest($"Unrecognized request argument supplied: {name}", name, "unsupported_parameter");
    }

    private static ApiError Unrecognized(string name, bool chat)
    {
        return ApiError.InvalidRequest(
            $"Unrecognized request argument supplied to {(chat ? "/v1/chat/completions" : "/v1/completions")}: {name}", name, "unsupported_parameter");
    }

    /// <summary>The fields the body reads into properties, and whether each was sent (non-null).</summary>
    private static IEnumerable<(string Name, bool Present)> TypedFields(CompletionRequestBody body)
    {
        yield return ("prompt", body.Prompt.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null));
        yield return ("messages", body.Messages is not null);
        yield return ("max_completion_tokens", body.MaxCompletionTokens is not null);
        yield return ("top_logprobs", body.TopLogprobs is not null);
        yield return ("echo", body.Echo is not null);
        yield return ("tools", body.Tools.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null));
        yield return ("tool_choice", body.ToolChoice.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null));
        yield return ("parallel_tool_calls", body.ParallelToolCalls is not null);
    }

    private static Func<JsonElement, bool> IsInt(int value) => v => v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) && i == value;
}

using System.Text.Json;
using ServeGate.Core.OpenAi;
using ServeGate.LlamaCpp;
using ServeGate.LlamaCpp.Native;
using ServeGate.Worker.Inference;
using ServeGate.Worker.Models;
using ServeGate.Worker.StructuredOutput;
using ServeGate.Worker.Tools;

namespace ServeGate.Worker.Api;

/// <summary>
/// A validated request: which model, which prompts (<see cref="N"/> choices each, choice <c>p * N + i</c> for prompt p),
/// and how to generate. <see cref="Echo"/> holds each prompt's text when the client asked for it back.
/// </summary>
internal sealed record GenerationPlan(
    ServedModel Model,
    IReadOnlyList<LlamaToken[]> Prompts,
    int MaxTokens,
    SamplingSettings Sampling,
    IReadOnlyList<string> Stop,
    bool Stream,
    bool IncludeUsage,
    bool IgnoreEos,
    int? TopLogprobs,
    ToolCallPlan? Tools = null)
{
    public int N { get; init; } = 1;

    public IReadOnlyList<string>? Echo { get; init; }

    public int Choices => Prompts.Count * N;

    /// <summary>Choice <paramref name="choice"/>'s sampling: with a seed, choice i of a prompt uses one derived from it, so choices differ yet repeat.</summary>
    public SamplingSettings SamplingFor(int choice) => Sampling.Seed is { } seed && choice % N is var i and > 0
        ? Sampling with { Seed = unchecked(seed + (uint)i * 0x9E3779B9u) }
        : Sampling;
}

/// <summary>
/// Checks an OpenAI request the way OpenAI does and turns it into a <see cref="GenerationPlan"/>, or into the
/// <see cref="ApiError"/> to answer with (never an exception for bad input).
/// </summary>
internal static class RequestValidator
{
    /// <summary>OpenAI's default max_tokens for legacy completions.</summary>
    private const int CompletionsDefaultMaxTokens = 16;

    /// <summary>The most choices per prompt (<c>n</c>).</summary>
    public const int MaxN = 16;

    /// <summary>The most choices per request (prompts times n): each is a sequence in the scheduler's queue.</summary>
    public const int MaxChoices = 64;

    private static readonly HashSet<string> ChatRoles = new(StringComparer.Ordinal) { "system", "developer", "user", "assistant", "tool" };

    public static ApiError? ResolveModel(ModelRegistry registry, string? modelId, out ServedModel model)
    {
        model = null!;
        if (string.IsNullOrWhiteSpace(modelId))
        {
            return ApiError.InvalidRequest("You must provide a model parameter.", "model", "missing_required_parameter");
        }

        if (!registry.TryGet(modelId, out model))
        {
            if (!registry.Configured)
            {
                return ApiError.Unavailable("The models are still being prepared; retry shortly.", "model_loading");
            }

            return ApiError.ModelNotFound(modelId);
        }

        return StatusError(model);
    }

    /// <summary>Why a known model cannot take requests now (loading, or failed to load or later), or null when ready.</summary>
    public static ApiError? StatusError(ServedModel model) => model.Status switch
    {
        ModelStatus.Loading => ApiError.Unavailable($"The model '{model.Id}' is loading; retry shortly.", "model_loading"),
        ModelStatus.Failed => ApiError.Unavailable($"The model '{model.Id}' {model.Error}", "model_failed"),
        _ => null,
    };

    public static ApiError? ValidateCompletions(ModelRegistry registry, CompletionRequestBody body, out GenerationPlan plan)
    {
        plan = null!;
        var error = ResolveModel(registry, body.Model, out var model) ?? CheckUnsupported(body, chat: false);
        if (error is not null)
        {
            return error;
        }

        error = ParsePrompts(model.Model!, body.Prompt, out var prompts);
        if (error is not null)
        {
            return error;
        }

        var logprobError = ReadCompletionLogprobs(body.Logprobs, out var top);
        if (logprobError is null && body.Echo == true && top is not null)
        {
            return ApiError.InvalidRequest(
                "echo together with logprobs is not supported: ServeGate does not compute the prompt tokens' logprobs. Send echo or logprobs, not both.",
                "echo", "unsupported_parameter");
        }

        error = Build(model, body, prompts, body.MaxTokens, CompletionsDefaultMaxTokens, out plan, logprobError, top);
        if (error is null && body.Echo == true)
        {
            plan = plan with { Echo = EchoTexts(model.Model!, body.Prompt, prompts) };
        }

        return error;
    }

    /// <summary>Each prompt as text: as sent when it was a string, else its tokens' text.</summary>
    private static List<string> EchoTexts(LlamaModel model, JsonElement prompt, IReadOnlyList<LlamaToken[]> prompts)
    {
        if (prompt.ValueKind == JsonValueKind.String)
        {
            return [prompt.GetString()!];
        }

        var texts = new List<string>(prompts.Count);
        var i = 0;
        foreach (var item in prompt.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.Number)
            {
                return [model.Detokenize(prompts[0])];
            }

            texts.Add(item.ValueKind == JsonValueKind.String ? item.GetString()! : model.Detokenize(prompts[i]));
            i++;
        }

        return texts;
    }

    public static ApiError? ValidateChat(ModelRegistry registry, CompletionRequestBody body, out GenerationPlan plan)
    {
        plan = null!;
        var error = ResolveModel(registry, body.Model, out var model) ?? CheckUnsupported(body, chat: true);
        if (error is not null)
        {
            return error;
        }

        if (model.Kind != ModelKind.Instruct)
        {
            return ApiError.InvalidRequest(
                $"The model '{model.Id}' is a base model: it continues text and has no chat template. Use POST /v1/completions with a prompt instead.",
                "model", "model_not_chat");
        }

        error = ToolCallPlan.Read(body, out var tools);
        if (error is not null)
        {
            return error;
        }

        error = ParseMessages(body.Messages, out var turns);
        if (error is not null)
        {
            return error;
        }

        error = ToolPromptFormat.Render(model.Model!, body.Messages!, turns, tools, out turns);
        if (error is not null)
        {
            return error;
        }

        string text;
        try
        {
            text = model.Model!.ApplyChatTemplate(turns, addAssistant: true);
        }
        catch (LlamaException ex)
        {
            return ApiError.InvalidRequest($"The model's chat template could not be applied: {ex.Message}", "messages");
        }

        // The formatted text holds the template's special tokens; a template that writes BOS itself must not get a second one.
        var prompt = model.Model!.Tokenize(text, addSpecial: true, parseSpecial: true);
        if (prompt.Length > 1 && prompt[0] == model.Model.Bos && prompt[1] == model.Model.Bos)
        {
            prompt = prompt[1..];
        }

        var logprobError = ReadChatLogprobs(body, out var top);
        if (logprobError is not null)
        {
            return logprobError;
        }

        return Build(model, body, [prompt], body.MaxCompletionTokens ?? body.MaxTokens, null, out plan, null, top, tools);
    }

    private static ApiError? CheckUnsupported(CompletionRequestBody body, bool chat)
    {
        if (RequestFields.Check(body, chat) is { } unsupported)
        {
            return unsupported;
        }

        if (body.N is { } n && n is < 1 or > MaxN)
        {
            return ApiError.InvalidRequest($"n must be between 1 and {MaxN}, not {n}.", "n");
        }

        var chatOnly = body.Tools.ValueKind != JsonValueKind.Undefined ? "tools"
            : body.ToolChoice.ValueKind != JsonValueKind.Undefined ? "tool_choice"
            : body.ParallelToolCalls is not null ? "parallel_tool_calls"
            : null;
        if (!chat && chatOnly is not null)
        {
            return ApiError.InvalidRequest($"{chatOnly} is a chat completions parameter; POST /v1/chat/completions takes it.", chatOnly, "unsupported_parameter");
        }

        if (body.StreamOptions is not null && body.Stream != true)
        {
            return ApiError.InvalidRequest("stream_options may only be set when stream is true.", "stream_options");
        }

        return null;
    }

    private static ApiError? Build(
        ServedModel model,
        CompletionRequestBody body,
        IReadOnlyList<LlamaToken[]> prompts,
        int? requestedMaxTokens,
        int? defaultMaxTokens,
        out GenerationPlan plan,
        ApiError? logprobError,
        int? topLogprobs,
        ToolCallPlan? tools = null)
    {
        plan = null!;
        if (logprobError is not null)
        {
            return logprobError;
        }

        var range = CheckRange(body.Temperature, 0f, 2f, "temperature")
            ?? CheckRange(body.TopP, 0f, 1f, "top_p")
            ?? CheckRange(body.MinP, 0f, 1f, "min_p")
            ?? CheckRange(body.PresencePenalty, -2f, 2f, "presence_penalty")
            ?? CheckRange(body.FrequencyPenalty, -2f, 2f, "frequency_penalty");
        if (range is not null)
        {
            return range;
        }

        if (body.TopP is 0f)
        {
            return ApiError.InvalidRequest("top_p must be greater than 0.", "top_p");
        }

        if (body.TopK is < 0)
        {
            return ApiError.InvalidRequest("top_k must be 0 (disabled) or positive.", "top_k");
        }

        var maxParam = body.MaxCompletionTokens is not null ? "max_completion_tokens" : "max_tokens";
        if (requestedMaxTokens is < 1)
        {
            return ApiError.InvalidRequest($"{maxParam} must be at least 1.", maxParam);
        }

        var stopError = ParseStop(body.Stop, out var stop);
        if (stopError is not null)
        {
            return stopError;
        }

        var n = body.N ?? 1;
        if (prompts.Count * n > MaxChoices)
        {
            return ApiError.InvalidRequest($"{prompts.Count} prompts with n={n} make {prompts.Count * n} choices; at most {MaxChoices} may be requested at once.", "n");
        }

        var limit = model.Scheduler!.SequenceLimit;
        var longest = prompts.Max(p => p.Length);
        var maxTokens = requestedMaxTokens ?? defaultMaxTokens ?? Math.Max(1, limit - longest);
        if (longest + maxTokens > limit)
        {
            return ApiError.InvalidRequest(
                $"This model's maximum context length is {limit} tokens. However, you requested {longest + maxTokens} tokens ({longest} in the prompt, {maxTokens} in the completion). Please reduce the length of the prompt or completion.",
                requestedMaxTokens is null ? "messages" : maxParam, "context_length_exceeded");
        }

        var constraintError = OutputConstraints.ReadGrammar(model.Model!, body, out var grammar);
        if (constraintError is not null)
        {
            return constraintError;
        }

        constraintError = OutputConstraints.ReadLogitBias(body.LogitBias, model.Model!.VocabSize, out var logitBias);
        if (constraintError is not null)
        {
            return constraintError;
        }

        if (tools?.Grammar is { } toolGrammar)
        {
            if (grammar is not null)
            {
                return ApiError.InvalidRequest("response_format and grammar cannot be combined with a tool_choice that forces a call.", body.Grammar.ValueKind == JsonValueKind.Undefined ? "response_format" : "grammar");
            }

            grammar = toolGrammar;
            constraintError = OutputConstraints.CheckParses(model.Model!, grammar, "tools");
            if (constraintError is not null)
            {
                return constraintError;
            }
        }

        var sampling = new SamplingSettings
        {
            Temperature = body.Temperature ?? 1.0f,
            TopP = body.TopP ?? 1.0f,
            TopK = body.TopK ?? 0,
            MinP = body.MinP ?? 0f,
            PresencePenalty = body.PresencePenalty ?? 0f,
            FrequencyPenalty = body.FrequencyPenalty ?? 0f,
            Seed = body.Seed is { } seed ? unchecked((uint)seed) : null,
            Grammar = grammar,
            LogitBias = logitBias,
        };
        plan = new GenerationPlan(model, prompts, maxTokens, sampling, stop, body.Stream == true,
            body.StreamOptions?.IncludeUsage == true, body.IgnoreEos == true, topLogprobs, tools)
        { N = n };
        return null;
    }

    private static ApiError? CheckRange(float? value, float min, float max, string name) =>
        value is { } v && (float.IsNaN(v) || v < min || v > max)
            ? ApiError.InvalidRequest($"{name} must be between {min} and {max}, not {v}.", name)
            : null;

    private static ApiError? ParsePrompts(LlamaModel model, JsonElement prompt, out IReadOnlyList<LlamaToken[]> prompts)
    {
        prompts = [];
        var list = new List<LlamaToken[]>();
        switch (prompt.ValueKind)
        {
            case JsonValueKind.String:
                list.Add(model.Tokenize(prompt.GetString()!, addSpecial: true, parseSpecial: false));
                break;
            case JsonValueKind.Array when prompt.GetArrayLength() == 0:
                return ApiError.InvalidRequest("prompt must not be an empty array.", "prompt");
            case JsonValueKind.Array when prompt[0].ValueKind == JsonValueKind.Number:
            {
                var error = ParseTokenIds(model, prompt, "prompt", out var ids);
                if (error is not null)
                {
                    return error;
                }

                list.Add(ids);
                break;
            }

            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in prompt.EnumerateArray())
                {
                    var param = $"prompt[{index++}]";
                    if (item.ValueKind == JsonValueKind.String)
                    {
                        list.Add(model.Tokenize(item.GetString()!, addSpecial: true, parseSpecial: false));
                    }
                    else if (item.ValueKind == JsonValueKind.Array && item.GetArrayLength() > 0)
                    {
                        var error = ParseTokenIds(model, item, param, out var ids);
                        if (error is not null)
                        {
                            return error;
                        }

                        list.Add(ids);
                    }
                    else
                    {
                        return ApiError.InvalidRequest($"{param} must be a string or a non-empty array of token ids.", param);
                    }
                }

                break;
            case JsonValueKind.Undefined or JsonValueKind.Null:
                return ApiError.InvalidRequest("You must provide a prompt.", "prompt", "missing_required_parameter");
            default:
                return ApiError.InvalidRequest("prompt must be a string, an array of strings, or an array of token ids.", "prompt");
        }

        if (list.Count > 16)
        {
            return ApiError.InvalidRequest("At most 16 prompts may be sent in one request.", "prompt");
        }

        if (list.Any(p => p.Length == 0))
        {
            return ApiError.InvalidRequest("A prompt must not be empty.", "prompt");
        }

        prompts = list;
        return null;
    }

    internal static ApiError? ParseTokenIds(LlamaModel model, JsonElement array, string param, out LlamaToken[] ids)
    {
        ids = new LlamaToken[array.GetArrayLength()];
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out var id) || id < 0 || id >= model.VocabSize)
            {
                return ApiError.InvalidRequest($"{param}[{i}] is not a token id of this model (0 to {model.VocabSize - 1}).", param);
            }

            ids[i++] = new LlamaToken(id);
        }

        return null;
    }

    private static ApiError? ParseMessages(List<ChatMessageBody>? messages, out List<ChatTurn> turns)
    {
        turns = [];
        if (messages is null || messages.Count == 0)
        {
            return ApiError.InvalidRequest("messages must be a non-empty array.", "messages", messages is null ? "missing_required_parameter" : null);
        }

        for (var i = 0; i < messages.Count; i++)
        {
            var m = messages[i];
            var param = $"messages[{i}]";
            if (m is null || m.Role is null || !ChatRoles.Contains(m.Role))
            {
                return ApiError.InvalidRequest($"{param}.role must be one of system, developer, user, assistant, tool.", $"{param}.role");
            }

            string content;
            switch (m.Content.ValueKind)
            {
                case JsonValueKind.String:
                    content = m.Content.GetString()!;
                    break;
                case JsonValueKind.Array:
                    var parts = new List<string>();
                    foreach (var part in m.Content.EnumerateArray())
                    {
                        if (part.ValueKind != JsonValueKind.Object
                            || !part.TryGetProperty("type", out var type)
                            || type.ValueKind != JsonValueKind.String)
                        {
                            return ApiError.InvalidRequest($"{param}.content parts must be objects with a type.", $"{param}.content");
                        }

                        if (type.GetString() != "text" || !part.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.String)
                        {
                            return ApiError.InvalidRequest($"{param}.content: only text parts are supported by this model.", $"{param}.content");
                        }

                        parts.Add(text.GetString()!);
                    }

                    content = string.Concat(parts);
                    break;
                case JsonValueKind.Null or JsonValueKind.Undefined when m.Role == "assistant":
                    content = string.Empty;
                    break;
                default:
                    return ApiError.InvalidRequest($"{param}.content must be a string or an array of text parts.", $"{param}.content");
            }

            // Templates know system; developer is OpenAI's newer name for it.
            turns.Add(new ChatTurn(m.Role == "developer" ? "system" : m.Role, content));
        }

        return null;
    }

    private static ApiError? ParseStop(JsonElement stop, out IReadOnlyList<string> stops)
    {
        stops = [];
        switch (stop.ValueKind)
        {
            case JsonValueKind.Undefined or JsonValueKind.Null:
                return null;
            case JsonValueKind.String:
                var single = stop.GetString()!;
                if (single.Length == 0)
                {
                    return ApiError.InvalidRequest("stop must not be an empty string.", "stop");
                }

                stops = [single];
                return null;
            case JsonValueKind.Array:
                var list = new List<string>();
                foreach (var item in stop.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.String || item.GetString()!.Length == 0)
                    {
                        return ApiError.InvalidRequest("stop must be a string or an array of non-empty strings.", "stop");
                    }

                    list.Add(item.GetString()!);
                }

                if (list.Count > 4)
                {
                    return ApiError.InvalidRequest($"stop may hold at most 4 sequences, not {list.Count}.", "stop");
                }

                stops = list;
                return null;
            default:
                return ApiError.InvalidRequest("stop must be a string or an array of up to 4 strings.", "stop");
        }
    }

    private static ApiError? ReadCompletionLogprobs(JsonElement logprobs, out int? top)
    {
        top = null;
        switch (logprobs.ValueKind)
        {
            case JsonValueKind.Undefined or JsonValueKind.Null:
                return null;
            case JsonValueKind.Number when logprobs.TryGetInt32(out var n) && n is >= 0 and <= 5:
                top = n;
                return null;
            default:
                return ApiError.InvalidRequest("logprobs must be an integer from 0 to 5 for completions.", "logprobs");
        }
    }

    private static ApiError? ReadChatLogprobs(CompletionRequestBody body, out int? top)
    {
        top = null;
        var enabled = body.Logprobs.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False or JsonValueKind.Undefined or JsonValueKind.Null => false,
            _ => (bool?)null,
        };
        if (enabled is null)
        {
            return ApiError.InvalidRequest("logprobs must be a boolean for chat completions.", "logprobs");
        }

        if (body.TopLogprobs is { } n)
        {
            if (n is < 0 or > Logprobs.MaxTop)
            {
                return ApiError.InvalidRequest($"top_logprobs must be between 0 and {Logprobs.MaxTop}.", "top_logprobs");
            }

            if (enabled != true)
            {
                return ApiError.InvalidRequest("top_logprobs requires logprobs to be true.", "top_logprobs");
            }
        }

        top = enabled == true ? body.TopLogprobs ?? 0 : null;
        return null;
    }
}

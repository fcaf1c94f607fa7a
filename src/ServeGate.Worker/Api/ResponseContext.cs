using ServeGate.Core.OpenAi;
using ServeGate.Worker.Inference;
using ServeGate.Worker.Tools;

namespace ServeGate.Worker.Api;

/// <summary>The fixed parts of one response (id, creation time, model) and the builders of its bodies and chunks.</summary>
internal sealed record ResponseContext(string Id, long Created, string Model, bool Chat, GenerationPlan Plan)
{
    public static string Finish(FinishReason reason) => reason == FinishReason.Length ? "length" : "stop";

    /// <summary>The prompt's text before choice <paramref name="choice"/>'s completion when echo was asked for, else empty.</summary>
    public string EchoText(int choice) => Plan.Echo is { } echo ? echo[choice / Plan.N] : string.Empty;

    /// <summary>
    /// Usage as OpenAI counts it: each prompt once (its n choices share it), completion tokens over every choice. A
    /// prompt's cached tokens are those of the choice that computed it (the least cached): the others reuse its cells.
    /// Compute is every sequence's.
    /// </summary>
    public static Usage Usage(IReadOnlyList<GenerationResult> results, int n = 1)
    {
        var perPrompt = results.Chunk(n).ToList();
        var prompt = perPrompt.Sum(c => c[0].PromptTokens);
        var completion = results.Sum(r => r.CompletionTokens);
        return new Usage
        {
            PromptTokens = prompt,
            CompletionTokens = completion,
            TotalTokens = prompt + completion,
            PromptTokensDetails = new PromptTokensDetails { CachedTokens = perPrompt.Sum(c => c.Min(r => r.CachedTokens)) },
            Metering = new UsageMetering
            {
                QueueMs = Math.Round(results.Max(r => r.QueueMs), 3),
                TimeToFirstTokenMs = Math.Round(results.Max(r => r.TimeToFirstTokenMs), 3),
                DurationMs = Math.Round(results.Max(r => r.DurationMs), 3),
                ComputeSeconds = results.Sum(r => r.ComputeSeconds),
                PromptSeconds = results.Sum(r => r.PromptSeconds),
            },
        };
    }

    /// <summary>
    /// A finished chat choice: its text, or, when the request has tools and the model called them, the calls parsed out
    /// of the text (<see cref="ToolPromptFormat.Parse"/>) with <c>finish_reason: "tool_calls"</c>, or <c>"length"</c>
    /// when the token limit cut the generation (its finished calls kept, an unfinished one dropped).
    /// </summary>
    public ChatChoice ChatMessageChoice(int index, GenerationResult result, string text, IReadOnlyList<TokenLogprob>? logprobs)
    {
        var output = ParseToolCalls(result, text);
        return new ChatChoice
        {
            Index = index,
            Message = new ChatResponseMessage { Content = output.Content, ToolCalls = output.Calls.Count == 0 ? null : [.. output.Calls.Select(ToWire)] },
            Logprobs = ChatLogprobs(logprobs),
            FinishReason = output.Calls.Count > 0 && result.FinishReason == FinishReason.Stop ? "tool_calls" : Finish(result.FinishReason),
        };
    }

    /// <summary>The calls in a choice's text when the request lets the model call tools and generation stopped or was cut off.</summary>
    public ToolOutput ParseToolCalls(GenerationResult result, string text) => Plan.Tools is { ParsesCalls: true } tools
        ? result.FinishReason switch
        {
            FinishReason.Stop => ToolPromptFormat.Parse(text, tools.Functions, tools.Parallel),
            FinishReason.Length => ToolPromptFormat.ParseCutOff(text, tools.Functions, tools.Parallel),
            _ => new ToolOutput(text, []),
        }
        : new ToolOutput(text, []);

    /// <summary>A stream delta of an answer with tools as OpenAI sends it: content, a call's opening (index, id, type, name, empty arguments) or an arguments fragment.</summary>
    public static ChatMessageOut ToolStreamChunk(ToolStreamDelta delta) => delta.Content is not null
        ? new ChatMessageOut { Content = delta.Content }
        : new ChatMessageOut
        {
            ToolCalls =
            [
                new ChatToolCall
                {
                    Index = delta.CallIndex,
                    Id = delta.CallId,
                    Type = delta.CallId is null ? null : "function",
                    Function = new ChatFunctionCall { Name = delta.Name, Arguments = delta.Arguments },
                },
            ],
        };

    private static ChatToolCall ToWire(ParsedToolCall call) => new()
    {
        Id = call.Id,
        Type = "function",
        Function = new ChatFunctionCall { Name = call.Name, Arguments = call.Arguments },
    };

    public ChatCompletionChunk ChatChunk(int index, ChatMessageOut delta, string? finishReason, ChatLogprobs? logprobs) => new()
    {
        Id = Id,
        Created = Created,
        Model = Model,
        Choices = [new ChatChoice { Index = index, Delta = delta, FinishReason = finishReason, Logprobs = logprobs }],
    };

    public CompletionResponse CompletionChunk(int index, string text, string? finishReason, CompletionLogprobs? logprobs) => new()
    {
        Id = Id,
        Created = Created,
        Model = Model,
        Choices = [new CompletionChoice { Index = index, Text = text, FinishReason = finishReason, Logprobs = logprobs }],
        Usage = null,
    };

    public object UsageChunk(Usage usage) => Chat
        ? new ChatCompletionChunk { Id = Id, Created = Created, Model = Model, Choices = [], Usage = usage }
        : new CompletionResponse { Id = Id, Created = Created, Model = Model, Choices = [], Usage = usage };

    public static ChatLogprobs? ChatLogprobs(IReadOnlyList<TokenLogprob>? logprobs) => logprobs is null
        ? null
        : new ChatLogprobs
        {
            Content = [.. logprobs.Select(l => new ChatTokenLogprob
            {
                Token = l.Token,
                Logprob = l.Logprob,
                Bytes = [.. l.Bytes.Select(b => (int)b)],
                TopLogprobs = [.. l.Top.Select(t => new ChatTopLogprob { Token = t.Token, Logprob = t.Logprob, Bytes = [.. t.Bytes.Select(b => (int)b)] })],
            })],
        };

    public static CompletionLogprobs? CompletionLogprobs(IReadOnlyList<TokenLogprob>? logprobs)
    {
        if (logprobs is null)
        {
            return null;
        }

        var offsets = new List<int>(logprobs.Count);
        var offset = 0;
        foreach (var l in logprobs)
        {
            offsets.Add(offset);
            offset += l.Token.Length;
        }

        return new CompletionLogprobs
        {
            Tokens = [.. logprobs.Select(l => l.Token)],
            TokenLogprobs = [.. logprobs.Select(l => l.Logprob)],
            TopLogprobs = [.. logprobs.Select(l => l.Top.GroupBy(t => t.Token).ToDictionary(g => g.Key, g => g.First().Logprob))],
            TextOffset = offsets,
        };
    }
}

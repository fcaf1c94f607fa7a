namespace ServeGate.LoadTests.Workload;

/// <summary>One request to send: either a completion prompt or a chat message list, and its output budget.</summary>
/// <param name="Index">Position in the workload; the same seed and index always give the same request.</param>
/// <param name="Prompt">Prompt text; for the chat endpoint it becomes a single user message.</param>
/// <param name="MessagesJson">A chat message array as raw JSON (from a prompts file), sent as is.</param>
/// <param name="MaxTokens">Sent as <c>max_tokens</c>.</param>
/// <param name="ApproxPromptTokens">Prompt length in words, the stand-in for tokens when the server reports no usage.</param>
internal sealed record RequestSpec(long Index, string? Prompt, string? MessagesJson, int MaxTokens, int ApproxPromptTokens);

/// <summary>Gives the request for a workload index. Implementations are deterministic and thread-safe.</summary>
internal interface IWorkload
{
    RequestSpec Get(long index);
}

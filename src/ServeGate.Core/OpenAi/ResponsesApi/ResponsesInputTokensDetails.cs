namespace ServeGate.Core.OpenAi;

public sealed class ResponsesInputTokensDetails
{
    /// <summary>Input tokens whose KV cells were reused from the prefix cache.</summary>
    public int CachedTokens { get; init; }
}

namespace ServeGate.Core.OpenAi;

public sealed class ResponsesOutputTokensDetails
{
    /// <summary>Always 0: ServeGate's models do not produce separate reasoning items.</summary>
    public int ReasoningTokens { get; init; }
}

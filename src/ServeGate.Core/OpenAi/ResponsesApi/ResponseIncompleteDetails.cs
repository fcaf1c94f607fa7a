namespace ServeGate.Core.OpenAi;

/// <summary>Why a response is <c>incomplete</c>: <c>max_output_tokens</c> (or the context limit).</summary>
public sealed class ResponseIncompleteDetails
{
    public required string Reason { get; init; }
}

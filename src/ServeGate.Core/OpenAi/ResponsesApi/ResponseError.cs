namespace ServeGate.Core.OpenAi;

/// <summary>Why a response failed (<c>status: "failed"</c>).</summary>
public sealed class ResponseError
{
    public required string Code { get; init; }

    public required string Message { get; init; }
}

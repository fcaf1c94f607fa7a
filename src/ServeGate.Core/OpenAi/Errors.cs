using System.Text.Json.Serialization;

namespace ServeGate.Core.OpenAi;

/// <summary>The OpenAI error envelope: <c>{"error": {"message", "type", "param", "code"}}</c>.</summary>
public sealed class ErrorEnvelope
{
    public required ErrorBody Error { get; init; }
}

public sealed class ErrorBody
{
    public required string Message { get; init; }

    public required string Type { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? Param { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? Code { get; init; }
}

/// <summary>An error to answer with: HTTP status plus the envelope's fields.</summary>
public sealed record ApiError(int Status, string Message, string Type, string? Param = null, string? Code = null)
{
    public static ApiError InvalidRequest(string message, string? param = null, string? code = null) =>
        new(400, message, "invalid_request_error", param, code);

    public static ApiError ModelNotFound(string model) =>
        new(404, $"The model '{model}' does not exist. GET /v1/models lists the models served here.", "invalid_request_error", "model", "model_not_found");

    public static ApiError Overloaded(string message) => new(429, message, "rate_limit_error", null, "server_overloaded");

    public static ApiError Unavailable(string message, string? code = null) => new(503, message, "server_error", null, code ?? "service_unavailable");

    public static ApiError Internal(string message) => new(500, message, "server_error", null, "internal_error");

    public ErrorEnvelope ToEnvelope() => new() { Error = new ErrorBody { Message = Message, Type = Type, Param = Param, Code = Code } };
}

using ServeGate.Core.OpenAi;

namespace ServeGate.Gateway.Pipeline;

/// <summary>Answers with the OpenAI error envelope.</summary>
internal static class GatewayErrors
{
    public static Task WriteAsync(HttpContext context, ApiError error)
    {
        context.Response.StatusCode = error.Status;
        return context.Response.WriteAsJsonAsync(error.ToEnvelope(), OpenAiJson.Context.ErrorEnvelope, contentType: "application/json");
    }
}

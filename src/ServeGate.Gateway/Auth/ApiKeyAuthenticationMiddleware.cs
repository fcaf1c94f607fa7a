using ServeGate.Core.OpenAi;
using ServeGate.Gateway.Pipeline;

namespace ServeGate.Gateway.Auth;

/// <summary>
/// Every <c>/v1</c> request: finds the caller's <see cref="ApiKey"/> from <c>Authorization: Bearer</c> (401
/// <c>invalid_api_key</c> otherwise), or the <c>local</c> account in open local mode, and stores it as a feature.
/// </summary>
internal sealed partial class ApiKeyAuthenticationMiddleware(RequestDelegate next, IApiKeyStore keys, AccessPolicy policy, ILogger<ApiKeyAuthenticationMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var bearer = AccessPolicy.Bearer(context);
        ApiKey? key;
        try
        {
            key = await policy.FindCallerAsync(keys, bearer, context.RequestAborted).ConfigureAwait(false);
        }
        catch (KeyStoreUnavailableException ex)
        {
            Log.KeyStoreUnavailable(logger, ex);
            await GatewayErrors.WriteAsync(context, ApiError.Unavailable("API keys cannot be verified right now; retry later.", "key_store_unavailable")).ConfigureAwait(false);
            return;
        }

        if (key is null)
        {
            await GatewayErrors.WriteAsync(context, new ApiError(
                StatusCodes.Status401Unauthorized,
                bearer is null
                    ? "You didn't provide an API key. Send it in the Authorization header: 'Authorization: Bearer YOUR_KEY'."
                    : "Incorrect API key provided.",
                "invalid_request_error",
                null,
                "invalid_api_key")).ConfigureAwait(false);
            return;
        }

        context.Features.Set(key);
        if (GatewayRequest.Of(context) is { } request)
        {
            request.KeyId = key.Id;
            request.Team = key.Team;
        }

        await next(context).ConfigureAwait(false);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = GatewayLogEvents.KeyStoreUnavailable, Level = LogLevel.Warning, Message = "The API key store is unavailable.")]
        public static partial void KeyStoreUnavailable(ILogger logger, Exception exception);
    }
}

/// <summary>After the body was read: 403 when the key may not use the model it names.</summary>
internal sealed class ModelAccessMiddleware(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var key = context.Features.Get<ApiKey>()!;
        var request = GatewayRequest.Of(context)!;
        if (request.Model.Length > 0 && !key.Allows(request.Model))
        {
            await GatewayErrors.WriteAsync(context, new ApiError(
                StatusCodes.Status403Forbidden,
                $"This API key may not use the model '{request.Model}'.",
                "invalid_request_error",
                "model",
                "model_not_allowed")).ConfigureAwait(false);
            return;
        }

        await next(context).ConfigureAwait(false);
    }
}

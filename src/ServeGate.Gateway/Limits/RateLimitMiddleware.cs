using Microsoft.Extensions.Options;
using ServeGate.Core.Limits;
using ServeGate.Core.OpenAi;
using ServeGate.Gateway.Auth;
using ServeGate.Gateway.Pipeline;

namespace ServeGate.Gateway.Limits;

/// <summary>
/// Reserves the request against its key's and team's limits: 429 with <c>Retry-After</c> and OpenAI's
/// <c>x-ratelimit-*</c> headers when over, else the headers on the response and the reservation on the request (settled
/// by <see cref="RateLimiter"/> once metered). Counters unreachable: fail open or closed as configured.
/// </summary>
internal sealed partial class RateLimitMiddleware(RequestDelegate next, RateLimiter limiter, IOptions<GatewayOptions> options, ILogger<RateLimitMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var key = context.Features.Get<ApiKey>()!;
        var request = GatewayRequest.Of(context)!;
        LimitDecision? decision;
        try
        {
            decision = await limiter.ReserveAsync(key, request, context.RequestAborted).ConfigureAwait(false);
        }
        catch (RateLimitStoreUnavailableException ex)
        {
            if (options.Value.Limits.FailMode == LimitFailMode.Closed)
            {
                Log.StoreUnavailable(logger, "closed", ex);
                context.Response.Headers.RetryAfter = "5";
                await GatewayErrors.WriteAsync(context, ApiError.Unavailable("Rate limits cannot be checked right now; retry later.", "rate_limit_store_unavailable")).ConfigureAwait(false);
                return;
            }

            Log.StoreUnavailable(logger, "open", ex);
            decision = null;
        }

        if (decision is not null)
        {
            foreach (var (name, value) in decision.Headers)
            {
                context.Response.Headers[name] = value;
            }

            if (!decision.Allowed)
            {
                context.Response.Headers.RetryAfter = ((long)Math.Ceiling(decision.RetryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                await GatewayErrors.WriteAsync(context, new ApiError(
                    StatusCodes.Status429TooManyRequests,
                    decision.Refusal!,
                    decision.Budget ? "insufficient_quota" : "requests",
                    null,
                    decision.Budget ? "insufficient_quota" : "rate_limit_exceeded")).ConfigureAwait(false);
                return;
            }

            request.Reservation = decision.Reservation;
        }

        await next(context).ConfigureAwait(false);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = GatewayLogEvents.LimitStoreUnavailable, Level = LogLevel.Warning, Message = "The rate-limit store is unavailable; failing {Mode}.")]
        public static partial void StoreUnavailable(ILogger logger, string mode, Exception exception);
    }
}

using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using ServeGate.Economics.Pricing;
using ServeGate.Gateway.Economics;
using ServeGate.Gateway.Pipeline;
using ServeGate.Ledger;
using ServeGate.Worker.Api;
using Yarp.ReverseProxy.Forwarder;

namespace ServeGate.Gateway.Metering;

/// <summary>
/// The outermost step of the inference pipeline: gives the request its <see cref="GatewayRequest"/>, watches the
/// response through a <see cref="MeteringResponseStream"/>, and when the response ends (sent, refused, failed or
/// abandoned by the client) hands exactly one <see cref="UsageRecord"/> to the <see cref="UsageWriter"/> and to every
/// <see cref="IUsageObserver"/> (limits settle, metrics count).
/// </summary>
internal sealed partial class MeteringMiddleware(
    RequestDelegate next,
    UsageWriter writer,
    IEnumerable<IUsageObserver> observers,
    WorkerUsageLookup lookup,
    UsagePricer pricer,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<MeteringMiddleware> logger)
{
    private readonly IUsageObserver[] _observers = [.. observers];

    public async Task InvokeAsync(HttpContext context)
    {
        var request = new GatewayRequest
        {
            RequestId = "req-" + RandomNumberGenerator.GetHexString(24, lowercase: true),
            StartTimestamp = time.GetTimestamp(),
            ReceivedAt = time.GetUtcNow(),
        };
        context.Features.Set(request);
        context.Response.Headers["x-request-id"] = request.RequestId;
        // The worker (in this process or behind the proxy) files its usage under the same id.
        context.Request.Headers[FinalUsageRegistry.RequestIdHeader] = request.RequestId;

        var usage = new ResponseUsage();
        var originalBody = context.Features.Get<IHttpResponseBodyFeature>()!;
        var stream = new MeteringResponseStream(
            originalBody.Stream,
            () => context.Response.ContentType?.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase) == true,
            () => request.ClientWantsUsage, // known once the body was read, before anything is written
            usage,
            time);
        var meteredBody = new StreamResponseBodyFeature(stream, originalBody);
        context.Features.Set<IHttpResponseBodyFeature>(meteredBody);
        UsageRecord? record = null;
        try
        {
            try
            {
                await next(context).ConfigureAwait(false);
            }
            catch (Exception ex) when (context.RequestAborted.IsCancellationRequested && ex is OperationCanceledException or IOException)
            {
                // The client left while we were writing: metered below as cancelled.
            }
            catch (Exception) when (!context.Response.HasStarted)
            {
                context.Response.StatusCode = StatusCodes.Status500InternalServerError; // what the server will answer; metered as failed
                throw;
            }

            // The end of the response (held back by the stream) is sent only once the record is durable in the spool:
            // a client that saw a response finish finds it in the ledger even if the gateway is killed right after.
            // Bytes an endpoint left in the response's pipe writer (a Utf8JsonWriter over BodyWriter) reach the stream
            // only when the feature completes: complete it first, or the body's tail would be held and never sent.
            await meteredBody.CompleteAsync().ConfigureAwait(false);
            stream.Finish();
            record = await MeterAsync(context, request, usage, stream).ConfigureAwait(false);
            await stream.ReleaseAsync(context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception ex) when (context.RequestAborted.IsCancellationRequested && ex is OperationCanceledException or IOException)
        {
            // The client left while the end was sent: it is metered already.
        }
        finally
        {
            context.Features.Set(originalBody);
            record ??= await MeterAsync(context, request, usage, stream).ConfigureAwait(false);
            foreach (var observer in _observers)
            {
                try
                {
                    await observer.OnUsageAsync(request, record).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    Log.ObserverFailed(logger, observer.GetType().Name, ex);
                }
            }
        }
    }

    /// <summary>Builds the request's one record (asking the worker for a cut-short response's usage) and spools it.</summary>
    private async Task<UsageRecord> MeterAsync(HttpContext context, GatewayRequest request, ResponseUsage usage, MeteringResponseStream stream)
    {
        if (usage.Usage is null && request.Model.Length > 0 && (context.RequestAborted.IsCancellationRequested || context.Response.StatusCode < 400)
            && await lookup.FindAsync(request).ConfigureAwait(false) is { } reported)
        {
            usage.Settle(reported); // cut short: what the worker generated, not an estimate
        }

        var record = Build(context, request, usage, stream);
        await writer.WriteAsync(record, CancellationToken.None).ConfigureAwait(false);
        return record;
    }

    private UsageRecord Build(HttpContext context, GatewayRequest request, ResponseUsage usage, MeteringResponseStream stream)
    {
        var now = time.GetTimestamp();

        // A worker that went away mid-response: the proxy cut the client's stream (it cannot change a status already
        // sent), which looks like a client that left. It is the worker's failure: 502, and what was streamed.
        var workerFailed = context.Response.HasStarted
            && context.Features.Get<IForwarderErrorFeature>()?.Error is ForwarderError.ResponseBodyDestination;
        var cancelled = context.RequestAborted.IsCancellationRequested && !workerFailed;
        var status = workerFailed ? StatusCodes.Status502BadGateway : context.Response.StatusCode;
        var exact = usage.Usage;
        var prompt = exact?.PromptTokens ?? (int)Math.Min(int.MaxValue, request.BodyBytes / 4);
        var cached = exact?.PromptTokensDetails?.CachedTokens ?? 0; // absent from an embeddings usage (null when deserialized)
        var completion = exact?.CompletionTokens ?? usage.ContentChunks;
        var failed = status >= 400;
        if (failed && exact is null && !workerFailed)
        {
            prompt = 0; // refused or failed before generating: nothing to bill
        }

        var firstToken = request.Stream ? usage.FirstContentTimestamp : stream.FirstByteTimestamp;
        var computeSeconds = exact?.Metering?.ComputeSeconds ?? 0;
        return new UsageRecord
        {
            RequestId = request.RequestId,
            Timestamp = request.ReceivedAt,
            KeyId = request.KeyId,
            Team = request.Team,
            Model = request.Model,
            Worker = request.Worker,
            Endpoint = context.Request.Path.Value ?? string.Empty,
            Stream = request.Stream,
            PromptTokens = prompt,
            CachedTokens = cached,
            CompletionTokens = completion,
            Estimated = exact is null && (!failed || workerFailed),
            ComputeSeconds = computeSeconds,
            LatencyMs = time.GetElapsedTime(request.StartTimestamp, now).TotalMilliseconds,
            TimeToFirstTokenMs = firstToken is { } t ? time.GetElapsedTime(request.StartTimestamp, t).TotalMilliseconds : null,
            QueueMs = exact?.Metering?.QueueMs,
            // 499 (client closed request) when the client left before a success status reached it; the proxy answers
            // its own 400 for a client that cancelled, which no one received.
            HttpStatus = cancelled && (!context.Response.HasStarted || failed) ? 499 : status,
            Outcome = cancelled ? UsageOutcome.Cancelled : failed ? UsageOutcome.Failed : UsageOutcome.Completed,
            FinishReason = cancelled ? null : usage.FinishReason,
            CostUsd = options.Value.PriceOf(request.Model)?.Cost(prompt, cached, completion) ?? 0m,
            Charges = Price(request, prompt, cached, completion, computeSeconds, exact?.Metering?.PromptSeconds ?? 0),
        };
    }

    /// <summary>The request's economics (a refused one: zero, still naming its pool and checkpoint); never fails the request.</summary>
    private UsageCharges? Price(GatewayRequest request, int prompt, int cached, int completion, double computeSeconds, double promptSeconds)
    {
        try
        {
            return pricer.Price(new UsageToPrice
            {
                Model = request.Model,
                Pool = request.Pool,
                PromptTokens = prompt,
                CachedTokens = cached,
                CompletionTokens = completion,
                ComputeSeconds = computeSeconds,
                PromptSeconds = promptSeconds,
            }).ToCharges();
        }
        catch (ArithmeticException ex)
        {
            Log.PricingFailed(logger, request.Model, ex);
            return null;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = GatewayLogEvents.UsageObserverFailed, Level = LogLevel.Error, Message = "Usage observer {Observer} failed.")]
        public static partial void ObserverFailed(ILogger logger, string observer, Exception exception);

        [LoggerMessage(EventId = GatewayLogEvents.PricingFailed, Level = LogLevel.Error, Message = "Pricing a request of model {Model} failed; its record carries no charges.")]
        public static partial void PricingFailed(ILogger logger, string model, Exception exception);
    }
}

/// <summary>Told of every usage record as it is written: limits settle reservations, metrics count.</summary>
internal interface IUsageObserver
{
    ValueTask OnUsageAsync(GatewayRequest request, UsageRecord record);
}

using System.Net;
using System.Text.Json;
using ServeGate.Core.OpenAi;
using ServeGate.Gateway.Pipeline;
using Yarp.ReverseProxy.Forwarder;

namespace ServeGate.Gateway.Routing;

/// <summary>
/// The OpenAI endpoints when the workers are remote: completions, responses and embeddings are forwarded with YARP's <see cref="IHttpForwarder"/>
/// (streamed through, never buffered) to the destination <see cref="WorkerPool"/> chooses, retried on another worker only
/// while nothing was sent to the client; <c>/v1/models</c> lists the models of every healthy worker.
/// </summary>
internal static partial class RemoteWorkerApi
{
    public const string ClientName = "servegate-workers";

    public static IEndpointRouteBuilder MapRemoteWorkerApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/health", () => TypedResults.Ok(new { status = "alive" }));
        endpoints.MapGet("/ready", (WorkerPool pool) => pool.Destinations.Any(d => d.Healthy)
            ? Results.Ok(new { status = "ready" })
            : Results.Json(new { status = "no healthy worker" }, statusCode: StatusCodes.Status503ServiceUnavailable));
        var v1 = endpoints.MapGroup("/v1");
        v1.MapGet("/models", ListModelsAsync);
        v1.MapPost("/completions", ForwardAsync);
        v1.MapPost("/chat/completions", ForwardAsync);
        v1.MapPost("/embeddings", ForwardAsync);
        v1.MapPost("/responses", ForwardAsync);
        return endpoints;
    }

    private static async Task<IResult> ListModelsAsync(WorkerPool pool, IHttpClientFactory clients, CancellationToken cancellationToken)
    {
        var client = clients.CreateClient(WorkerHealthProbe.ClientName);
        var lists = await Task.WhenAll(pool.Destinations.Where(d => d.Healthy).Select(async d =>
        {
            try
            {
                await using var stream = await client.GetStreamAsync(new Uri(d.Url + "/v1/models"), cancellationToken).ConfigureAwait(false);
                return (await JsonSerializer.DeserializeAsync(stream, OpenAiJson.Context.ModelList, cancellationToken).ConfigureAwait(false))?.Data ?? [];
            }
            catch (Exception ex) when (ex is HttpRequestException or JsonException)
            {
                return [];
            }
        })).ConfigureAwait(false);
        var models = lists.SelectMany(l => l).GroupBy(m => m.Id, StringComparer.Ordinal).Select(g => g.First()).OrderBy(m => m.Id, StringComparer.Ordinal).ToList();
        return TypedResults.Json(new ModelList { Data = models }, OpenAiJson.Context.ModelList);
    }

    private static async Task ForwardAsync(HttpContext context, WorkerPool pool, IHttpForwarder forwarder, ForwarderInvoker invoker, ILoggerFactory loggers)
    {
        var request = GatewayRequest.Of(context)!;
        if (!pool.AnyServes(request.Model))
        {
            await GatewayErrors.WriteAsync(context, ApiError.ModelNotFound(request.Model)).ConfigureAwait(false);
            return;
        }

        var tried = new List<WorkerDestination>();
        while (true)
        {
            var destination = pool.Choose(request.Model, request.PromptPrefix, tried);
            if (destination is null)
            {
                context.Response.Headers.RetryAfter = "2";
                await GatewayErrors.WriteAsync(context, ApiError.Unavailable($"No healthy worker serves '{request.Model}' right now; retry later.", "no_healthy_worker")).ConfigureAwait(false);
                return;
            }

            request.Worker = destination.Url;
            request.Pool = destination.Pool;
            if (context.Request.Body.CanSeek)
            {
                context.Request.Body.Position = 0;
            }

            ForwarderError error;
            destination.Enter();
            try
            {
                error = await forwarder.SendAsync(context, destination.Url, invoker.Client, ForwarderRequestConfig.Empty, WorkerTransformer.Instance).ConfigureAwait(false);
            }
            finally
            {
                destination.Leave();
            }

            if (error == ForwarderError.None)
            {
                return;
            }

            // Passive health: a worker that failed a request is out until its next good probe.
            destination.Healthy = false;
            Log.ForwardFailed(loggers.CreateLogger(typeof(RemoteWorkerApi).FullName!), destination.Url, error.ToString());
            if (context.Response.HasStarted || context.RequestAborted.IsCancellationRequested || error is not (ForwarderError.Request or ForwarderError.RequestTimedOut))
            {
                return; // something reached the client (or it left): a retry would duplicate or mix output
            }

            tried.Add(destination);
            context.Response.Clear();
            context.Response.StatusCode = (int)HttpStatusCode.OK;
        }
    }

    /// <summary>Forwards as is, minus the client's API key (the worker trusts the gateway, and keys stay in it).</summary>
    private sealed class WorkerTransformer : HttpTransformer
    {
        public static WorkerTransformer Instance { get; } = new();

        public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
        {
            await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken).ConfigureAwait(false);
            proxyRequest.Headers.Authorization = null;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = GatewayLogEvents.ForwardFailed, Level = LogLevel.Warning, Message = "Forwarding to worker {Worker} failed ({Error}); marked unhealthy.")]
        public static partial void ForwardFailed(ILogger logger, string worker, string error);
    }
}

/// <summary>The one pooled client to the workers (no proxy, redirects, cookies or decompression: bytes pass as they are).</summary>
internal sealed class ForwarderInvoker : IDisposable
{
    public HttpMessageInvoker Client { get; } = new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        ConnectTimeout = TimeSpan.FromSeconds(2),
        EnableMultipleHttp2Connections = true,
    });

    public void Dispose() => Client.Dispose();
}

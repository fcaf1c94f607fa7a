using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using ServeGate.Gateway.Admin;
using ServeGate.Core.Limits;
using ServeGate.Gateway.Auth;
using ServeGate.Gateway.Economics;
using ServeGate.Gateway.Limits;
using ServeGate.Gateway.Metrics;
using ServeGate.Gateway.Routing;
using ServeGate.Gateway.Metering;
using ServeGate.Gateway.Pipeline;
using ServeGate.Gateway.Reports;
using ServeGate.Ledger;
using ServeGate.Ledger.Postgres;
using ServeGate.Redis;

namespace ServeGate.Gateway;

/// <summary>
/// The gateway in front of the OpenAI endpoints. Every inference request takes the same path, whether the worker runs
/// in this process or behind the proxy:
/// <c>MeteringMiddleware</c> (one usage record per request) → <c>ApiKeyAuthenticationMiddleware</c> (401) →
/// <c>InferenceRequestReader</c> (model, stream, usage chunk) → <c>ModelAccessMiddleware</c> (403) → <c>RateLimitMiddleware</c> (429) → the endpoint.
/// </summary>
public static class GatewayServiceCollectionExtensions
{
    public static WebApplicationBuilder AddServeGateGateway(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<GatewayOptions>().BindConfiguration(GatewayOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GatewayOptions>, GatewayOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.AddServeGateEconomics(); // before the ledger: it prices the pools' up-time (IPoolPriceSource)
        // With Metering:Store=Postgres, replicas share one ledger (the SQLite file is per gateway).
        services.AddServeGatePostgresLedger();
        services.AddServeGateLedger();
        services.TryAddSingleton<AccessPolicy>();
        // With Limits:Store=Redis, replicas share one connection for limit counters and API keys.
        services.TryAddSingleton(sp => RedisConnection.Connect(LimitsOf(sp).Redis, TimeSpan.FromSeconds(1)));
        services.TryAddSingleton<IApiKeyStore>(sp => LimitsOf(sp) is { Store: LimitStoreKind.Redis } limits
            ? new RedisApiKeyStore(new RedisKeyDirectory(sp.GetRequiredService<StackExchange.Redis.ConnectionMultiplexer>(), limits.KeyPrefix), limits.FailMode, sp.GetRequiredService<TimeProvider>())
            : ActivatorUtilities.CreateInstance<SqliteApiKeyStore>(sp));
        services.AddHostedService<OpenAccessGuard>();
        services.TryAddSingleton<IRateLimitStore>(sp => LimitsOf(sp).Store == LimitStoreKind.Redis
            ? new RedisRateLimitStore(sp.GetRequiredService<StackExchange.Redis.ConnectionMultiplexer>())
            : new InProcessRateLimitStore(sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<SettlementSpool>();
        services.AddHostedService(sp => sp.GetRequiredService<SettlementSpool>());
        services.TryAddSingleton<RateLimiter>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IUsageObserver, RateLimiter>(sp => sp.GetRequiredService<RateLimiter>()));
        services.TryAddSingleton<GatewayMetrics>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IUsageObserver, GatewayMetrics>(sp => sp.GetRequiredService<GatewayMetrics>()));
        services.TryAddSingleton<PrometheusExporter>();
        services.TryAddSingleton<WorkerUsageLookup>();
        services.TryAddSingleton<WorkerPool>();
        services.TryAddSingleton<ForwarderInvoker>();
        services.AddHttpForwarder();
        services.AddHttpClient(WorkerHealthProbe.ClientName, client => client.Timeout = TimeSpan.FromSeconds(5));
        services.AddHostedService<WorkerHealthProbe>();
        services.AddHostedService<ServeGate.Gateway.Reports.PoolUptimeRecorder>();
        return builder;
    }

    private static LimitsOptions LimitsOf(IServiceProvider services) => services.GetRequiredService<IOptions<GatewayOptions>>().Value.Limits;

    /// <summary>True when <c>ServeGate:Gateway:Workers</c> names remote workers (else the worker runs in this process).</summary>
    public static bool HasRemoteWorkers(this IConfiguration configuration) =>
        configuration.GetSection(GatewayOptions.SectionName + ":Workers").GetChildren().Any();

    public static WebApplication MapServeGateGateway(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        // The request path, in order. Metering is outermost so that refused requests are recorded too.
        app.UseWhen(IsInference, pipeline => pipeline.UseMiddleware<MeteringMiddleware>());
        app.UseWhen(IsApi, pipeline => pipeline.UseMiddleware<ApiKeyAuthenticationMiddleware>());
        app.UseWhen(IsInference, pipeline =>
        {
            pipeline.UseMiddleware<InferenceRequestReader>();
            pipeline.UseMiddleware<ModelAccessMiddleware>();
            pipeline.UseMiddleware<RateLimitMiddleware>();
        });
        // Created now, so that the listener sees every measurement from the first request on.
        _ = app.Services.GetRequiredService<PrometheusExporter>();
        _ = app.Services.GetRequiredService<GatewayMetrics>();
        _ = app.Services.GetService<ServeGate.Worker.Scheduling.SchedulerMetrics>(); // the in-process worker's, when there is one
        app.MapAdminApi();
        app.MapUsageApi();
        app.MapEconomicsApi();
        app.MapGet("/metrics", (PrometheusExporter exporter, GatewayMetrics metrics) =>
            Results.Text(exporter.Scrape(), "text/plain; version=0.0.4; charset=utf-8"));
        return app;
    }

    /// <summary>The OpenAI API, which needs an API key (outside open local mode); the organization's reports check their own access.</summary>
    internal static bool IsApi(HttpContext context) =>
        context.Request.Path.StartsWithSegments("/v1", StringComparison.Ordinal)
        && !context.Request.Path.StartsWithSegments("/v1/organization", StringComparison.Ordinal)
        && !context.Request.Path.StartsWithSegments("/v1/economics", StringComparison.Ordinal);

    /// <summary>The requests that run a model (generation and embeddings), and so are metered and limited.</summary>
    internal static bool IsInference(HttpContext context) =>
        HttpMethods.IsPost(context.Request.Method)
        && (context.Request.Path.Equals("/v1/completions", StringComparison.Ordinal)
            || context.Request.Path.Equals("/v1/chat/completions", StringComparison.Ordinal)
            || context.Request.Path.Equals("/v1/responses", StringComparison.Ordinal)
            || context.Request.Path.Equals("/v1/embeddings", StringComparison.Ordinal));

    private sealed class GatewayOptionsValidator : IValidateOptions<GatewayOptions>
    {
        public ValidateOptionsResult Validate(string? name, GatewayOptions options)
        {
            var errors = options.Validate().ToList();
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}

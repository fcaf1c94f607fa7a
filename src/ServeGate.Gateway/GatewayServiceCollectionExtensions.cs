using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using ServeGate.Gateway.Admin;
using ServeGate.Gateway.Metering;
using ServeGate.Gateway.Pipeline;
using ServeGate.Metering;

namespace ServeGate.Gateway;

/// <summary>
/// The gateway in front of the OpenAI endpoints. Every inference request takes the same path, whether the worker runs
/// in this process or behind the proxy:
/// <c>MeteringMiddleware</c> (one usage record per request) → <c>InferenceRequestReader</c> (model, stream, usage chunk).
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
        services.AddServeGateMetering();
        services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, GatewayJsonContext.Default));
        return builder;
    }

    public static WebApplication MapServeGateGateway(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseWhen(IsInference, pipeline =>
        {
            pipeline.UseMiddleware<MeteringMiddleware>();
            pipeline.UseMiddleware<InferenceRequestReader>();
        });
        app.MapAdminApi();
        return app;
    }

    /// <summary>The requests that generate tokens, and so are metered and limited.</summary>
    internal static bool IsInference(HttpContext context) =>
        HttpMethods.IsPost(context.Request.Method)
        && (context.Request.Path.Equals("/v1/completions", StringComparison.Ordinal) || context.Request.Path.Equals("/v1/chat/completions", StringComparison.Ordinal));

    private sealed class GatewayOptionsValidator : IValidateOptions<GatewayOptions>
    {
        public ValidateOptionsResult Validate(string? name, GatewayOptions options)
        {
            var errors = options.Validate().ToList();
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}

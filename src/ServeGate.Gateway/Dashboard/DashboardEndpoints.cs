using Microsoft.AspNetCore.StaticAssets.Infrastructure;

namespace ServeGate.Gateway.Dashboard;

/// <summary>
/// The finance pages, <c>/dashboard</c> and <c>/compare</c>: static files under <c>wwwroot</c> (fingerprinted and
/// compressed by <c>MapStaticAssets</c>) that read the same public API a finance tool would call, never a private one.
/// </summary>
public static partial class DashboardEndpoints
{
    /// <summary>The pages, each <c>wwwroot/{name}.html</c> served at <c>/{name}</c>.</summary>
    internal static readonly string[] Pages = ["dashboard", "compare"];

    /// <summary>
    /// Maps the static assets and the pages. Without the build's static-assets manifest beside the binary (a host built
    /// without the Web SDK's asset pipeline) the pages are left out and the API still starts.
    /// </summary>
    public static WebApplication MapDashboard(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var manifest = Path.Combine(AppContext.BaseDirectory, $"{typeof(DashboardEndpoints).Assembly.GetName().Name}.staticwebassets.endpoints.json");
        if (!File.Exists(manifest))
        {
            Log.NoStaticAssets(app.Logger, manifest);
            return app;
        }

        app.MapStaticAssets(manifest);
        var fingerprinted = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var asset in StaticAssetsEndpointDataSourceHelper.ResolveStaticAssetDescriptors(app, manifest))
        {
            // The identity (uncompressed) endpoint of each fingerprinted route; its "label" is the file's own path.
            var label = asset.Properties.FirstOrDefault(p => p.Name == "label")?.Value;
            if (label is not null && asset.Selectors.Count == 0 && asset.Properties.Any(p => p.Name == "fingerprint"))
            {
                fingerprinted["/" + label] = "/" + asset.Route;
            }
        }

        foreach (var name in Pages)
        {
            var page = new DashboardPage(app.Environment.WebRootFileProvider, name + ".html", fingerprinted);
            app.MapGet("/" + name, page.WriteAsync).ExcludeFromDescription();
        }

        return app;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = GatewayLogEvents.DashboardAssetsMissing, Level = LogLevel.Warning,
            Message = "No static-assets manifest at {Path}: /dashboard and /compare are not served.")]
        public static partial void NoStaticAssets(ILogger logger, string path);
    }
}

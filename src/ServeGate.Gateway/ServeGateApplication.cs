using ServeGate.Gateway.Dashboard;
using ServeGate.Gateway.Routing;
using ServeGate.Worker;
using ServeGate.Worker.Api;

namespace ServeGate.Gateway;

/// <summary>Builds the ServeGate web application; <c>Program</c> runs it, tests start it on a free loopback port.</summary>
public static class ServeGateApplication
{
    /// <summary>
    /// Creates the application from ./run.sh-style arguments; <paramref name="overrides"/> (tests) win over every other
    /// configuration source.
    /// </summary>
    public static WebApplication Create(string[] args, IReadOnlyDictionary<string, string?>? overrides = null) => Create(args, overrides, null);

    /// <summary>As <see cref="Create(string[], IReadOnlyDictionary{string, string?}?)"/>, with services of a test's own added first (they win over TryAdd).</summary>
    internal static WebApplication Create(string[] args, IReadOnlyDictionary<string, string?>? overrides, Action<IServiceCollection>? configureServices)
    {
        var builder = HostingExtensions.CreateServeGateBuilder(args, overrides);
        configureServices?.Invoke(builder.Services);
        var remote = builder.Configuration.HasRemoteWorkers();
        if (!remote)
        {
            builder.AddServeGateWorker(); // the embedded default: the worker in this process
        }

        builder.AddServeGateGateway();

        var app = builder.Build();
        MoveLegacyData(app.Services); // before anything opens the ledger or the keys
        app.MapServeGateGateway();
        if (remote)
        {
            app.MapRemoteWorkerApi();
        }
        else
        {
            app.MapOpenAiApi();
        }

        app.MapDashboard();
        return app;
    }

    private static void MoveLegacyData(IServiceProvider services)
    {
        var metering = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ServeGate.Ledger.MeteringOptions>>().Value;
        if (string.IsNullOrWhiteSpace(metering.DatabasePath))
        {
            ServeGate.Ledger.LedgerDataFolder.MoveFromLegacy(
                ServeGate.Ledger.MeteringOptions.LegacyCacheDirectory(),
                metering.ResolveDataDirectory(),
                services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ServeGateApplication).FullName!));
        }
    }
}

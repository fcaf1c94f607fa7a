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
    public static WebApplication Create(string[] args, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        var builder = HostingExtensions.CreateServeGateBuilder(args, overrides);
        var remote = builder.Configuration.HasRemoteWorkers();
        if (!remote)
        {
            builder.AddServeGateWorker(); // the embedded default: the worker in this process
        }

        builder.AddServeGateGateway();

        var app = builder.Build();
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
}

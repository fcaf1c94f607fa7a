using ServeGate.Gateway;
using ServeGate.Worker;
using ServeGate.Worker.Api;

namespace ServeGate.WorkerHost;

/// <summary>Builds a worker-only web application; <c>Program</c> runs it, tests start it on a free loopback port.</summary>
public static class WorkerHostApplication
{
    public static WebApplication Create(string[] args, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        var builder = HostingExtensions.CreateServeGateBuilder(args, overrides);
        builder.AddServeGateWorker();
        var app = builder.Build();
        app.MapOpenAiApi();
        return app;
    }
}

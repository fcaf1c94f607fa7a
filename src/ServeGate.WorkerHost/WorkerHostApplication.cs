using ServeGate.Gateway;
using ServeGate.Worker;
using ServeGate.Worker.Api;

namespace ServeGate.WorkerHost;

/// <summary>Builds a worker-only web application; <c>Program</c> runs it, tests start it on a free loopback port.</summary>
public static class WorkerHostApplication
{
    public static WebApplication Create(string[] args, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        var (settings, remaining, error) = CommandLine.Parse(args);
        if (error is not null)
        {
            throw new ArgumentException(error, nameof(args));
        }

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = remaining, ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddInMemoryCollection(settings);
        if (overrides is not null)
        {
            builder.Configuration.AddInMemoryCollection(overrides);
        }

        builder.AddServeGateHost();
        builder.AddServeGateWorker();
        var app = builder.Build();
        app.MapOpenAiApi();
        return app;
    }
}

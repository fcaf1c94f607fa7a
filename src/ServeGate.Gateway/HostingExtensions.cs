using System.Globalization;
using System.Net;
using ServeGate.Worker;
using ServeGate.Worker.Scheduling;

namespace ServeGate.Gateway;

internal static class HostingExtensions
{
    /// <summary>
    /// A web application builder from ./run.sh-style arguments, listening where <see cref="AddServeGateHost"/> says;
    /// <paramref name="overrides"/> (tests) win over every other configuration source. Bad arguments throw
    /// <see cref="ArgumentException"/> with the message to show.
    /// </summary>
    public static WebApplicationBuilder CreateServeGateBuilder(string[] args, IReadOnlyDictionary<string, string?>? overrides)
    {
        var (settings, remaining, error) = CommandLine.Parse(args);
        if (error is not null)
        {
            throw new ArgumentException(error, nameof(args));
        }

        // appsettings.json sits beside the binary; ./run.sh starts it from the repository root.
        // The application is the gateway even when a test process hosts it: its static-assets manifests are named after it.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = remaining,
            ContentRootPath = AppContext.BaseDirectory,
            ApplicationName = typeof(HostingExtensions).Assembly.GetName().Name,
        });
        builder.Configuration.AddInMemoryCollection(settings);
        if (overrides is not null)
        {
            builder.Configuration.AddInMemoryCollection(overrides);
        }

        // A settings file of the deployment's own (e.g. the list of workers), watched: edits apply while running.
        if (builder.Configuration["ServeGate:ConfigFile"] is { Length: > 0 } configFile)
        {
            builder.Configuration.AddJsonFile(Path.GetFullPath(configFile), optional: false, reloadOnChange: true);
        }

        // The dashboard's files from the build's folders when run from a build (a no-op when published: they are in wwwroot).
        builder.WebHost.UseStaticWebAssets();
        return builder.AddServeGateHost();
    }

    /// <summary>Listens on <c>ServeGate:Host</c>:<c>ServeGate:Port</c> (127.0.0.1:8080 by default); port 0 picks a free one (tests).</summary>
    public static WebApplicationBuilder AddServeGateHost(this WebApplicationBuilder builder)
    {
        // Socket sends and receives continue on the socket's own thread instead of an I/O queue's
        // (ServeGate:Worker:InlineStreaming, default on): a token's SSE chunk, written on the scheduler thread, is sent
        // without another thread wake-up. Request handling up to its first real wait also runs there: nothing on the
        // request path may wait synchronously on anything slow (keys are looked up in memory; admin writes to SQLite,
        // rare and short, are the exception).
        var inlineStreaming = ConfigurationPath.Combine(WorkerOptions.SectionName, nameof(WorkerOptions.Worker), nameof(SchedulerOptions.InlineStreaming));
        if (builder.Configuration.GetValue(inlineStreaming, new SchedulerOptions().InlineStreaming))
        {
            builder.WebHost.UseSockets(sockets => sockets.UnsafePreferInlineScheduling = true);
        }

        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            var configuration = context.Configuration;
            var host = configuration["ServeGate:Host"] is { Length: > 0 } h ? h : "127.0.0.1";
            var port = int.TryParse(configuration["ServeGate:Port"], NumberStyles.None, CultureInfo.InvariantCulture, out var p) ? p : 8080;
            if (!IPAddress.TryParse(host, out var address))
            {
                throw new IOException($"ServeGate:Host '{host}' is not an IP address.");
            }

            kestrel.AddServerHeader = false;
            kestrel.Listen(address, port);
        });
        return builder;
    }
}

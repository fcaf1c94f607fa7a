using System.Globalization;
using System.Net;

namespace ServeGate.Gateway;

internal static class HostingExtensions
{
    /// <summary>Listens on <c>ServeGate:Host</c>:<c>ServeGate:Port</c> (127.0.0.1:8080 by default) ; port 0 picks a free one (tests).</summary>
    public static WebApplicationBuilder AddServeGateHost(this WebApplicationBuilder builder)
    {
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

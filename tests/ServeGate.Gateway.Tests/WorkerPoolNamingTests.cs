using Microsoft.Extensions.Options;
using ServeGate.Gateway.Routing;

namespace ServeGate.Gateway.Tests;

/// <summary>A remote worker's pool, the name its hardware is priced under (ServeGate:Economics:Pools).</summary>
public sealed class WorkerPoolNamingTests
{
    [Fact]
    public void Destinations_PoolConfiguredOrNot_NamedPoolElseUrl()
    {
        var options = new GatewayOptions
        {
            Workers =
            {
                new WorkerEndpoint { Url = "http://10.0.0.1:8081/", Models = ["m"], Pool = "gpu-a" },
                new WorkerEndpoint { Url = "http://10.0.0.2:8081", Models = ["m"] },
            },
        };
        using var pool = new WorkerPool(new FixedMonitor(options));

        var added = pool.Add("http://10.0.0.3:8081", ["m"], "gpu-b");

        Assert.Equal("gpu-a", pool.Destinations.Single(d => d.Url == "http://10.0.0.1:8081").Pool);
        Assert.Equal("http://10.0.0.2:8081", pool.Destinations.Single(d => d.Url == "http://10.0.0.2:8081").Pool);
        Assert.Equal("gpu-b", added.Pool);
    }

    private sealed class FixedMonitor(GatewayOptions value) : IOptionsMonitor<GatewayOptions>
    {
        public GatewayOptions CurrentValue => value;

        public GatewayOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<GatewayOptions, string?> listener) => null;
    }
}

namespace ServeGate.Gateway.Tests;

/// <summary>One gateway (models loaded once) shared by the tests of a collection; tests tell their records apart by request id.</summary>
public sealed class SharedGateway : IAsyncLifetime
{
    public GatewayHost Host { get; private set; } = null!;

    public async Task InitializeAsync() => Host = await GatewayHost.StartAsync(new Dictionary<string, string?>
    {
        ["ServeGate:Gateway:Prices:default:input"] = "1",
        ["ServeGate:Gateway:Prices:default:cached_input"] = "0.5",
        ["ServeGate:Gateway:Prices:default:output"] = "2",
    });

    public async Task DisposeAsync() => await Host.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class SharedGatewayCollection : ICollectionFixture<SharedGateway>
{
    public const string Name = "shared gateway";
}

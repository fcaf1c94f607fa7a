namespace ServeGate.Dashboard.Tests;

/// <summary>The gateway the tests in open local mode share; a test that creates keys starts its own.</summary>
public sealed class SharedGateway : IAsyncLifetime
{
    public DashboardGateway Gateway { get; private set; } = null!;

    public async Task InitializeAsync() => Gateway = await DashboardGateway.StartAsync();

    public async Task DisposeAsync() => await Gateway.DisposeAsync();
}

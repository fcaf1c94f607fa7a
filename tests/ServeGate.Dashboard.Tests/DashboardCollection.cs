namespace ServeGate.Dashboard.Tests;

/// <summary>The browser and one open-mode gateway, shared by the page tests (they run one after another).</summary>
[CollectionDefinition(Name)]
public sealed class DashboardCollection : ICollectionFixture<BrowserFixture>, ICollectionFixture<SharedGateway>
{
    public const string Name = "dashboard";
}

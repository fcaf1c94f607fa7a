namespace ServeGate.Dashboard.Tests;

/// <summary>
/// The trait of tests that need an API built on another branch (<c>DependsOn=UsageApi</c> for the usage and costs APIs,
/// <c>DependsOn=EconomicsApi</c> for /v1/economics); until merged: <c>--filter "DependsOn!=UsageApi&amp;DependsOn!=EconomicsApi"</c>.
/// </summary>
internal static class Merge
{
    public const string Trait = "DependsOn";
    public const string UsageApi = "UsageApi";
    public const string EconomicsApi = "EconomicsApi";
}

namespace ServeGate.Gateway.Dashboard;

/// <summary>A page's import map: module URLs as written to their fingerprinted URLs.</summary>
internal sealed class ImportMap
{
    public required IReadOnlyDictionary<string, string> Imports { get; init; }
}

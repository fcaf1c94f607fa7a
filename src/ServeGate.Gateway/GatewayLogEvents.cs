namespace ServeGate.Gateway;

/// <summary>Event ids of the gateway's logs, grouped by area (metering 1000s, auth 1100s, limits 1200s, routing 1300s, dashboard 1900s).</summary>
internal static class GatewayLogEvents
{
    public const int UsageObserverFailed = 1001;
    public const int PricingFailed = 1002;
    public const int UptimeFailed = 1003;
    public const int TokenRateSeedFailed = 1004;
    public const int KeyCreated = 1101;
    public const int KeyRevoked = 1102;
    public const int OpenLocalMode = 1103;
    public const int KeyStoreUnavailable = 1104;
    public const int NoApiKeysYet = 1105;
    public const int LimitStoreUnavailable = 1201;
    public const int LimitSettleFailed = 1202;
    public const int WorkerHealthChanged = 1301;
    public const int ForwardFailed = 1302;
    public const int WorkerAdded = 1303;
    public const int WorkerRemoved = 1304;
    public const int DashboardAssetsMissing = 1901;
}

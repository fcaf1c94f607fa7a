using ServeGate.Gateway.Routing;

namespace ServeGate.Gateway.Reports;

/// <summary>
/// Which worker pool a worker belongs to, for up-time and idle cost: the one place that maps a worker to its pool.
/// The in-process worker is <c>local</c>; a remote worker is its own pool, named by its URL (until workers name pools).
/// </summary>
internal static class PoolNames
{
    public const string Local = "local";

    public static string Of(WorkerDestination worker)
    {
        ArgumentNullException.ThrowIfNull(worker);
        return worker.Url;
    }
}

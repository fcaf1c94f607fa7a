using ServeGate.Gateway.Routing;

namespace ServeGate.Gateway.Reports;

/// <summary>
/// Which worker pool a worker belongs to, for up-time and idle cost: the one place that maps a worker to its pool.
/// The in-process worker is <c>local</c>; a remote worker is in the pool its settings name (<c>Workers:i:Pool</c>),
/// by default its own, named by its URL.
/// </summary>
internal static class PoolNames
{
    public const string Local = "local";

    public static string Of(WorkerDestination worker)
    {
        ArgumentNullException.ThrowIfNull(worker);
        return worker.Pool;
    }
}

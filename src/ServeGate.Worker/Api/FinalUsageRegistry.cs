using System.Collections.Concurrent;
using ServeGate.Core.OpenAi;
using ServeGate.Worker.Scheduling;

namespace ServeGate.Worker.Api;

/// <summary>
/// The exact usage of every request that came through a gateway (it names the request in <c>x-request-id</c>), kept for
/// <see cref="Retention"/> after it arrived. A client that leaves mid-response never sees the usage chunk, but the
/// scheduler still counts what it generated until the cancellation reached it; the gateway asks here
/// (<c>GET /internal/usage/{id}</c>, or directly when the worker is in its process) and meters that, not an estimate.
/// </summary>
public sealed class FinalUsageRegistry(TimeProvider time)
{
    /// <summary>The request header that names a request the same way in the gateway, the worker and the ledger.</summary>
    public const string RequestIdHeader = "x-request-id";

    /// <summary>Entries kept at most, so a flood of requests cannot grow the registry without bound.</summary>
    public const int Capacity = 50_000;

    public static readonly TimeSpan Retention = TimeSpan.FromMinutes(2);

    private readonly ConcurrentDictionary<string, Task<Usage>> _byId = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<(string Id, Task<Usage> Usage, long At)> _order = new();

    public int Count => _byId.Count;

    /// <summary>
    /// Follows the generations of request <paramref name="requestId"/> (<paramref name="n"/> choices per prompt); their
    /// usage is known when all have ended.
    /// </summary>
    public void Track(string requestId, IReadOnlyList<GenerationHandle> handles, int n = 1)
    {
        ArgumentNullException.ThrowIfNull(handles);
        Track(requestId, Task.WhenAll(handles.Select(h => h.Completion))
            .ContinueWith(t => ResponseContext.Usage(t.Result, n), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default));
    }

    /// <summary>Follows a request whose usage <paramref name="usage"/> completes with (an embeddings request's).</summary>
    public void Track(string requestId, Task<Usage> usage)
    {
        ArgumentException.ThrowIfNullOrEmpty(requestId);
        ArgumentNullException.ThrowIfNull(usage);
        var now = time.GetTimestamp();
        Prune(now);
        _byId[requestId] = usage;
        _order.Enqueue((requestId, usage, now));
    }

    /// <summary>
    /// The usage of <paramref name="requestId"/> once its generations have ended, waiting at most <paramref name="timeout"/>;
    /// null when the request is unknown here or still running after the wait.
    /// </summary>
    public async Task<Usage?> WaitAsync(string requestId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!_byId.TryGetValue(requestId, out var usage))
        {
            return null;
        }

        try
        {
            return await usage.WaitAsync(timeout, time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return null;
        }
    }

    private void Prune(long now)
    {
        while (_order.TryPeek(out var oldest) && (_order.Count > Capacity || time.GetElapsedTime(oldest.At, now) > Retention))
        {
            if (_order.TryDequeue(out oldest))
            {
                _byId.TryRemove(new KeyValuePair<string, Task<Usage>>(oldest.Id, oldest.Usage));
            }
        }
    }
}

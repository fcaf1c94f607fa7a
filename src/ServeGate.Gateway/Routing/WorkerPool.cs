using System.Text;
using Microsoft.Extensions.Options;

namespace ServeGate.Gateway.Routing;

/// <summary>A remote worker as the gateway tracks it: health (active probes and passive failures) and requests in flight.</summary>
internal sealed class WorkerDestination(string url, IReadOnlyList<string> models, WorkerDestination? previous = null, string? pool = null)
{
    private int _outstanding;

    /// <summary>The base address, without a trailing slash.</summary>
    public string Url { get; } = Normalize(url);

    public IReadOnlyList<string> Models { get; } = models;

    /// <summary>The worker pool its hardware is priced as (economics): the configured name, else its URL.</summary>
    public string Pool { get; } = string.IsNullOrWhiteSpace(pool) ? Normalize(url) : pool;

    public int Outstanding => Volatile.Read(ref _outstanding);

    /// <summary>
    /// False after a failed probe or a failed forward, until a probe succeeds again. A worker whose models changed is a
    /// new destination with the health of the previous one.
    /// </summary>
    public bool Healthy { get; set; } = previous?.Healthy ?? true;

    public bool Serves(string model) => Models.Contains(model, StringComparer.Ordinal);

    /// <summary>A worker's URL as <see cref="Url"/> holds it: the same worker however its URL was written.</summary>
    public static string Normalize(string url) => url.TrimEnd('/');

    public void Enter() => Interlocked.Increment(ref _outstanding);

    public void Leave() => Interlocked.Decrement(ref _outstanding);
}

/// <summary>
/// The remote workers and the choice among them: healthy workers serving the model; among those the prefix-affinity
/// favourite (rendezvous hash of the prompt's start, so a prefix keeps its worker while workers come and go) unless it
/// is saturated, else the least loaded (or the next in turn with <see cref="BalancingPolicy.RoundRobin"/>).
/// <para>
/// The set changes while running, from two sources: <c>ServeGate:Gateway:Workers</c> when the configuration reloads
/// (an edited <c>appsettings.json</c> or <c>ServeGate:ConfigFile</c>), and the admin API (<c>POST/DELETE
/// /admin/workers</c>, kept until the process ends). A change swaps an immutable snapshot: a worker that stays keeps
/// its health and load, a removed one takes no new request and its requests in flight finish undisturbed.
/// </para>
/// </summary>
internal sealed class WorkerPool : IDisposable
{
    private readonly IDisposable? _subscription;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (IReadOnlyList<string> Models, string? Pool)> _added = new(StringComparer.Ordinal);
    private readonly HashSet<string> _removed = new(StringComparer.Ordinal);
    private IReadOnlyList<WorkerEndpoint> _configured;
    private RoutingOptions _routing;
    private WorkerDestination[] _destinations = [];
    private int _turn;

    public WorkerPool(IOptionsMonitor<GatewayOptions> options)
    {
        _configured = options.CurrentValue.Workers;
        _routing = options.CurrentValue.Routing;
        IsRemote = _configured.Count > 0;
        Rebuild();
        // Called only with settings that pass validation: an invalid edit leaves the last valid set in place.
        _subscription = options.OnChange(changed =>
        {
            lock (_gate)
            {
                _configured = changed.Workers;
                Volatile.Write(ref _routing, changed.Routing);
                _removed.Clear(); // the reloaded configuration is the truth about configured workers
                Rebuild();
            }
        });
    }

    /// <summary>The workers now, an immutable snapshot.</summary>
    public IReadOnlyList<WorkerDestination> Destinations => Volatile.Read(ref _destinations);

    /// <summary>The routing settings now (they reload with the workers).</summary>
    public RoutingOptions Routing => Volatile.Read(ref _routing);

    /// <summary>Whether this gateway routes to remote workers (decided at start: else the worker is in-process).</summary>
    public bool IsRemote { get; }

    public bool AnyServes(string model) => Destinations.Any(d => d.Serves(model));

    /// <summary>Adds a worker, or changes the models of one already there; returns it as the pool now holds it.</summary>
    public WorkerDestination Add(string url, IReadOnlyList<string> models, string? workerPool = null)
    {
        lock (_gate)
        {
            var key = WorkerDestination.Normalize(url);
            _added[key] = (models, workerPool);
            _removed.Remove(key);
            Rebuild();
            return Destinations.Single(d => d.Url == key);
        }
    }

    /// <summary>Takes a worker out (configured or added); false when it is not in the pool.</summary>
    public bool Remove(string url)
    {
        lock (_gate)
        {
            var key = WorkerDestination.Normalize(url);
            if (!Destinations.Any(d => d.Url == key))
            {
                return false;
            }

            _added.Remove(key);
            _removed.Add(key);
            Rebuild();
            return true;
        }
    }

    private void Rebuild()
    {
        var wanted = new Dictionary<string, (IReadOnlyList<string> Models, string? Pool)>(StringComparer.Ordinal);
        foreach (var worker in _configured)
        {
            wanted[WorkerDestination.Normalize(worker.Url)] = ([.. worker.Models], worker.Pool);
        }

        foreach (var (url, added) in _added)
        {
            wanted[url] = added;
        }

        var current = Volatile.Read(ref _destinations).ToDictionary(d => d.Url, StringComparer.Ordinal);
        var next = new List<WorkerDestination>(wanted.Count);
        foreach (var (url, (models, workerPool)) in wanted)
        {
            if (_removed.Contains(url))
            {
                continue;
            }

            var candidate = new WorkerDestination(url, models, null, workerPool);
            next.Add(current.TryGetValue(url, out var existing) && existing.Models.SequenceEqual(models, StringComparer.Ordinal) && existing.Pool == candidate.Pool
                ? existing
                : new WorkerDestination(url, models, existing, workerPool));
        }

        Volatile.Write(ref _destinations, [.. next]);
    }

    /// <summary>The destination for a request, skipping <paramref name="exclude"/> (a retry); null when none is healthy.</summary>
    public WorkerDestination? Choose(string model, string prefix, IReadOnlyCollection<WorkerDestination>? exclude = null)
    {
        var routing = Routing;
        var candidates = Destinations.Where(d => d.Healthy && d.Serves(model) && (exclude is null || !exclude.Contains(d))).ToList();
        if (candidates.Count == 0)
        {
            return null;
        }

        if (routing.PrefixAffinity && prefix.Length > 0)
        {
            var favourite = candidates.MaxBy(d => Score(prefix, d.Url))!;
            if (favourite.Outstanding < routing.AffinitySaturation)
            {
                return favourite;
            }
        }

        return routing.Balancing == BalancingPolicy.RoundRobin
            ? candidates[(int)((uint)Interlocked.Increment(ref _turn) % (uint)candidates.Count)]
            : candidates.MinBy(d => d.Outstanding)!;
    }

    /// <summary>Rendezvous (highest random weight) score: FNV-1a 64 of prefix and destination.</summary>
    private static ulong Score(string prefix, string destination)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(prefix + "\n" + destination))
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        // FNV's low bits mix poorly: finish with a murmur-style avalanche.
        hash ^= hash >> 33;
        hash *= 0xff51afd7ed558ccdUL;
        hash ^= hash >> 33;
        return hash;
    }

    public void Dispose() => _subscription?.Dispose();
}

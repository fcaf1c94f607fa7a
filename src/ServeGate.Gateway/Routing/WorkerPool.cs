using System.Text;
using Microsoft.Extensions.Options;

namespace ServeGate.Gateway.Routing;

/// <summary>A remote worker as the gateway tracks it: health (active probes and passive failures) and requests in flight.</summary>
internal sealed class WorkerDestination(string url, IReadOnlyList<string> models)
{
    private int _outstanding;

    /// <summary>The base address, without a trailing slash.</summary>
    public string Url { get; } = url.TrimEnd('/');

    public IReadOnlyList<string> Models { get; } = models;

    public int Outstanding => Volatile.Read(ref _outstanding);

    /// <summary>False after a failed probe or a failed forward, until a probe succeeds again.</summary>
    public bool Healthy { get; set; } = true;

    public bool Serves(string model) => Models.Contains(model, StringComparer.Ordinal);

    public void Enter() => Interlocked.Increment(ref _outstanding);

    public void Leave() => Interlocked.Decrement(ref _outstanding);
}

/// <summary>
/// The remote workers and the choice among them: healthy workers serving the model; among those the prefix-affinity
/// favourite (rendezvous hash of the prompt's start, so a prefix keeps its worker while workers come and go) unless it
/// is saturated, else the least loaded (or the next in turn with <see cref="BalancingPolicy.RoundRobin"/>).
/// </summary>
internal sealed class WorkerPool(IOptions<GatewayOptions> options)
{
    private int _turn;

    public IReadOnlyList<WorkerDestination> Destinations { get; } =
        [.. options.Value.Workers.Select(w => new WorkerDestination(w.Url, [.. w.Models]))];

    public bool IsRemote => Destinations.Count > 0;

    public bool AnyServes(string model) => Destinations.Any(d => d.Serves(model));

    /// <summary>The destination for a request, skipping <paramref name="exclude"/> (a retry); null when none is healthy.</summary>
    public WorkerDestination? Choose(string model, string prefix, IReadOnlyCollection<WorkerDestination>? exclude = null)
    {
        var routing = options.Value.Routing;
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
}

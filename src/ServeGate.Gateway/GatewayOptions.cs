using Microsoft.Extensions.Configuration;

namespace ServeGate.Gateway;

/// <summary>The gateway: keys, admin access, prices. Bound from <c>ServeGate:Gateway</c>.</summary>
public sealed class GatewayOptions
{
    public const string SectionName = "ServeGate:Gateway";

    /// <summary>
    /// The key that opens <c>/admin</c> (also <c>SERVEGATE_ADMIN_KEY</c>). Empty on a loopback-only listener: the admin
    /// API is open to local callers; empty elsewhere: the admin API is closed.
    /// </summary>
    public string AdminKey { get; set; } = string.Empty;

    /// <summary>Serve requests without a key on a non-loopback address when no key exists (otherwise the gateway refuses to start).</summary>
    public bool AllowAnonymous { get; set; }

    /// <summary>The SQLite file of API keys; empty: <c>keys.db</c> beside the usage ledger.</summary>
    public string KeyStorePath { get; set; } = string.Empty;

    /// <summary>Largest request body the gateway reads (413 beyond).</summary>
    public long MaxRequestBodyBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>USD per 1M tokens by model id; the entry <c>default</c> prices every other model.</summary>
    public Dictionary<string, TokenPrice> Prices { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Limits of whole teams (by team name), on top of each key's own.</summary>
    public Dictionary<string, TeamLimits> Teams { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Where the limit counters live and what happens when they cannot be reached.</summary>
    public LimitsOptions Limits { get; set; } = new();

    /// <summary>Remote workers (ServeGate.WorkerHost). Empty: the worker runs in this process (the embedded default).</summary>
    public List<WorkerEndpoint> Workers { get; set; } = [];

    /// <summary>How requests are spread over <see cref="Workers"/>.</summary>
    public RoutingOptions Routing { get; set; } = new();

    /// <summary>Problems with these settings, all at once.</summary>
    public IEnumerable<string> Validate()
    {
        for (var i = 0; i < Workers.Count; i++)
        {
            if (!Workers[i].HasHttpUrl)
            {
                yield return $"ServeGate:Gateway:Workers:{i}:Url must be an absolute http(s) URL.";
            }

            if (Workers[i].Models.Count == 0)
            {
                yield return $"ServeGate:Gateway:Workers:{i}:Models must name at least one model.";
            }
        }

        if (Routing.HealthCheckInterval <= TimeSpan.Zero)
        {
            yield return "ServeGate:Gateway:Routing:HealthCheckInterval must be positive.";
        }

        if (Limits.Store == LimitStoreKind.Redis && string.IsNullOrWhiteSpace(Limits.Redis))
        {
            yield return "ServeGate:Gateway:Limits:Redis (host:port) is required when Limits:Store is Redis.";
        }

        foreach (var (team, limits) in Teams)
        {
            if (limits.TokensPerMinute is < 1 || limits.RequestsPerMinute is < 1 || limits.BudgetUsd is < 0)
            {
                yield return $"ServeGate:Gateway:Teams:{team}: limits must be positive.";
            }
        }

        if (MaxRequestBodyBytes < 1024)
        {
            yield return "ServeGate:Gateway:MaxRequestBodyBytes must be at least 1024.";
        }

        foreach (var (model, price) in Prices)
        {
            if (price.Input < 0 || price.CachedInput is < 0 || price.Output < 0)
            {
                yield return $"ServeGate:Gateway:Prices:{model}: prices must not be negative.";
            }
        }
    }

    /// <summary>The price of <paramref name="model"/>, or the default entry, or null.</summary>
    public TokenPrice? PriceOf(string model) =>
        Prices.TryGetValue(model, out var price) || Prices.TryGetValue("default", out price) ? price : null;
}

/// <summary>USD per 1M tokens.</summary>
public sealed class TokenPrice
{
    public decimal Input { get; set; }

    /// <summary>Prompt tokens served from the prefix cache (<c>cached_input</c>); default: the input price.</summary>
    [ConfigurationKeyName("cached_input")]
    public decimal? CachedInput { get; set; }

    public decimal Output { get; set; }

    public decimal Cost(int promptTokens, int cachedTokens, int completionTokens)
    {
        var cached = Math.Clamp(cachedTokens, 0, promptTokens);
        return ((promptTokens - cached) * Input + cached * (CachedInput ?? Input) + completionTokens * Output) / 1_000_000m;
    }
}

/// <summary>Limits shared by every key of a team.</summary>
public sealed class TeamLimits
{
    public int? TokensPerMinute { get; set; }

    public int? RequestsPerMinute { get; set; }

    public decimal? BudgetUsd { get; set; }

    public Auth.BudgetPeriod BudgetPeriod { get; set; } = Auth.BudgetPeriod.Month;
}

public enum LimitStoreKind
{
    /// <summary>In this process: right for a single gateway.</summary>
    InProcess,

    /// <summary>Redis, shared by gateway replicas.</summary>
    Redis,
}

public enum LimitFailMode
{
    /// <summary>Serve the request unlimited when the counters cannot be reached (availability first). The default.</summary>
    Open,

    /// <summary>Refuse with 503 when the counters cannot be reached (limits first).</summary>
    Closed,
}

public sealed class LimitsOptions
{
    public LimitStoreKind Store { get; set; } = LimitStoreKind.InProcess;

    /// <summary>Redis endpoint, <c>host:port</c> (StackExchange.Redis configuration string).</summary>
    public string Redis { get; set; } = string.Empty;

    /// <summary>Prefix of every counter key (several deployments, or tests, can share one Redis).</summary>
    public string KeyPrefix { get; set; } = "servegate:";

    public LimitFailMode FailMode { get; set; } = LimitFailMode.Open;

    /// <summary>Output tokens assumed for the reservation when the request sets no max_tokens.</summary>
    public int DefaultMaxTokensEstimate { get; set; } = 256;
}

/// <summary>One remote worker and the models it serves.</summary>
public sealed class WorkerEndpoint
{
    public string Url { get; set; } = string.Empty;

    public List<string> Models { get; set; } = [];

    /// <summary>The worker pool whose hardware price (<c>ServeGate:Economics:Pools</c>) its requests are charged at; empty: its URL.</summary>
    public string? Pool { get; set; }

    /// <summary>Whether <see cref="Url"/> is an absolute http(s) URL.</summary>
    internal bool HasHttpUrl => Uri.TryCreate(Url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https";
}

public enum BalancingPolicy
{
    /// <summary>The destination with the fewest requests in flight. The default.</summary>
    LeastOutstanding,

    /// <summary>Each destination in turn (the baseline prefix affinity is measured against).</summary>
    RoundRobin,
}

public sealed class RoutingOptions
{
    public BalancingPolicy Balancing { get; set; } = BalancingPolicy.LeastOutstanding;

    /// <summary>
    /// Send prompts that start alike to the same worker (rendezvous hash of the first characters), where its KV cache
    /// already holds the prefix, unless that worker has <see cref="AffinitySaturation"/> requests in flight.
    /// </summary>
    public bool PrefixAffinity { get; set; } = true;

    public int AffinitySaturation { get; set; } = 8;

    /// <summary>How often each worker's <c>/ready</c> is probed.</summary>
    public TimeSpan HealthCheckInterval { get; set; } = TimeSpan.FromSeconds(2);
}

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

    /// <summary>Problems with these settings, all at once.</summary>
    public IEnumerable<string> Validate()
    {
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

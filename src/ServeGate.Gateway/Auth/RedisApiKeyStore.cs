using System.Collections.Concurrent;
using System.Text.Json;
using ServeGate.Redis;

namespace ServeGate.Gateway.Auth;

/// <summary>
/// API keys shared by gateway replicas through Redis (<see cref="RedisKeyDirectory"/>). Every lookup asks Redis (one
/// Lua script, one round trip), so a key revoked on one replica is refused by every replica from the moment
/// <c>DELETE /admin/keys/{id}</c> returns, with no cache to expire. When Redis cannot be reached, a gateway that fails
/// open (<see cref="LimitFailMode.Open"/>) serves the keys it verified before (a revocation made meanwhile reaches it
/// when Redis is back); one that fails closed answers 503.
/// </summary>
internal sealed class RedisApiKeyStore(RedisKeyDirectory directory, LimitFailMode failMode, TimeProvider time) : IApiKeyStore
{
    // Keys this gateway has verified, by hash: the fallback of fail-open while Redis is away.
    private readonly ConcurrentDictionary<string, ApiKey> _lastKnown = new(StringComparer.Ordinal);
    private volatile bool _hasKeys;

    public async ValueTask<bool> HasKeysAsync(CancellationToken cancellationToken)
    {
        if (_hasKeys)
        {
            return true;
        }

        try
        {
            return _hasKeys = await directory.AnyAsync().ConfigureAwait(false);
        }
        catch (RedisUnavailableException)
        {
            // Cannot tell: failing closed means asking for a key.
            return failMode == LimitFailMode.Closed;
        }
    }

    public async ValueTask<IReadOnlyList<ApiKey>> ListAsync(CancellationToken cancellationToken)
    {
        var records = await CallAsync(directory.ListAsync).ConfigureAwait(false);
        return ApiKey.Ordered(records.Select(Parse));
    }

    public async ValueTask<ApiKey?> FindAsync(string secret, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(secret);
        var hash = ApiKey.HashOf(secret);
        var hex = Convert.ToHexString(hash);
        string? record;
        try
        {
            record = await directory.FindAsync(hex).ConfigureAwait(false);
        }
        catch (RedisUnavailableException ex)
        {
            if (failMode == LimitFailMode.Open && _lastKnown.TryGetValue(hex, out var known))
            {
                return known;
            }

            throw new KeyStoreUnavailableException("The API key cannot be verified: " + ex.Message, ex);
        }

        if (record is null)
        {
            _lastKnown.TryRemove(hex, out _);
            return null;
        }

        var key = Parse(record);
        if (!key.Matches(hash))
        {
            return null;
        }

        _lastKnown[hex] = key;
        return key;
    }

    public async ValueTask<(ApiKey Key, string Secret)> CreateAsync(CreateKeyRequest request, CancellationToken cancellationToken)
    {
        while (true)
        {
            var key = ApiKey.New(request, time.GetUtcNow(), out var secret);
            var record = JsonSerializer.Serialize(StoredApiKey.Of(key), GatewayJsonContext.Default.StoredApiKey);
            if (await CallAsync(() => directory.AddAsync(key.Id, Convert.ToHexString(key.Hash), record)).ConfigureAwait(false))
            {
                _hasKeys = true;
                return (key, secret);
            }

            // 128 random bits of id and 256 of secret collided: draw again.
        }
    }

    public async ValueTask<bool> RevokeAsync(string id, CancellationToken cancellationToken)
    {
        var revoked = await CallAsync(() => directory.RevokeAsync(id, time.GetUtcNow().ToUnixTimeSeconds())).ConfigureAwait(false);
        foreach (var (hex, key) in _lastKnown)
        {
            if (key.Id == id)
            {
                _lastKnown.TryRemove(hex, out _);
            }
        }

        return revoked;
    }

    private static async Task<T> CallAsync<T>(Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (RedisUnavailableException ex)
        {
            throw new KeyStoreUnavailableException(ex.Message, ex);
        }
    }

    private static ApiKey Parse(string record) =>
        (JsonSerializer.Deserialize(record, GatewayJsonContext.Default.StoredApiKey) ?? throw new JsonException("An API key record in Redis is null.")).ToKey();
}

/// <summary>An <see cref="ApiKey"/> as a JSON record in Redis: the hash in hex, never the secret.</summary>
internal sealed class StoredApiKey
{
    public required string Id { get; init; }

    public required string Hash { get; init; }

    public required string Prefix { get; init; }

    public required string Name { get; init; }

    public required string Team { get; init; }

    public IReadOnlyList<string> Models { get; init; } = [];

    public int? TokensPerMinute { get; init; }

    public int? RequestsPerMinute { get; init; }

    public decimal? BudgetUsd { get; init; }

    public BudgetPeriod BudgetPeriod { get; init; }

    public long CreatedAt { get; init; }

    public static StoredApiKey Of(ApiKey key) => new()
    {
        Id = key.Id,
        Hash = Convert.ToHexString(key.Hash),
        Prefix = key.Prefix,
        Name = key.Name,
        Team = key.Team,
        Models = key.Models,
        TokensPerMinute = key.TokensPerMinute,
        RequestsPerMinute = key.RequestsPerMinute,
        BudgetUsd = key.BudgetUsd,
        BudgetPeriod = key.BudgetPeriod,
        CreatedAt = key.CreatedAt.ToUnixTimeSeconds(),
    };

    public ApiKey ToKey() => new()
    {
        Id = Id,
        Hash = Convert.FromHexString(Hash),
        Prefix = Prefix,
        Name = Name,
        Team = Team,
        Models = Models,
        TokensPerMinute = TokensPerMinute,
        RequestsPerMinute = RequestsPerMinute,
        BudgetUsd = BudgetUsd,
        BudgetPeriod = BudgetPeriod,
        CreatedAt = DateTimeOffset.FromUnixTimeSeconds(CreatedAt),
    };
}

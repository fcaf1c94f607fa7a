using StackExchange.Redis;

namespace ServeGate.Redis;

/// <summary>
/// API keys in Redis, so that every gateway replica sees a key the moment another creates or revokes it. The directory
/// stores what the gateway gives it: an id, the hex SHA-256 of the secret (never the secret) and an opaque record.
/// Three hashes under the prefix: <c>keys</c> (id → record), <c>keys:byhash</c> (hash → id) and <c>keys:revoked</c>
/// (id → unix seconds). Revoked keys stay, marked, for the audit trail of the usage ledger. Each operation is one Lua
/// script, so a lookup never sees a key half-created or a revocation half-applied.
/// </summary>
public sealed class RedisKeyDirectory
{
    // KEYS: keys, byhash. ARGV: id, hash, record. Returns 1, or 0 when the id or the hash exists already.
    private const string AddScript = """
        if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 or redis.call('HEXISTS', KEYS[2], ARGV[2]) == 1 then return 0 end
        redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
        redis.call('HSET', KEYS[2], ARGV[2], ARGV[1])
        return 1
        """;

    // KEYS: keys, byhash, revoked. ARGV: hash. Returns the live record or nil.
    private const string FindScript = """
        local id = redis.call('HGET', KEYS[2], ARGV[1])
        if not id or redis.call('HEXISTS', KEYS[3], id) == 1 then return false end
        return redis.call('HGET', KEYS[1], id)
        """;

    // KEYS: keys, revoked. ARGV: id, unix seconds. Returns 1, or 0 when there is no live key with this id.
    private const string RevokeScript = """
        if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 or redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return 0 end
        redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
        return 1
        """;

    // KEYS: keys, revoked. Returns the live records.
    private const string ListScript = """
        local all = redis.call('HGETALL', KEYS[1])
        local live = {}
        for i = 1, #all, 2 do
          if redis.call('HEXISTS', KEYS[2], all[i]) == 0 then live[#live + 1] = all[i + 1] end
        end
        return live
        """;

    private const string AnyScript = "return redis.call('HLEN', KEYS[1])";

    private readonly ConnectionMultiplexer _connection;
    private readonly RedisKey _keys;
    private readonly RedisKey _byHash;
    private readonly RedisKey _revoked;

    /// <param name="connection">Shared with the limit store.</param>
    /// <param name="prefix">Prefix of the three hashes (several deployments, or tests, can share one Redis).</param>
    public RedisKeyDirectory(ConnectionMultiplexer connection, string prefix)
    {
        _connection = connection ?? throw new ArgumentNullException(nameof(connection));
        ArgumentNullException.ThrowIfNull(prefix);
        _keys = prefix + "keys";
        _byHash = prefix + "keys:byhash";
        _revoked = prefix + "keys:revoked";
    }

    /// <summary>Adds a key; false when its id or hash is taken.</summary>
    public async Task<bool> AddAsync(string id, string hash, string record) =>
        (long)await RedisConnection.EvaluateAsync(_connection, AddScript, [_keys, _byHash], [id, hash, record]).ConfigureAwait(false) == 1;

    /// <summary>The record of the live key with this hash, or null (unknown or revoked).</summary>
    public async Task<string?> FindAsync(string hash)
    {
        var result = await RedisConnection.EvaluateAsync(_connection, FindScript, [_keys, _byHash, _revoked], [hash]).ConfigureAwait(false);
        return result.IsNull ? null : (string?)result;
    }

    /// <summary>Revokes a key at once for every reader; false when there was no live key with this id.</summary>
    public async Task<bool> RevokeAsync(string id, long unixSeconds) =>
        (long)await RedisConnection.EvaluateAsync(_connection, RevokeScript, [_keys, _revoked], [id, unixSeconds]).ConfigureAwait(false) == 1;

    /// <summary>The records of every live key, in no particular order.</summary>
    public async Task<IReadOnlyList<string>> ListAsync()
    {
        var result = (RedisResult[])(await RedisConnection.EvaluateAsync(_connection, ListScript, [_keys, _revoked], []).ConfigureAwait(false))!;
        return [.. result.Select(r => (string)r!)];
    }

    /// <summary>Whether a key was ever created (revoked ones count: revoking the last key does not reopen a gateway).</summary>
    public async Task<bool> AnyAsync() =>
        (long)await RedisConnection.EvaluateAsync(_connection, AnyScript, [_keys], []).ConfigureAwait(false) > 0;
}

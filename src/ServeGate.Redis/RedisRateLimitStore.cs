using ServeGate.Core.Limits;
using StackExchange.Redis;

namespace ServeGate.Redis;

/// <summary>
/// Limit counters in Redis, shared by every gateway replica. Check-and-reserve is one Lua script (all counters within
/// their limits, then INCRBY all, or nothing), so concurrent gateways never both take the last unit. A Redis that
/// cannot be reached surfaces as <see cref="RateLimitStoreUnavailableException"/>: the gateway fails open or closed.
/// </summary>
public sealed class RedisRateLimitStore : IRateLimitStore, IDisposable
{
    // ARGV per key: amount, limit (-1 = none), ttl in ms. Returns {1, v1..vn} or {0, refused index (1-based), v1..vn}.
    private const string TryAddAllScript = """
        local n = #KEYS
        local values = {}
        for i = 1, n do
          local current = tonumber(redis.call('GET', KEYS[i]) or '0')
          values[i] = current
          local amount = tonumber(ARGV[(i - 1) * 3 + 1])
          local limit = tonumber(ARGV[(i - 1) * 3 + 2])
          if limit >= 0 and current + amount > limit then
            local refused = {0, i}
            for j = 1, n do refused[j + 2] = values[j] or tonumber(redis.call('GET', KEYS[j]) or '0') end
            return refused
          end
        end
        local result = {1}
        for i = 1, n do
          local v = redis.call('INCRBY', KEYS[i], ARGV[(i - 1) * 3 + 1])
          if redis.call('PTTL', KEYS[i]) < 0 then redis.call('PEXPIRE', KEYS[i], ARGV[(i - 1) * 3 + 3]) end
          result[i + 1] = v
        end
        return result
        """;

    private const string AddScript = """
        for i = 1, #KEYS do
          redis.call('INCRBY', KEYS[i], ARGV[(i - 1) * 2 + 1])
          if redis.call('PTTL', KEYS[i]) < 0 then redis.call('PEXPIRE', KEYS[i], ARGV[(i - 1) * 2 + 2]) end
        end
        return 1
        """;

    private readonly ConnectionMultiplexer _connection;
    private readonly bool _ownsConnection;

    /// <summary>A store over a connection shared with other users of the same Redis (not disposed with the store).</summary>
    public RedisRateLimitStore(ConnectionMultiplexer connection)
        : this(connection, ownsConnection: false)
    {
    }

    private RedisRateLimitStore(ConnectionMultiplexer connection, bool ownsConnection)
    {
        _connection = connection ?? throw new ArgumentNullException(nameof(connection));
        _ownsConnection = ownsConnection;
    }

    /// <summary>A store with a connection of its own (see <see cref="RedisConnection.Connect"/>).</summary>
    public static RedisRateLimitStore Connect(string configuration, TimeSpan timeout) =>
        new(RedisConnection.Connect(configuration, timeout), ownsConnection: true);

    public async ValueTask<CounterResult> TryAddAllAsync(IReadOnlyList<CounterAdd> adds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(adds);
        var keys = new RedisKey[adds.Count];
        var args = new RedisValue[adds.Count * 3];
        for (var i = 0; i < adds.Count; i++)
        {
            keys[i] = adds[i].Key;
            args[i * 3] = adds[i].Amount;
            args[(i * 3) + 1] = adds[i].Limit;
            args[(i * 3) + 2] = (long)adds[i].Ttl.TotalMilliseconds;
        }

        var result = (RedisResult[])(await EvaluateAsync(TryAddAllScript, keys, args).ConfigureAwait(false))!;
        var allowed = (long)result[0] == 1;
        var offset = allowed ? 1 : 2;
        var values = new long[adds.Count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (long)result[offset + i];
        }

        return allowed ? new CounterResult(true, -1, values) : CounterResult.Refused((int)(long)result[1] - 1, values);
    }

    public async ValueTask AddAsync(IReadOnlyList<CounterAdd> adds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(adds);
        var keys = new RedisKey[adds.Count];
        var args = new RedisValue[adds.Count * 2];
        for (var i = 0; i < adds.Count; i++)
        {
            keys[i] = adds[i].Key;
            args[i * 2] = adds[i].Amount;
            args[(i * 2) + 1] = (long)adds[i].Ttl.TotalMilliseconds;
        }

        await EvaluateAsync(AddScript, keys, args).ConfigureAwait(false);
    }

    private async Task<RedisResult> EvaluateAsync(string script, RedisKey[] keys, RedisValue[] args)
    {
        try
        {
            return await RedisConnection.EvaluateAsync(_connection, script, keys, args).ConfigureAwait(false);
        }
        catch (RedisUnavailableException ex)
        {
            throw new RateLimitStoreUnavailableException(ex.Message, ex.InnerException);
        }
    }

    public void Dispose()
    {
        if (_ownsConnection)
        {
            _connection.Dispose();
        }
    }
}

using System.Globalization;
using StackExchange.Redis;

namespace ServeGate.Redis;

/// <summary>How ServeGate connects to Redis and runs its Lua scripts, shared by the limit store and the key directory.</summary>
public static class RedisConnection
{
    /// <summary>
    /// Connects without failing when Redis is down (<c>abortConnect=false</c>): the multiplexer reconnects in the
    /// background with exponential back-off, and while it is disconnected calls fail at once instead of waiting in the
    /// backlog (<see cref="BacklogPolicy.FailFast"/>), so a gateway's fail-open or fail-closed answer is not delayed.
    /// </summary>
    public static ConnectionMultiplexer Connect(string configuration, TimeSpan timeout)
    {
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = (int)timeout.TotalMilliseconds;
        options.SyncTimeout = (int)timeout.TotalMilliseconds;
        options.ConnectRetry = 1;
        options.BacklogPolicy = BacklogPolicy.FailFast;
        options.ReconnectRetryPolicy = new ExponentialRetry(deltaBackOffMilliseconds: 250, maxDeltaBackOffMilliseconds: 5_000);
        return ConnectionMultiplexer.Connect(options);
    }

    /// <summary>
    /// Runs a script (sent once, then by its SHA-1 through EVALSHA; reloaded by the client if Redis restarted and lost
    /// it); a Redis that cannot be reached surfaces as <see cref="RedisUnavailableException"/>.
    /// </summary>
    public static async Task<RedisResult> EvaluateAsync(ConnectionMultiplexer connection, string script, RedisKey[] keys, RedisValue[] args)
    {
        ArgumentNullException.ThrowIfNull(connection);
        try
        {
            return await connection.GetDatabase().ScriptEvaluateAsync(script, keys, args).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException or TimeoutException)
        {
            throw new RedisUnavailableException(string.Create(CultureInfo.InvariantCulture, $"Redis is unavailable: {ex.GetType().Name}."), ex);
        }
    }
}

/// <summary>Redis could not be reached (or did not answer in time).</summary>
public sealed class RedisUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

using System.Globalization;
using StackExchange.Redis;

namespace ServeGate.Redis;

/// <summary>How ServeGate connects to Redis and runs its Lua scripts, shared by the limit store and the key directory.</summary>
public static class RedisConnection
{
    /// <summary>
    /// Connects without failing when Redis is down (<c>abortConnect=false</c>): the multiplexer keeps retrying and calls
    /// fail fast (within <paramref name="timeout"/>) until it is back.
    /// </summary>
    public static ConnectionMultiplexer Connect(string configuration, TimeSpan timeout)
    {
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = (int)timeout.TotalMilliseconds;
        options.SyncTimeout = (int)timeout.TotalMilliseconds;
        options.ConnectRetry = 1;
        return ConnectionMultiplexer.Connect(options);
    }

    /// <summary>Runs a script; a Redis that cannot be reached surfaces as <see cref="RedisUnavailableException"/>.</summary>
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

using System.Net;
using ServeGate.Core.Limits;
using ServeGate.Redis;
using ServeGate.Tests.Common;

namespace ServeGate.Gateway.Tests;

/// <summary>The Redis limit store against a real redis-server (one per class, a unique key prefix per test).</summary>
public sealed class RedisRateLimitStoreTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static string Me() => "test:" + Guid.NewGuid().ToString("N") + ":";

    [Fact]
    public async Task TryAddAllAsync_WithinLimits_AddsAllAndReturnsValues()
    {
        using var store = RedisRateLimitStore.Connect(redis.Configuration, TimeSpan.FromSeconds(2));
        var prefix = Me();
        CounterAdd[] adds = [new(prefix + "a", 3, 10, TimeSpan.FromMinutes(1)), new(prefix + "b", 5, -1, TimeSpan.FromMinutes(1))];

        var first = await store.TryAddAllAsync(adds, CancellationToken.None);
        var second = await store.TryAddAllAsync(adds, CancellationToken.None);

        Assert.True(first.Allowed);
        Assert.Equal([3L, 5L], first.Values);
        Assert.True(second.Allowed);
        Assert.Equal([6L, 10L], second.Values);
    }

    [Fact]
    public async Task TryAddAllAsync_OneOverLimit_AddsNothing()
    {
        using var store = RedisRateLimitStore.Connect(redis.Configuration, TimeSpan.FromSeconds(2));
        var prefix = Me();
        CounterAdd[] adds = [new(prefix + "a", 1, 10, TimeSpan.FromMinutes(1)), new(prefix + "b", 7, 10, TimeSpan.FromMinutes(1))];

        await store.TryAddAllAsync(adds, CancellationToken.None);
        var refused = await store.TryAddAllAsync(adds, CancellationToken.None);
        await store.AddAsync([new(prefix + "b", -7, -1, TimeSpan.FromMinutes(1))], CancellationToken.None); // settle
        var afterSettle = await store.TryAddAllAsync(adds, CancellationToken.None);

        Assert.False(refused.Allowed);
        Assert.Equal(1, refused.RefusedIndex);
        Assert.Equal([1L, 7L], refused.Values);
        Assert.True(afterSettle.Allowed);
        Assert.Equal([2L, 7L], afterSettle.Values);
    }

    [Fact]
    public async Task TryAddAllAsync_200ConcurrentFromTwoClients_ExactlyLimitAllowed()
    {
        using var a = RedisRateLimitStore.Connect(redis.Configuration, TimeSpan.FromSeconds(2));
        using var b = RedisRateLimitStore.Connect(redis.Configuration, TimeSpan.FromSeconds(2));
        var key = Me() + "req";
        var allowed = 0;

        await Parallel.ForAsync(0, 200, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        {
            var result = await (i % 2 == 0 ? a : b).TryAddAllAsync([new CounterAdd(key, 1, 50, TimeSpan.FromMinutes(1))], ct);
            if (result.Allowed)
            {
                Interlocked.Increment(ref allowed);
            }
        });

        Assert.Equal(50, allowed);
    }

    [Fact]
    public async Task RateLimiter_OnRedis_ReservesThenSettlesLikeInProcess()
    {
        using var store = RedisRateLimitStore.Connect(redis.Configuration, TimeSpan.FromSeconds(2));
        var (limiter, _) = RateLimiterTests.Create(store);
        var key = RateLimiterTests.Key(tpm: 100);
        var request = RateLimiterTests.Request(bodyBytes: 100, maxTokens: 50); // reserves 75

        var first = await limiter.ReserveAsync(key, request, CancellationToken.None);
        request.Reservation = first!.Reservation;
        var refused = await limiter.ReserveAsync(key, RateLimiterTests.Request(100, 50), CancellationToken.None);
        await limiter.OnUsageAsync(request, RateLimiterTests.Usage(request, prompt: 12, completion: 8));
        var allowed = await limiter.ReserveAsync(key, RateLimiterTests.Request(100, 50), CancellationToken.None);

        Assert.True(first.Allowed);
        Assert.False(refused!.Allowed);
        Assert.Equal("25", refused.Headers["x-ratelimit-remaining-tokens"]);
        Assert.True(allowed!.Allowed);
        Assert.Equal("5", allowed.Headers["x-ratelimit-remaining-tokens"]);
    }

    [Fact]
    public async Task TryAddAllAsync_RedisDown_ThrowsUnavailable()
    {
        using var store = RedisRateLimitStore.Connect($"127.0.0.1:{TestEnvironment.FreePort()}", TimeSpan.FromMilliseconds(300));

        await Assert.ThrowsAsync<RateLimitStoreUnavailableException>(async () =>
            await store.TryAddAllAsync([new CounterAdd(Me() + "x", 1, 5, TimeSpan.FromMinutes(1))], CancellationToken.None));
    }

    [Fact]
    public async Task TryAddAllAsync_RedisDown_FailsWellWithinTheTimeout()
    {
        // FailFast backlog: a disconnected multiplexer refuses at once instead of queueing until the sync timeout.
        using var store = RedisRateLimitStore.Connect($"127.0.0.1:{TestEnvironment.FreePort()}", TimeSpan.FromSeconds(5));
        var started = System.Diagnostics.Stopwatch.StartNew();

        await Assert.ThrowsAsync<RateLimitStoreUnavailableException>(async () =>
            await store.TryAddAllAsync([new CounterAdd(Me() + "x", 1, 5, TimeSpan.FromMinutes(1))], CancellationToken.None));

        Assert.True(started.Elapsed < TimeSpan.FromSeconds(2), $"took {started.Elapsed}");
    }

    [Fact]
    public async Task TryAddAllAsync_AfterRedisFlushedItsScripts_StillRuns()
    {
        using var store = RedisRateLimitStore.Connect(redis.Configuration, TimeSpan.FromSeconds(2));
        var key = Me() + "a";
        await store.TryAddAllAsync([new CounterAdd(key, 1, 10, TimeSpan.FromMinutes(1))], CancellationToken.None);
        using (var admin = StackExchange.Redis.ConnectionMultiplexer.Connect(redis.Configuration + ",allowAdmin=true"))
        {
            await admin.GetServer(redis.Configuration).ScriptFlushAsync(); // as a restarted Redis would have lost them
        }

        var after = await store.TryAddAllAsync([new CounterAdd(key, 1, 10, TimeSpan.FromMinutes(1))], CancellationToken.None);

        Assert.True(after.Allowed);
        Assert.Equal([2L], after.Values);
    }
}

/// <summary>
/// Fail-open and fail-closed through HTTP when the Redis the gateway is configured with goes down: limits and API keys
/// both live there. Open: a key this gateway verified before keeps working, one it never saw cannot be vouched for (503).
/// Closed: 503.
/// </summary>
public sealed class RedisFailModeTests
{
    private static async Task<(HttpStatusCode Known, HttpStatusCode Unknown)> StatusWithRedisDownAsync(string failMode)
    {
        var redis = new RedisServer();
        await redis.InitializeAsync();
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>
        {
            ["ServeGate:Gateway:Limits:Store"] = "Redis",
            ["ServeGate:Gateway:Limits:Redis"] = redis.Configuration,
            ["ServeGate:Gateway:Limits:FailMode"] = failMode,
        });
        var body = new { model = GatewayHost.BaseModel, prompt = "Hi", max_tokens = 1 };
        var (_, known) = await SharedKeysTests.CreateKeyAsync(gateway, "t");
        var (_, unknown) = await SharedKeysTests.CreateKeyAsync(gateway, "t");
        using (var before = await gateway.PostAsync("/v1/completions", body, apiKey: known))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        await redis.DisposeAsync();
        using var knownResponse = await gateway.PostAsync("/v1/completions", body, apiKey: known);
        using var unknownResponse = await gateway.PostAsync("/v1/completions", body, apiKey: unknown);
        return (knownResponse.StatusCode, unknownResponse.StatusCode);
    }

    [Fact]
    public async Task Completions_RedisDownFailOpen_KnownKeyServedUnknownKey503()
    {
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.ServiceUnavailable), await StatusWithRedisDownAsync("Open"));
    }

    [Fact]
    public async Task Completions_RedisDownFailClosed_Returns503()
    {
        Assert.Equal((HttpStatusCode.ServiceUnavailable, HttpStatusCode.ServiceUnavailable), await StatusWithRedisDownAsync("Closed"));
    }
}

/// <summary>Settlements made while Redis is down are spooled to a file and replayed when it is back.</summary>
public sealed class SettlementSpoolTests
{
    [Fact]
    public async Task OnUsageAsync_RedisDown_SpoolsAndReplaysWhenBack()
    {
        var port = TestEnvironment.FreePort();
        var directory = Directory.CreateTempSubdirectory("servegate-spool-").FullName;
        using var store = RedisRateLimitStore.Connect($"127.0.0.1:{port}", TimeSpan.FromMilliseconds(500));
        var metering = Microsoft.Extensions.Options.Options.Create(new ServeGate.Ledger.MeteringOptions { DatabasePath = Path.Combine(directory, "usage.db") });
        using var spool = new ServeGate.Gateway.Limits.SettlementSpool(metering, store, Microsoft.Extensions.Logging.Abstractions.NullLogger<ServeGate.Gateway.Limits.SettlementSpool>.Instance);
        var limiter = new ServeGate.Gateway.Limits.RateLimiter(store, Microsoft.Extensions.Options.Options.Create(new GatewayOptions()), new ManualTime(DateTimeOffset.UtcNow), spool);
        var request = RateLimiterTests.Request(bodyBytes: 100, maxTokens: 50);
        var counter = "test:" + Guid.NewGuid().ToString("N") + ":tok";
        request.Reservation = new ServeGate.Gateway.Limits.LimitReservation([new CounterAdd(counter, 75, 100, TimeSpan.FromMinutes(5))], [], 75, 0);

        await limiter.OnUsageAsync(request, RateLimiterTests.Usage(request, prompt: 12, completion: 8)); // Redis down: -55 spooled
        Assert.True(File.Exists(spool.FilePath));

        var redis = new RedisServer { RequestedPort = port };
        await redis.InitializeAsync();
        var replayed = false;
        CounterResult value;
        try
        {
            for (var i = 0; i < 40 && !replayed; i++)
            {
                replayed = await spool.ReplayAsync(CancellationToken.None);
                if (!replayed)
                {
                    await Task.Delay(250);
                }
            }

            value = await store.TryAddAllAsync([new CounterAdd(counter, 0, -1, TimeSpan.FromMinutes(5))], CancellationToken.None);
        }
        finally
        {
            await redis.DisposeAsync();
        }

        Assert.True(replayed);
        Assert.False(File.Exists(spool.FilePath));
        Assert.Equal(-55, value.Values[0]);
    }
}

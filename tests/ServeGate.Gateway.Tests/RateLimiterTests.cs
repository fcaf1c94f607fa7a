using Microsoft.Extensions.Options;
using ServeGate.Core.Limits;
using ServeGate.Gateway.Auth;
using ServeGate.Gateway.Limits;
using ServeGate.Gateway.Pipeline;
using ServeGate.Ledger;

namespace ServeGate.Gateway.Tests;

/// <summary>Reserve-then-settle arithmetic of the limits, on the in-process store with a clock the test moves.</summary>
public sealed class RateLimiterTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 22, 10, 0, 5, TimeSpan.Zero);

    internal static (RateLimiter Limiter, ManualTime Time) Create(IRateLimitStore? store = null, GatewayOptions? options = null)
    {
        var time = new ManualTime(Start);
        options ??= new GatewayOptions();
        options.Limits.KeyPrefix = "test:" + Guid.NewGuid().ToString("N") + ":";
        return (new RateLimiter(store ?? new InProcessRateLimitStore(time), Options.Create(options), time), time);
    }

    internal static GatewayRequest Request(int bodyBytes, int maxTokens, string model = "m") => new()
    {
        RequestId = "req-" + Guid.NewGuid().ToString("N"),
        StartTimestamp = 0,
        ReceivedAt = Start,
        Model = model,
        BodyBytes = bodyBytes,
        MaxTokens = maxTokens,
    };

    internal static ApiKey Key(int? rpm = null, int? tpm = null, decimal? budget = null, string team = "t") => new()
    {
        Id = "key_" + Guid.NewGuid().ToString("N"),
        Name = "n",
        Team = team,
        RequestsPerMinute = rpm,
        TokensPerMinute = tpm,
        BudgetUsd = budget,
        BudgetPeriod = BudgetPeriod.Day,
        CreatedAt = Start,
        Prefix = "sg-",
    };

    internal static UsageRecord Usage(GatewayRequest request, int prompt, int completion, decimal cost = 0) => new()
    {
        RequestId = request.RequestId,
        Timestamp = Start,
        KeyId = "k",
        Team = "t",
        Model = request.Model,
        Worker = "local",
        Endpoint = "/v1/completions",
        PromptTokens = prompt,
        CompletionTokens = completion,
        HttpStatus = 200,
        CostUsd = cost,
    };

    [Fact]
    public async Task ReserveAsync_NoLimits_ReturnsNull()
    {
        var (limiter, _) = Create();

        Assert.Null(await limiter.ReserveAsync(Key(), Request(100, 10), CancellationToken.None));
    }

    [Fact]
    public async Task ReserveAsync_RequestsPerMinute_RefusesThenResetsNextMinute()
    {
        var (limiter, time) = Create();
        var key = Key(rpm: 2);

        var first = await limiter.ReserveAsync(key, Request(100, 10), CancellationToken.None);
        var second = await limiter.ReserveAsync(key, Request(100, 10), CancellationToken.None);
        var third = await limiter.ReserveAsync(key, Request(100, 10), CancellationToken.None);
        time.Now = time.Now.AddMinutes(1);
        var nextMinute = await limiter.ReserveAsync(key, Request(100, 10), CancellationToken.None);

        Assert.True(first!.Allowed);
        Assert.Equal("1", first.Headers["x-ratelimit-remaining-requests"]);
        Assert.True(second!.Allowed);
        Assert.False(third!.Allowed);
        Assert.Equal("2", third.Headers["x-ratelimit-limit-requests"]);
        Assert.Equal("0", third.Headers["x-ratelimit-remaining-requests"]);
        Assert.Equal(TimeSpan.FromSeconds(55), third.RetryAfter);
        Assert.True(nextMinute!.Allowed);
    }

    [Fact]
    public async Task OnUsageAsync_ActualBelowEstimate_ReleasesTokens()
    {
        var (limiter, _) = Create();
        var key = Key(tpm: 100);
        var request = Request(bodyBytes: 100, maxTokens: 50); // reserves 100/4 + 50 = 75

        var first = await limiter.ReserveAsync(key, request, CancellationToken.None);
        request.Reservation = first!.Reservation;
        var refused = await limiter.ReserveAsync(key, Request(100, 50), CancellationToken.None); // 75 + 75 > 100
        await limiter.OnUsageAsync(request, Usage(request, prompt: 12, completion: 8)); // settles to 20
        var allowed = await limiter.ReserveAsync(key, Request(100, 50), CancellationToken.None); // 20 + 75 <= 100

        Assert.True(first.Allowed);
        Assert.Equal("25", first.Headers["x-ratelimit-remaining-tokens"]);
        Assert.False(refused!.Allowed);
        Assert.True(allowed!.Allowed);
        Assert.Equal("5", allowed.Headers["x-ratelimit-remaining-tokens"]);
    }

    [Fact]
    public async Task ReserveAsync_TeamLimit_SharedByKeysOfTheTeam()
    {
        var options = new GatewayOptions();
        options.Teams["research"] = new TeamLimits { RequestsPerMinute = 3 };
        var (limiter, _) = Create(options: options);
        var a = Key(team: "research");
        var b = Key(team: "research");

        var results = new List<bool>();
        foreach (var key in new[] { a, b, a, b })
        {
            results.Add((await limiter.ReserveAsync(key, Request(10, 1), CancellationToken.None))!.Allowed);
        }

        Assert.Equal([true, true, true, false], results);
    }

    [Fact]
    public async Task ReserveAsync_BudgetSpent_RefusesAsInsufficientQuotaUntilNextDay()
    {
        var options = new GatewayOptions();
        options.Prices["default"] = new TokenPrice { Input = 1_000_000m, Output = 1_000_000m }; // $1 a token
        var (limiter, time) = Create(options: options);
        var key = Key(budget: 10m);
        var request = Request(bodyBytes: 16, maxTokens: 4); // reserves $8

        var first = await limiter.ReserveAsync(key, request, CancellationToken.None);
        request.Reservation = first!.Reservation;
        await limiter.OnUsageAsync(request, Usage(request, prompt: 4, completion: 4, cost: 8m));
        var second = await limiter.ReserveAsync(key, Request(16, 4), CancellationToken.None);
        time.Now = time.Now.AddDays(1);
        var tomorrow = await limiter.ReserveAsync(key, Request(16, 4), CancellationToken.None);

        Assert.True(first.Allowed);
        Assert.False(second!.Allowed);
        Assert.True(second.Budget);
        Assert.True(tomorrow!.Allowed);
    }
}

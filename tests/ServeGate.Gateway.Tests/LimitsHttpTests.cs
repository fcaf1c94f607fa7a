using System.Net;
using System.Net.Http.Headers;

namespace ServeGate.Gateway.Tests;

/// <summary>Limits through real HTTP: 429, Retry-After and x-ratelimit-* headers like OpenAI's.</summary>
public sealed class LimitsHttpTests
{
    [Fact]
    public async Task Completions_OverRequestsPerMinute_Returns429WithHeaders()
    {
        await using var gateway = await GatewayHost.StartAsync();
        using var create = await gateway.Http.PostAsync(new Uri("/admin/keys", UriKind.Relative), GatewayHost.Json(new { name = "n", team = "t", requests_per_minute = 2, tokens_per_minute = 100_000 }));
        var key = (string)GatewayHost.Parse(await create.Content.ReadAsStringAsync())!["key"]!;
        while (DateTimeOffset.UtcNow.Second > 55)
        {
            await Task.Delay(500); // all three requests in one minute window
        }

        var responses = new List<HttpResponseMessage>();
        for (var i = 0; i < 3; i++)
        {
            responses.Add(await gateway.PostAsync("/v1/completions", new { model = GatewayHost.BaseModel, prompt = "Hi", max_tokens = 2 }, apiKey: key));
        }

        Assert.Equal(HttpStatusCode.OK, responses[0].StatusCode);
        Assert.Equal("1", responses[0].Headers.GetValues("x-ratelimit-remaining-requests").Single());
        Assert.Equal("100000", responses[0].Headers.GetValues("x-ratelimit-limit-tokens").Single());
        Assert.Equal(HttpStatusCode.TooManyRequests, responses[2].StatusCode);
        Assert.InRange(int.Parse(responses[2].Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture), 1, 60);
        Assert.Equal("0", responses[2].Headers.GetValues("x-ratelimit-remaining-requests").Single());
        Assert.EndsWith("s", responses[2].Headers.GetValues("x-ratelimit-reset-requests").Single(), StringComparison.Ordinal);
        var error = GatewayHost.Parse(await responses[2].Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal("rate_limit_exceeded", (string?)error["code"]);
        var records = await gateway.WaitForUsageAsync(3);
        Assert.Contains(records, r => r.HttpStatus == 429);
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }
}

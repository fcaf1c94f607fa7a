using System.Text.RegularExpressions;

namespace ServeGate.Gateway.Tests;

/// <summary><c>GET /metrics</c> in Prometheus text format, fed by the same usage records as the ledger.</summary>
[Collection(SharedGatewayCollection.Name)]
public sealed class MetricsTests(SharedGateway shared)
{
    [Fact]
    public async Task Metrics_AfterRequests_ExposesRequestsTokensTtftAndCostPerModel()
    {
        using var response = await shared.Host.PostAsync("/v1/completions", new { model = GatewayHost.BaseModel, prompt = "Hello", max_tokens = 3, stream = true });
        await GatewayHost.ReadEventsAsync(response);

        // The record reaches the counters right after the response ends, on another thread: wait for it, boundedly.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        string text;
        while (true)
        {
            text = await shared.Host.Http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
            if (Regex.IsMatch(text, "servegate_requests_total\\{model=\"tiny-base\",outcome=\"completed\"") || DateTime.UtcNow > deadline)
            {
                break;
            }

            await Task.Delay(50);
        }

        Assert.Contains("# TYPE servegate_requests_total counter", text, StringComparison.Ordinal);
        Assert.Matches("servegate_requests_total\\{model=\"tiny-base\",outcome=\"completed\",status=\"200\",worker=\"local\"\\} [1-9]", text);
        Assert.Matches("servegate_tokens_total\\{model=\"tiny-base\",type=\"completion\",worker=\"local\"\\} [1-9]", text);
        Assert.Contains("servegate_tokens_total{model=\"tiny-base\",type=\"cached\",worker=\"local\"}", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE servegate_time_to_first_token_seconds histogram", text, StringComparison.Ordinal);
        Assert.Contains("servegate_time_to_first_token_seconds_bucket{model=\"tiny-base\",worker=\"local\",le=\"+Inf\"}", text, StringComparison.Ordinal);
        Assert.Contains("servegate_cost_usd_total{model=\"tiny-base\",worker=\"local\"}", text, StringComparison.Ordinal);
        Assert.Contains("servegate_usage_queue ", text, StringComparison.Ordinal);

        // The in-process worker's scheduler: queue depth and the prefix cache.
        Assert.Contains("servegate_scheduler_queue{model=\"tiny-base\"}", text, StringComparison.Ordinal);
        Assert.Matches("servegate_scheduler_steps_total\\{model=\"tiny-base\"\\} [1-9]", text);
        Assert.Contains("servegate_kv_prefix_hits_total{model=\"tiny-base\"}", text, StringComparison.Ordinal);
        Assert.Matches("servegate_kv_prefix_misses_total\\{model=\"tiny-base\"\\} [1-9]", text);
        Assert.Contains("servegate_kv_hit_ratio{model=\"tiny-base\"}", text, StringComparison.Ordinal);
        Assert.Contains("servegate_kv_copies_total{model=\"tiny-base\"}", text, StringComparison.Ordinal);
        Assert.Contains("servegate_kv_recomputed_tokens_total{model=\"tiny-base\"}", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_RequestsNamingModelsNotServed_OneUnknownLabelNotTheirNames()
    {
        var before = (await shared.Host.Http.GetStringAsync(new Uri("/metrics", UriKind.Relative))).Split('\n').Length;
        var names = Enumerable.Range(0, 40).Select(i => "made-up-" + Guid.NewGuid().ToString("N")).Append(new string('m', 5_000)).ToArray();
        foreach (var name in names)
        {
            using var response = await shared.Host.PostAsync("/v1/completions", new { model = name, prompt = "Hello", max_tokens = 1 });
            Assert.Equal(System.Net.HttpStatusCode.NotFound, response.StatusCode);
        }

        // The records reach the counters on another thread: wait, boundedly, for the unknown label to appear.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        string text;
        do
        {
            text = await shared.Host.Http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
            await Task.Delay(50);
        }
        while (!text.Contains("model=\"unknown\"", StringComparison.Ordinal) && DateTime.UtcNow < deadline);

        Assert.Contains("model=\"unknown\"", text, StringComparison.Ordinal);
        Assert.All(names, name => Assert.DoesNotContain(name, text, StringComparison.Ordinal));
        Assert.InRange(text.Split('\n').Length - before, 0, 40); // a fixed set of unknown series, not one per name
    }
}
